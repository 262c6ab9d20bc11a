"""One small factory per integration path. Each returns the library's own object, configured from
the environment (``helpers.config``); the notebooks then make the real calls on it.

Every factory takes an optional ``Settings`` (default: ``load_settings()``, the ``AZURE_INFERENCE_*``
variables) and passes any keyword arguments through to the library.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .auth import ENTRA_SCOPE, LoopbackBearerPolicy, StandInEntraCredential, bearer_token_provider, sdk_credential
from .config import Settings, load_settings

API_VERSION = "2024-05-01-preview"


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
        kwargs.setdefault("credential_scopes", [ENTRA_SCOPE])
    return kwargs


def azure_client(settings: Settings | None = None, credential: Any = None, **kwargs: Any):
    """``azure.ai.inference.ChatCompletionsClient`` for the endpoint, with a key or Entra ID (or ``credential=``)."""
    from azure.ai.inference import ChatCompletionsClient

    s = _settings(settings)
    credential = credential or sdk_credential(s)
    return ChatCompletionsClient(endpoint=s.endpoint, credential=credential, **_azure_kwargs(s, credential, kwargs))


def azure_async_client(settings: Settings | None = None, credential: Any = None, **kwargs: Any):
    """The ``azure.ai.inference.aio`` flavour of ``azure_client``; use it with ``async with``.

    With Entra ID, pass your own ``azure.identity.aio.DefaultAzureCredential()`` as ``credential=`` and close it
    too (``async with credential, azure_async_client(settings, credential=credential) as client:``): closing the
    client does not close its credential, whose HTTP sessions would otherwise stay open.
    """
    from azure.ai.inference.aio import ChatCompletionsClient

    s = _settings(settings)
    credential = credential or sdk_credential(s, use_async=True)
    return ChatCompletionsClient(endpoint=s.endpoint, credential=credential, **_azure_kwargs(s, credential, kwargs))


def _openai_kwargs(s: Settings, kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs.setdefault("base_url", f"{s.endpoint}/v1")
    if "api_key" not in kwargs:
        kwargs["api_key"] = s.credential if s.auth == "key" else bearer_token_provider(s)
    if s.deployment:
        kwargs["default_headers"] = _with_header(kwargs.get("default_headers"), "azureml-model-deployment", s.deployment)
    return kwargs


def openai_client(settings: Settings | None = None, **kwargs: Any):
    """``openai.OpenAI`` pointed at ``<endpoint>/v1``. Calls still need ``model=`` (the endpoint ignores it)."""
    import openai

    return openai.OpenAI(**_openai_kwargs(_settings(settings), kwargs))


def async_openai_client(settings: Settings | None = None, **kwargs: Any):
    """``openai.AsyncOpenAI`` pointed at ``<endpoint>/v1``."""
    import openai

    s = _settings(settings)
    if s.auth == "entra" and "api_key" not in kwargs:
        provider = bearer_token_provider(s)

        async def token() -> str:
            # Getting a new token can run `az` or call Entra ID: in a thread, so the event loop keeps going.
            return await asyncio.to_thread(provider)

        kwargs["api_key"] = token
    return openai.AsyncOpenAI(**_openai_kwargs(s, kwargs))


def langchain_chat(settings: Settings | None = None, **kwargs: Any):
    """LangChain's ``AzureAIChatCompletionsModel`` (langchain-azure-ai) on ``<endpoint>/v1``.

    Pass LangChain options as keyword arguments, e.g. ``temperature=0``. Options LangChain turns into
    extra parameters (``max_tokens`` becomes ``max_completion_tokens``) need
    ``default_headers={"extra-parameters": "pass-through"}``; the notebook shows why.
    """
    from langchain_azure_ai.chat_models import AzureAIChatCompletionsModel

    s = _settings(settings)
    kwargs.setdefault("model", s.model)
    if s.deployment:
        kwargs["default_headers"] = _with_header(kwargs.get("default_headers"), "azureml-model-deployment", s.deployment)
    # The key, or a token function, as ChatOpenAI's api_key: LangChain then builds its OpenAI clients with our
    # headers and options. Given credential= instead, langchain-azure-ai builds them itself (for an Entra ID
    # credential always, for a key whenever AZURE_OPENAI_API_VERSION is set), drops default_headers and switches
    # to the Responses API, which these endpoints do not serve.
    kwargs.setdefault("api_key", s.credential if s.auth == "key" else bearer_token_provider(s))
    return AzureAIChatCompletionsModel(endpoint=f"{s.endpoint}/v1", **kwargs)


def litellm_params(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``litellm.completion``: ``model="azure_ai/<model>"``, ``api_base``, and ``api_key``
    (a key) or ``azure_ad_token_provider`` (Entra ID: LiteLLM asks it for a valid token on every call)."""
    s = _settings(settings)
    params: dict[str, Any] = {"model": f"azure_ai/{s.model}", "api_base": s.endpoint}
    if s.auth == "key":
        params["api_key"] = s.credential
    else:
        params["azure_ad_token_provider"] = bearer_token_provider(s)
    if s.deployment:
        params["headers"] = {"azureml-model-deployment": s.deployment}
    return params


def rest_url(settings: Settings | None = None, route: str = "/chat/completions") -> str:
    """The full URL of an Azure route, with ``api-version``: ``<endpoint>/chat/completions?api-version=...``."""
    return f"{_settings(settings).endpoint}{route}?api-version={API_VERSION}"


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
