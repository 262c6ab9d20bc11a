"""One small factory per integration path. Each returns the library's own object, configured from
the environment (``helpers.config``); the notebooks then make the real calls on it.

Every factory takes an optional ``Settings`` (default: ``load_settings()``, the ``AZURE_INFERENCE_*``
variables) and passes any keyword arguments through to the library.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .auth import LoopbackBearerPolicy, StandInEntraCredential, bearer_token_provider, entra_scope, sdk_credential
from .config import Settings, load_settings, nearest_kind
from .constants import API_VERSION

# What each library can talk to. The Azure AI Inference SDK speaks only the Azure AI Model Inference API.
AZURE_AI_INFERENCE_KINDS = ("foundry-models", "serverless", "managed")


def _settings(settings: Settings | None) -> Settings:
    return settings or load_settings()


def _with_header(headers: dict[str, str] | None, name: str, value: str) -> dict[str, str]:
    """A copy of ``headers`` plus one header (the caller's dict is left as it was)."""
    return {**(headers or {}), name: value}


def _azure_kwargs(s: Settings, credential: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    if s.deployment:  # managed compute: pick the deployment behind the endpoint
        kwargs["headers"] = _with_header(kwargs.get("headers"), "azureml-model-deployment", s.deployment)
    if isinstance(credential, StandInEntraCredential):
        kwargs.setdefault("authentication_policy", LoopbackBearerPolicy(credential))
    elif s.auth == "entra":
        kwargs.setdefault("credential_scopes", [entra_scope(s)])
    if s.on_resource:  # one endpoint, many deployments: the model names the deployment
        kwargs.setdefault("model", s.model)
    return kwargs


def azure_settings(settings: Settings | None = None) -> Settings:
    """``settings`` for the Azure AI Inference SDK: an OpenAI v1 endpoint becomes the same resource's ``/models``
    endpoint (said in one printed line), the only Foundry endpoint the SDK speaks to."""
    return nearest_kind(_settings(settings), AZURE_AI_INFERENCE_KINDS, "azure-ai-inference")


def azure_client(settings: Settings | None = None, credential: Any = None, **kwargs: Any):
    """``azure.ai.inference.ChatCompletionsClient`` for the endpoint, with a key or Entra ID (or ``credential=``).
    The page's SDK, retired on 2026-08-26; today's path is ``openai_client``."""
    from azure.ai.inference import ChatCompletionsClient

    s = azure_settings(settings)
    credential = credential or sdk_credential(s)
    return ChatCompletionsClient(endpoint=s.endpoint, credential=credential, **_azure_kwargs(s, credential, kwargs))


def azure_async_client(settings: Settings | None = None, credential: Any = None, **kwargs: Any):
    """The ``azure.ai.inference.aio`` flavour of ``azure_client``; use it with ``async with``.

    With Entra ID, pass your own ``azure.identity.aio.DefaultAzureCredential()`` as ``credential=`` and close it
    too (``async with credential, azure_async_client(settings, credential=credential) as client:``): closing the
    client does not close its credential, whose HTTP sessions would otherwise stay open.
    """
    from azure.ai.inference.aio import ChatCompletionsClient

    s = azure_settings(settings)
    credential = credential or sdk_credential(s, use_async=True)
    return ChatCompletionsClient(endpoint=s.endpoint, credential=credential, **_azure_kwargs(s, credential, kwargs))


def openai_base_url(settings: Settings | None = None) -> str:
    """The OpenAI SDK's ``base_url``: a v1 endpoint as it is, a ``/models`` endpoint as it is (with ``api-version`` as a
    default query), a serverless or managed endpoint plus its OpenAI-compatible ``/v1`` route."""
    s = _settings(settings)
    return s.endpoint if s.on_resource else f"{s.endpoint}/v1"


def _openai_kwargs(s: Settings, kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs.setdefault("base_url", openai_base_url(s))
    if s.kind == "foundry-models":
        kwargs["default_query"] = {"api-version": API_VERSION, **(kwargs.get("default_query") or {})}
    if "api_key" not in kwargs:
        kwargs["api_key"] = s.credential if s.auth == "key" else bearer_token_provider(s)
    if s.deployment:
        kwargs["default_headers"] = _with_header(
            kwargs.get("default_headers"), "azureml-model-deployment", s.deployment
        )
    return kwargs


def openai_client(settings: Settings | None = None, **kwargs: Any):
    """``openai.OpenAI`` for the endpoint (``openai_base_url``). Calls need ``model=``: the deployment's name on a
    Foundry resource (``settings.model``); serverless endpoints ignore it."""
    import openai

    return openai.OpenAI(**_openai_kwargs(_settings(settings), kwargs))


def async_openai_client(settings: Settings | None = None, **kwargs: Any):
    """``openai.AsyncOpenAI`` for the endpoint (``openai_base_url``)."""
    import openai

    s = _settings(settings)
    if s.auth == "entra" and "api_key" not in kwargs:
        provider = bearer_token_provider(s)

        async def token() -> str:
            # Getting a new token can run `az` or call Entra ID: in a thread, so the event loop keeps going.
            return await asyncio.to_thread(provider)

        kwargs["api_key"] = token
    return openai.AsyncOpenAI(**_openai_kwargs(s, kwargs))


def _langchain_kwargs(s: Settings, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The model (the deployment on a resource), managed compute's deployment header, and the key or a token function
    as ``api_key``: LangChain then builds its OpenAI clients with our headers and options."""
    kwargs.setdefault("model", s.model)
    if s.deployment:
        kwargs["default_headers"] = _with_header(
            kwargs.get("default_headers"), "azureml-model-deployment", s.deployment
        )
    kwargs.setdefault("api_key", s.credential if s.auth == "key" else bearer_token_provider(s))
    return kwargs


def langchain_chat(settings: Settings | None = None, **kwargs: Any):
    """LangChain's ``ChatOpenAI`` (langchain-openai) on the endpoint's OpenAI-compatible route (``openai_base_url``).

    ChatOpenAI rather than langchain-azure-ai's ``AzureAIOpenAIApiChatModel``: with a key the two send the same
    requests, but the latter switches to the Responses API and drops ``default_headers`` as soon as it gets a
    TokenCredential as ``credential=``, or ``credential=`` with an ``api_version`` (also from AZURE_OPENAI_API_VERSION):
    langchain_azure_ai/_resources.py, 1.2.12; notebook 04 shows it. Pass LangChain options as keyword arguments, e.g.
    ``temperature=0``. The page's class, ``AzureAIChatCompletionsModel``, is deprecated: ``langchain_chat_page``.
    """
    from langchain_openai import ChatOpenAI

    s = _settings(settings)
    if s.kind == "foundry-models":  # ChatOpenAI cannot add the api-version to every request: use the v1 endpoint
        s = nearest_kind(s, ("openai-v1", "serverless", "managed"), "ChatOpenAI")
    return ChatOpenAI(base_url=openai_base_url(s), **_langchain_kwargs(s, kwargs))


def langchain_chat_page(settings: Settings | None = None, **kwargs: Any):
    """The page's ``AzureAIChatCompletionsModel`` on ``<endpoint>/v1`` (deprecated by langchain-azure-ai: it needs the
    Azure AI Inference SDK, retired on 2026-08-26). Kept to show the page's code; use ``langchain_chat``.

    Options LangChain turns into extra parameters (``max_tokens`` becomes ``max_completion_tokens``) need
    ``default_headers={"extra-parameters": "pass-through"}``.
    """
    # From its own module: langchain_azure_ai.chat_models.AzureAIChatCompletionsModel now quietly stands for
    # AzureAIOpenAIApiChatModel (langchain-azure-ai 1.2); this import is the deprecated class itself.
    from langchain_azure_ai.chat_models.inference import AzureAIChatCompletionsModel

    s = _settings(settings)
    return AzureAIChatCompletionsModel(endpoint=openai_base_url(s), **_langchain_kwargs(s, kwargs))


def litellm_params(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``litellm.completion``: ``model="azure_ai/<deployment>"``, ``api_base`` (the endpoint as
    it is: LiteLLM's ``azure_ai/`` posts to ``<api_base>/chat/completions``), and ``api_key`` (a key) or
    ``azure_ad_token_provider`` (Entra ID: LiteLLM asks it for a valid token on every call). On a ``/models`` endpoint
    also ``api_version``, which LiteLLM does not add by itself.

    Use the ``<resource>.openai.azure.com`` host for the v1 endpoint: with a ``services.ai.azure.com`` host, LiteLLM
    1.110 posts to ``<api_base>/models/chat/completions``."""
    s = _settings(settings)
    params: dict[str, Any] = {"model": f"azure_ai/{s.model}", "api_base": s.endpoint}
    if s.kind == "foundry-models":
        params["api_version"] = API_VERSION
    if s.auth == "key":
        params["api_key"] = s.credential
    else:
        params["azure_ad_token_provider"] = bearer_token_provider(s)
    if s.deployment:
        params["headers"] = {"azureml-model-deployment": s.deployment}
    return params


def rest_url(settings: Settings | None = None, route: str = "/chat/completions") -> str:
    """The full URL of a route: ``<endpoint>/chat/completions`` on an OpenAI v1 endpoint (no api-version), with
    ``?api-version=...`` on the Azure AI Model Inference API's endpoints."""
    s = _settings(settings)
    if s.kind == "openai-v1":
        return f"{s.endpoint}{route}"
    return f"{s.endpoint}{route}?api-version={API_VERSION}"


def rest_headers(settings: Settings | None = None, extra_parameters: str | None = None) -> dict[str, str]:
    """Headers for a raw ``requests``/``httpx``/``curl`` call: content type, auth, and optional ``extra-parameters``.
    With Microsoft Entra ID the token in them lasts about an hour: in a long-running program, call this per request."""
    s = _settings(settings)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer_token_provider(s)()}"}
    if extra_parameters:
        headers["extra-parameters"] = extra_parameters
    if s.deployment:
        headers["azureml-model-deployment"] = s.deployment
    return headers
