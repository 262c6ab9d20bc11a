"""helpers.clients: every factory returns the library's own object, configured from the environment,
and a basic call through it gets the documented answer from the replay server.

The ``SEND`` and ``ASEND`` functions below (one per library: send a chat request, return what the
library returns, raise what it raises) are shared with the stream, error and retry tests.
The libraries' own retries are off in them, so call counts are exact.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import httpx
import litellm
import pytest
import requests
from azure.core.credentials import AzureKeyCredential

import helpers
from helpers.auth import ENTRA_SCOPE, StandInEntraCredential
from helpers.mock import STAND_IN_ENTRA_TOKEN, MockServer

litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banner on every error

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENT = "Meta-Llama-3.1-405B-Instruct"
MANAGED = "Llama-3.2-3B-Instruct-managed"
SYSTEM = "You are a helpful assistant."
QUESTION = "How many languages are in the world?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
STREAM_PARAMS = {"temperature": 0, "top_p": 1, "max_tokens": 2048}  # the documented streaming request
PASS_THROUGH = {"extra-parameters": "pass-through"}
AZURE_SDK_PARAMETERS = {
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "response_format",
}


def documented_answer() -> str:
    raw = json.loads(
        (ROOT / "data" / "recordings" / DEPLOYMENT / "how-many-languages.json").read_text(encoding="utf-8")
    )
    return raw["response"]["body"]["choices"][0]["message"]["content"]


def key_settings(server: MockServer, key: str | None = None, deployment: str = DEPLOYMENT) -> helpers.Settings:
    return helpers.Settings(
        endpoint=server.endpoint(deployment), credential=server.settings.key if key is None else key
    )


# -- one "send" per library: (settings, messages, stream, headers, **params) -> the library's result --


def _azure_args(messages: list, stream: bool, headers: dict | None, params: dict) -> dict[str, Any]:
    if set(params) - AZURE_SDK_PARAMETERS:  # parameters the SDK has no argument for: send the raw body
        return {"body": {"messages": messages, **({"stream": True} if stream else {}), **params}, "headers": headers}
    if isinstance(params.get("response_format"), dict):
        params = {**params, "response_format": params["response_format"]["type"]}
    return {"messages": messages, "stream": stream, "headers": headers, **params}


def send_azure(s, messages=MESSAGES, stream=False, headers=None, **params):
    return helpers.azure_client(s, retry_total=0).complete(**_azure_args(messages, stream, headers, params))


def send_openai(s, messages=MESSAGES, stream=False, headers=None, **params):
    client = helpers.openai_client(s, max_retries=0)
    return client.chat.completions.create(
        model=s.model, messages=messages, stream=stream, extra_headers=headers, **params
    )


def send_langchain(s, messages=MESSAGES, stream=False, headers=None, **params):
    llm = helpers.langchain_chat(s, max_retries=0, **({"default_headers": headers} if headers else {}))
    return llm.stream(messages, **params) if stream else llm.invoke(messages, **params)


def send_litellm(s, messages=MESSAGES, stream=False, headers=None, **params):
    extra = {"headers": headers} if headers else {}
    return litellm.completion(
        messages=messages, stream=stream, num_retries=0, **params, **extra, **helpers.litellm_params(s)
    )


def _body(messages: list, stream: bool, params: dict) -> dict[str, Any]:
    return {"messages": messages, **({"stream": True} if stream else {}), **params}


def send_requests(s, messages=MESSAGES, stream=False, headers=None, **params):
    r = requests.post(
        helpers.rest_url(s),
        headers={**helpers.rest_headers(s), **(headers or {})},
        json=_body(messages, stream, params),
        stream=stream,
        timeout=10,
    )
    r.raise_for_status()
    return r.iter_lines() if stream else r.json()


def send_httpx(s, messages=MESSAGES, stream=False, headers=None, **params):
    client = httpx.Client(timeout=10)
    request = client.build_request(
        "POST",
        helpers.rest_url(s),
        headers={**helpers.rest_headers(s), **(headers or {})},
        json=_body(messages, stream, params),
    )
    r = client.send(request, stream=stream)
    if r.is_error:
        r.read()
    r.raise_for_status()
    return r.iter_lines() if stream else r.json()


SEND: dict[str, Callable[..., Any]] = {
    "azure-ai-inference": send_azure,
    "openai": send_openai,
    "langchain": send_langchain,
    "litellm": send_litellm,
    "requests": send_requests,
    "httpx": send_httpx,
}


async def asend_azure(s, messages=MESSAGES, stream=False, headers=None, **params):
    client = helpers.azure_async_client(s, retry_total=0)
    return await client.complete(**_azure_args(messages, stream, headers, params))


async def asend_openai(s, messages=MESSAGES, stream=False, headers=None, **params):
    client = helpers.async_openai_client(s, max_retries=0)
    return await client.chat.completions.create(
        model=s.model, messages=messages, stream=stream, extra_headers=headers, **params
    )


async def asend_langchain(s, messages=MESSAGES, stream=False, headers=None, **params):
    # langchain-openai shares one cached async HTTP client per process; each asyncio.run() here has its
    # own event loop, so each call gets its own client (in a notebook, one loop, the default is fine).
    llm = helpers.langchain_chat(
        s,
        max_retries=0,
        http_async_client=httpx.AsyncClient(timeout=10),
        **({"default_headers": headers} if headers else {}),
    )
    return llm.astream(messages, **params) if stream else await llm.ainvoke(messages, **params)


async def asend_litellm(s, messages=MESSAGES, stream=False, headers=None, **params):
    extra = {"headers": headers} if headers else {}
    return await litellm.acompletion(
        messages=messages, stream=stream, num_retries=0, **params, **extra, **helpers.litellm_params(s)
    )


async def asend_httpx(s, messages=MESSAGES, stream=False, headers=None, **params):
    client = httpx.AsyncClient(timeout=10)
    request = client.build_request(
        "POST",
        helpers.rest_url(s),
        headers={**helpers.rest_headers(s), **(headers or {})},
        json=_body(messages, stream, params),
    )
    r = await client.send(request, stream=stream)
    if r.is_error:
        await r.aread()
    r.raise_for_status()
    return r.aiter_lines() if stream else r.json()


ASEND: dict[str, Callable[..., Any]] = {
    "azure-ai-inference aio": asend_azure,
    "openai async": asend_openai,
    "langchain async": asend_langchain,
    "litellm async": asend_litellm,
    "httpx async": asend_httpx,
}


def answer_text(result: Any) -> str:
    """The reply text of a non-streamed answer from any path."""
    if isinstance(result, dict):
        return result["choices"][0]["message"]["content"]
    if hasattr(result, "usage_metadata"):
        return result.content
    return result.choices[0].message.content


# -- basic calls through every factory ---------------------------------------------------------------


@pytest.mark.parametrize("path", SEND)
def test_basic_call_through_each_factory(mock_server, path, capsys):
    result = SEND[path](key_settings(mock_server))
    assert answer_text(result) == documented_answer()
    assert helpers.show_usage(result) == helpers.Usage(19, 72, 91)
    assert capsys.readouterr().out == "Usage: 19 prompt + 72 completion = 91 tokens\n"


@pytest.mark.parametrize("path", ASEND)
def test_basic_async_call_through_each_factory(mock_server, path):
    result = asyncio.run(ASEND[path](key_settings(mock_server)))
    assert answer_text(result) == documented_answer()
    assert helpers.usage_of(result) == helpers.Usage(19, 72, 91)


def test_curl_with_rest_url_and_rest_headers(mock_server):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    s = key_settings(mock_server)
    command = [
        "curl",
        "-sS",
        "--max-time",
        "10",
        helpers.rest_url(s),
        "--data-binary",
        json.dumps({"messages": MESSAGES}),
    ]
    for name, value in helpers.rest_headers(s).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=True)
    assert answer_text(json.loads(done.stdout)) == documented_answer()


def test_factories_read_the_environment_by_default(mock_server, capsys):
    """No settings argument: the AZURE_INFERENCE_* variables. The session points them at the emulated Foundry resource's
    OpenAI v1 endpoint (today's path), AZURE_INFERENCE_MODEL naming the deployment."""
    v1, today, key = mock_server.openai_v1_endpoint, "Llama-3.3-70B-Instruct", mock_server.settings.key
    with (
        helpers.azure_client() as client
    ):  # the SDK cannot use /openai/v1: the same resource's /models, said in one line
        assert client.complete(messages=MESSAGES).choices[0].message.content == documented_answer()
        # /models/info needs the deployment named (the SDK's get_model_info sends no model): in the header
        assert client.get_model_info(headers={"x-ms-model-mesh-model-name": today}).model_name == today
    assert capsys.readouterr().out == (
        "azure-ai-inference cannot use the openai-v1 endpoint: using the same resource's "
        f"foundry-models endpoint, {mock_server.models_endpoint}\n"
    )
    assert str(helpers.openai_client().base_url) == f"{v1}/"
    assert helpers.langchain_chat().openai_api_base == v1 and helpers.langchain_chat().model_name == today
    assert helpers.litellm_params() == {"model": f"azure_ai/{today}", "api_base": v1, "api_key": key}
    assert helpers.rest_url() == f"{v1}/chat/completions"  # no api-version on the v1 endpoint
    assert helpers.rest_url(route="/models") == f"{v1}/models"
    assert helpers.rest_headers(extra_parameters="pass-through") == {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {key}",
        "extra-parameters": "pass-through",
    }
    assert capsys.readouterr().out == ""


def test_factories_return_the_librarys_own_objects(mock_server):
    import azure.ai.inference
    import azure.ai.inference.aio
    import openai
    from langchain_core.language_models import BaseChatModel

    s = key_settings(mock_server)
    assert type(helpers.azure_client(s)) is azure.ai.inference.ChatCompletionsClient
    assert type(helpers.azure_async_client(s)) is azure.ai.inference.aio.ChatCompletionsClient
    assert isinstance(helpers.azure_client(s)._config.credential, AzureKeyCredential)
    own = AzureKeyCredential(s.credential)  # a credential of the caller's own, as azure_async_client takes too
    assert helpers.azure_client(s, credential=own)._config.credential is own
    assert type(helpers.openai_client(s)) is openai.OpenAI
    assert type(helpers.async_openai_client(s)) is openai.AsyncOpenAI
    assert isinstance(helpers.langchain_chat(s), BaseChatModel)


def test_keyword_arguments_reach_the_library_and_callers_dicts_are_not_changed(mock_server):
    managed = helpers.Settings(
        endpoint=mock_server.endpoint(MANAGED), auth="entra", deployment="llama-3-2-3b-instruct-1"
    )
    headers = dict(PASS_THROUGH)
    client = helpers.openai_client(managed, max_retries=0, timeout=7, default_headers=headers)
    assert (client.max_retries, client.timeout) == (0, 7)
    assert client.default_headers["azureml-model-deployment"] == "llama-3-2-3b-instruct-1"
    assert client.default_headers["extra-parameters"] == "pass-through"
    llm = helpers.langchain_chat(managed, temperature=0, default_headers=headers)
    assert llm.temperature == 0 and llm.default_headers == {
        **PASS_THROUGH,
        "azureml-model-deployment": "llama-3-2-3b-instruct-1",
    }
    helpers.azure_client(managed, headers=headers)
    assert headers == PASS_THROUGH


# -- authentication: key, Entra ID, and the offline stand-in ------------------------------------------


@pytest.fixture(scope="module")
def managed_server(tmp_path_factory):
    """A replay server whose managed deployment has the documented recordings too (copied)."""
    root = tmp_path_factory.mktemp("recordings")
    shutil.copytree(ROOT / "data" / "recordings" / DEPLOYMENT, root / DEPLOYMENT)
    shutil.copytree(ROOT / "data" / "recordings" / DEPLOYMENT, root / MANAGED)
    with MockServer(recordings_dir=root) as server:
        yield server


def managed_settings(server: MockServer, deployment: str = "llama-3-2-3b-instruct-1") -> helpers.Settings:
    return helpers.Settings(
        endpoint=server.endpoint(MANAGED), auth="entra", model="Llama-3.2-3B-Instruct", deployment=deployment
    )


def test_key_auth_sends_the_key():
    s = helpers.Settings(endpoint="https://my-llama.eastus2.models.ai.azure.com", credential="k" * 32)
    assert isinstance(helpers.auth.sdk_credential(s), AzureKeyCredential)
    assert helpers.rest_headers(s)["Authorization"] == "Bearer " + "k" * 32
    assert helpers.openai_client(s).api_key == "k" * 32


def test_offline_entra_uses_the_labeled_stand_in(mock_server):
    s = managed_settings(mock_server)
    credential = helpers.auth.entra_credential(s)
    assert isinstance(credential, StandInEntraCredential)
    assert "STAND-IN" in StandInEntraCredential.__doc__
    assert credential.get_token(ENTRA_SCOPE).token == STAND_IN_ENTRA_TOKEN
    assert helpers.rest_headers(s)["Authorization"] == f"Bearer {STAND_IN_ENTRA_TOKEN}"
    params = helpers.litellm_params(s)
    assert "api_key" not in params and params["azure_ad_token_provider"]() == STAND_IN_ENTRA_TOKEN


def test_live_entra_gets_a_real_default_azure_credential():
    """A non-local endpoint with PREFIX_AUTH=entra: DefaultAzureCredential, scope ml.azure.com (never called here)."""
    from azure.identity import DefaultAzureCredential
    from azure.identity.aio import DefaultAzureCredential as AsyncDefaultAzureCredential

    s = helpers.Settings(endpoint="https://my-endpoint.eastus2.inference.ml.azure.com", auth="entra", deployment="d1")
    assert ENTRA_SCOPE == "https://ml.azure.com/.default"
    assert isinstance(helpers.auth.entra_credential(s), DefaultAzureCredential)
    assert isinstance(helpers.auth.entra_credential(s, use_async=True), AsyncDefaultAzureCredential)
    client = helpers.azure_client(s)
    assert isinstance(client._config.credential, DefaultAzureCredential)
    assert client._config.credential_scopes == [ENTRA_SCOPE]
    aclient = helpers.azure_async_client(s)
    assert isinstance(aclient._config.credential, AsyncDefaultAzureCredential)
    assert aclient._config.credential_scopes == [ENTRA_SCOPE]
    provider = helpers.auth.bearer_token_provider(s)  # azure.identity's token provider around the credential
    assert provider.__qualname__.startswith("get_bearer_token_provider")
    assert helpers.openai_client(s)._api_key_provider.__qualname__.startswith("get_bearer_token_provider")
    assert helpers.langchain_chat(s).openai_api_key.__qualname__.startswith("get_bearer_token_provider")
    assert (
        helpers.litellm_params(s)["azure_ad_token_provider"] is provider
    )  # a token for every call, not one for an hour
    assert helpers.auth.bearer_token_provider(s) is provider, (
        "one credential per deployment, so its token is kept between calls"
    )


def test_an_async_credential_of_your_own_goes_to_the_async_client():
    """The client does not close its credential: pass your own, and close it with the client."""
    from azure.identity.aio import DefaultAzureCredential as AsyncDefaultAzureCredential

    s = helpers.Settings(endpoint="https://my-endpoint.eastus2.inference.ml.azure.com", auth="entra", deployment="d1")
    mine = AsyncDefaultAzureCredential()
    assert helpers.azure_async_client(s, credential=mine)._config.credential is mine
    asyncio.run(mine.close())


def test_the_async_openai_token_function_does_not_block_the_event_loop(mock_server, monkeypatch):
    """Getting an Entra ID token can run `az` for seconds: the async client's token function runs it in a thread."""
    import threading

    threads = []

    def provider_for(settings):
        def provider() -> str:
            threads.append(threading.current_thread())
            return STAND_IN_ENTRA_TOKEN

        return provider

    monkeypatch.setattr(helpers.clients, "bearer_token_provider", provider_for)
    token_function = helpers.async_openai_client(managed_settings(mock_server))._api_key_provider
    assert asyncio.run(token_function()) == STAND_IN_ENTRA_TOKEN
    assert threads and threads[0] is not threading.main_thread()


def test_the_langchain_key_path_keeps_its_headers_when_azure_openai_api_version_is_set(monkeypatch):
    """With credential=, langchain-azure-ai would build its own clients: no default_headers, the Responses API."""
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "2024-10-21")
    s = helpers.Settings(endpoint="https://my-llama.eastus2.models.ai.azure.com", credential="k" * 32)
    llm = helpers.langchain_chat(s, default_headers={"extra-parameters": "pass-through"})
    assert llm.root_client._custom_headers.get("extra-parameters") == "pass-through"
    assert not llm.root_client._custom_query and not llm.use_responses_api


def _info(server: MockServer, deployment: str, token: str) -> int:
    return httpx.get(
        f"{server.endpoint(deployment)}/info",
        params={"api-version": "2024-05-01-preview"},
        headers={"Authorization": f"Bearer {token}"},
    ).status_code


def test_replay_server_accepts_the_stand_in_on_its_managed_deployment_only(mock_server):
    assert _info(mock_server, MANAGED, STAND_IN_ENTRA_TOKEN) == 200
    assert _info(mock_server, DEPLOYMENT, STAND_IN_ENTRA_TOKEN) == 401
    assert _info(mock_server, DEPLOYMENT, mock_server.settings.key) == 200


@pytest.mark.parametrize("path", SEND)
def test_entra_through_each_factory_on_managed_compute(managed_server, path):
    result = SEND[path](managed_settings(managed_server))
    assert answer_text(result) == documented_answer()


@pytest.mark.parametrize("path", ASEND)
def test_entra_through_each_async_factory_on_managed_compute(managed_server, path):
    result = asyncio.run(ASEND[path](managed_settings(managed_server)))
    assert answer_text(result) == documented_answer()


@pytest.mark.parametrize("path", SEND)
def test_each_factory_sends_the_managed_deployment_header(managed_server, path):
    """A wrong deployment name must reach the server (and be refused), so the header is sent."""
    with pytest.raises(Exception) as caught:
        SEND[path](managed_settings(managed_server, deployment="no-such-deployment"))
    err = helpers.service_error(caught.value)
    assert (err.status, err.code) == (404, "DeploymentNotFound")


@pytest.mark.parametrize("path", SEND)
def test_stand_in_token_is_refused_by_a_serverless_deployment(mock_server, path):
    s = helpers.Settings(endpoint=mock_server.endpoint(DEPLOYMENT), auth="entra")
    with pytest.raises(Exception) as caught:
        SEND[path](s)
    assert helpers.service_error(caught.value).kind == "unauthorized"


# -- the Foundry resource's two endpoints (openai-v1, foundry-models) -------------------------------------

TODAY = "Llama-3.3-70B-Instruct"
RESOURCE_KINDS = ("openai-v1", "foundry-models")


def resource_settings(server: MockServer, kind: str, **kwargs: Any) -> helpers.Settings:
    endpoint = server.openai_v1_endpoint if kind == "openai-v1" else server.models_endpoint
    return helpers.Settings(
        endpoint=endpoint, credential=kwargs.pop("credential", server.settings.key), model=TODAY, kind=kind, **kwargs
    )


def _on_resource(path: str, s: helpers.Settings) -> dict[str, Any]:
    """Raw HTTP names the deployment in the body itself; the libraries take it from the factory's settings."""
    return {"model": s.model} if path.split()[0] in ("requests", "httpx") else {}


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
@pytest.mark.parametrize("path", SEND)
def test_basic_call_through_each_factory_on_the_resource(mock_server, path, kind, capsys):
    s = resource_settings(mock_server, kind)
    result = SEND[path](s, **_on_resource(path, s))
    assert answer_text(result) == documented_answer()
    assert helpers.usage_of(result) == helpers.Usage(19, 72, 91)
    out = capsys.readouterr().out  # a library that cannot use this kind says so in one line, and uses the other one
    moved = {
        ("azure-ai-inference", "openai-v1"): ("azure-ai-inference", "foundry-models", mock_server.models_endpoint),
        ("langchain", "foundry-models"): ("ChatOpenAI", "openai-v1", mock_server.openai_v1_endpoint),
    }.get((path, kind))
    assert out == (
        ""
        if moved is None
        else f"{moved[0]} cannot use the {kind} endpoint: using the same resource's {moved[1]} endpoint, {moved[2]}\n"
    )


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
@pytest.mark.parametrize("path", ASEND)
def test_basic_async_call_through_each_factory_on_the_resource(mock_server, path, kind):
    s = resource_settings(mock_server, kind)
    result = asyncio.run(ASEND[path](s, **_on_resource(path, s)))
    assert answer_text(result) == documented_answer()


def test_urls_per_endpoint_kind(mock_server):
    v1, models = resource_settings(mock_server, "openai-v1"), resource_settings(mock_server, "foundry-models")
    serverless, managed = key_settings(mock_server), managed_settings(mock_server)
    assert helpers.openai_base_url(v1) == mock_server.openai_v1_endpoint
    assert helpers.openai_base_url(models) == mock_server.models_endpoint
    assert helpers.openai_base_url(serverless) == f"{mock_server.endpoint(DEPLOYMENT)}/v1"
    assert helpers.openai_base_url(managed) == f"{mock_server.endpoint(MANAGED)}/v1"
    assert helpers.rest_url(v1) == f"{mock_server.openai_v1_endpoint}/chat/completions"  # no api-version on v1
    assert helpers.rest_url(models) == f"{mock_server.models_endpoint}/chat/completions?api-version=2024-05-01-preview"
    assert (
        helpers.rest_url(serverless)
        == f"{mock_server.endpoint(DEPLOYMENT)}/chat/completions?api-version=2024-05-01-preview"
    )
    assert helpers.openai_client(models)._custom_query == {"api-version": "2024-05-01-preview"}
    assert not helpers.openai_client(v1)._custom_query
    # LiteLLM posts to <api_base>/chat/completions and adds no api-version by itself: /models gets one
    assert helpers.litellm_params(models) == {
        "model": f"azure_ai/{TODAY}",
        "api_base": mock_server.models_endpoint,
        "api_version": "2024-05-01-preview",
        "api_key": mock_server.settings.key,
    }
    assert helpers.litellm_params(v1) == {
        "model": f"azure_ai/{TODAY}",
        "api_base": mock_server.openai_v1_endpoint,
        "api_key": mock_server.settings.key,
    }


@pytest.mark.parametrize(
    "kind, scope",
    [
        ("openai-v1", "https://ai.azure.com/.default"),
        ("foundry-models", "https://cognitiveservices.azure.com/.default"),
    ],
)
def test_live_entra_on_the_resource_asks_for_its_kinds_scope(monkeypatch, kind, scope, capsys):
    """DefaultAzureCredential (never called here) behind a token provider for the kind's scope; the Azure AI Inference
    SDK, moved to /models, asks for the /models scope."""
    import azure.identity

    asked = []
    monkeypatch.setattr(
        azure.identity, "get_bearer_token_provider", lambda credential, *scopes: asked.append(scopes) or (lambda: "t")
    )
    endpoint = {
        "openai-v1": "https://scope-test.openai.azure.com/openai/v1",
        "foundry-models": "https://scope-test.services.ai.azure.com/models",
    }[kind]
    s = helpers.Settings(endpoint=endpoint, auth="entra", model=TODAY, kind=kind)
    helpers.auth.bearer_token_provider.cache_clear()
    try:
        helpers.openai_client(s)
        assert asked == [(scope,)]
    finally:
        helpers.auth.bearer_token_provider.cache_clear()
    client = helpers.azure_client(s)
    assert client._config.credential_scopes == ["https://cognitiveservices.azure.com/.default"]
    assert client._config.endpoint == "https://scope-test.services.ai.azure.com/models"
    capsys.readouterr()
