"""The replay server's endpoint kinds: one emulated Foundry resource (its OpenAI v1 endpoint ``/openai/v1`` and its
Azure AI model inference endpoint ``/models``), the page's serverless endpoints and managed compute.

Through every client a notebook uses (the OpenAI SDK, azure-ai-inference, LangChain's ChatOpenAI, LiteLLM, raw
httpx): the request's ``model`` (or, on ``/models``, the ``x-ms-model-mesh-model-name`` header) picks the deployment;
a missing model is a 400, an unknown or retired deployment a 404 in the bodies users have seen; api-versions, keys,
the stand-in Entra ID token and images are checked per kind. Also ``python -m helpers.mock env --endpoint-kind K``
and the derived recordings of today's deployments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import litellm
import openai
import pytest
from azure.ai.inference import ChatCompletionsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

import helpers
from helpers.config import load_settings
from helpers.mock import DEMO_KEY, STAND_IN_ENTRA_TOKEN
from helpers.mock.deployments import ENDPOINT_KINDS, deployment_prefixes, deployments_for, load_deployments
from helpers.mock.endpoints import MODEL_INFERENCE_API_VERSIONS, RETIRED_MODELS, RETIRED_ON
from helpers.offline import OFFLINE_ENV

litellm.suppress_debug_info = True
os.environ.update(
    {k: OFFLINE_ENV[k] for k in ("LITELLM_LOCAL_MODEL_COST_MAP", "HF_HUB_OFFLINE", "LITELLM_OFFLINE_MODE")}
)

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "data" / "recordings"
DEPLOYMENTS = load_deployments()
TODAY = "Llama-3.3-70B-Instruct"  # text only
SCOUT = "Llama-4-Scout-17B-16E-Instruct"
MAVERICK = "Llama-4-Maverick-17B-128E-Instruct-FP8"
ON_RESOURCE = [TODAY, SCOUT, MAVERICK]  # data/deployments.json's order
BIG = "Meta-Llama-3.1-405B-Instruct"  # the page's serverless endpoint (retired model)
MANAGED = "Llama-3.2-3B-Instruct-managed"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "How many languages are in the world?"},
]
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
STAND_IN = {"Authorization": f"Bearer {STAND_IN_ENTRA_TOKEN}"}
WRONG_KEY = "wrong-key-wrong-key-wrong-key-00"  # tests/test_no_secrets.py allows it in this file
WRONG = {"Authorization": f"Bearer {WRONG_KEY}"}
RESOURCE_KINDS = ("openai-v1", "foundry-models")
SCOUT_ONLY = json.loads((RECORDINGS / SCOUT / "throughput-say-number-001.json").read_text())["request"]["body"]
IMAGE_URL = "https://example.com/a.png"
DOCUMENTED_ANSWER = json.loads((RECORDINGS / BIG / "how-many-languages.json").read_text())["response"]["body"][
    "choices"
][0]["message"]["content"]
ON_THIS_RESOURCE = f"Deployments on this resource: {', '.join(ON_RESOURCE)}."
HTTP = httpx.Client(timeout=10)  # one client: a new one per request would build an SSL context each time


def resource_url(mock, kind: str) -> str:
    return mock.openai_v1_endpoint if kind == "openai-v1" else mock.models_endpoint


def post(url: str, body: dict, headers: dict | None = None, params: dict | None = None) -> httpx.Response:
    return HTTP.post(url, json=body, headers={**AUTH, **(headers or {})}, params=params, timeout=10)


def resource_chat(
    mock, kind: str, body: dict, headers: dict | None = None, params: dict | None = None
) -> httpx.Response:
    return post(resource_url(mock, kind) + "/chat/completions", body, headers, params)


def resource_settings(mock, kind: str, model: str = TODAY, **kwargs) -> helpers.Settings:
    return helpers.Settings(
        resource_url(mock, kind), kwargs.pop("credential", DEMO_KEY), model=model, kind=kind, **kwargs
    )


def v1_missing_model() -> dict:
    return {
        "error": {
            "message": "Missing required parameter: 'model' (the deployment's name).",
            "type": "invalid_request_error",
            "param": "model",
            "code": "missing_required_parameter",
        }
    }


def models_missing_model() -> dict:
    message = (
        "No model specified in request. Please provide a model name in the request body or as a "
        "x-ms-model-mesh-model-name header."
    )
    return {"error": {"code": "no_model_name", "message": message, "details": message}}


def not_found_note(name: str) -> str:
    if name in RETIRED_MODELS:
        return (
            f" (replay server: {name} was retired on {RETIRED_ON}; deploy {RETIRED_MODELS[name]} instead. "
            f"{ON_THIS_RESOURCE})"
        )
    return f" (replay server: deployments on this resource: {', '.join(ON_RESOURCE)}.)"


def expected_404(kind: str, name: str) -> dict:
    """The 404 bodies users have seen (DeploymentNotFound on v1, unknown_model on /models), plus the replay server's
    note."""
    if kind == "foundry-models":
        return {
            "error": {
                "code": "unknown_model",
                "message": f"Unknown model: {name}{not_found_note(name)}",
                "details": f"Unknown model: {name}",
            }
        }
    return {
        "error": {
            "type": "invalid_request_error",
            "code": "DeploymentNotFound",
            "message": "The API deployment for this resource does not exist. If you created the deployment within "
            f"the last 5 minutes, please wait a moment and try again.{not_found_note(name)}",
        }
    }


# -- routing by model -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
def test_the_body_model_picks_the_deployment(mock_server, kind):
    r = resource_chat(mock_server, kind, {"model": TODAY, "messages": MESSAGES})
    assert r.status_code == 200 and r.headers["x-replay-recording"] == f"{TODAY}/how-many-languages"
    assert r.json()["model"] == TODAY and r.json()["choices"][0]["message"]["content"] == DOCUMENTED_ANSWER
    assert r.headers["x-replay-provenance"] == "authored"  # derived from the page's, never passed off as live
    r = resource_chat(mock_server, kind, {"model": SCOUT, **SCOUT_ONLY})
    assert r.status_code == 200 and r.headers["x-replay-recording"] == f"{SCOUT}/throughput-say-number-001"
    # the same question to Scout: its own recordings only (no answer for it there)
    r = resource_chat(mock_server, kind, {"model": SCOUT, "messages": MESSAGES})
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound"


def test_the_mesh_header_picks_the_deployment_on_models_only(mock_server):
    header = {"x-ms-model-mesh-model-name": TODAY}
    r = resource_chat(mock_server, "foundry-models", {"messages": MESSAGES}, header)
    assert r.status_code == 200 and r.headers["x-replay-recording"] == f"{TODAY}/how-many-languages"
    # the body's model wins over the header
    r = resource_chat(mock_server, "foundry-models", {"model": SCOUT, **SCOUT_ONLY}, header)
    assert r.status_code == 200 and r.headers["x-replay-recording"] == f"{SCOUT}/throughput-say-number-001"
    # the OpenAI v1 endpoint reads the body only
    r = resource_chat(mock_server, "openai-v1", {"messages": MESSAGES}, header)
    assert (r.status_code, r.json()) == (400, v1_missing_model())
    info = HTTP.get(
        mock_server.models_endpoint + "/info", headers={**AUTH, "x-ms-model-mesh-model-name": MAVERICK}, timeout=10
    )
    assert info.status_code == 200 and info.json()["model_name"] == MAVERICK


@pytest.mark.parametrize(
    "kind, expected", [("openai-v1", v1_missing_model()), ("foundry-models", models_missing_model())]
)
@pytest.mark.parametrize("model", [None, "", "   "])
def test_a_missing_model_is_a_400(mock_server, kind, expected, model):
    body = {"messages": MESSAGES} if model is None else {"model": model, "messages": MESSAGES}
    r = resource_chat(mock_server, kind, body)
    assert (r.status_code, r.json()) == (400, expected)


def test_models_info_without_a_model_is_a_400(mock_server):
    r = HTTP.get(mock_server.models_endpoint + "/info", headers=AUTH, timeout=10)
    assert (r.status_code, r.json()) == (400, models_missing_model())


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
@pytest.mark.parametrize(
    "name", ["Llama-3.3-70B", "llama-3.3-70b-instruct", "Llama-Guard-3-8B", MANAGED, *RETIRED_MODELS]
)
def test_an_unknown_or_retired_deployment_is_a_404(mock_server, kind, name):
    r = resource_chat(mock_server, kind, {"model": name, "messages": MESSAGES})
    assert r.status_code == 404 and r.json() == expected_404(kind, name)
    assert r.headers["x-ms-error-code"] == r.json()["error"]["code"]


@pytest.mark.parametrize("name", [*RETIRED_MODELS, "no-such-deployment"])
def test_models_info_for_an_unknown_or_retired_deployment_is_a_404(mock_server, name):
    r = HTTP.get(mock_server.models_endpoint + "/info", params={"model": name}, headers=AUTH, timeout=10)
    assert r.status_code == 404 and r.json() == expected_404("foundry-models", name)


def test_the_v1_model_list_is_exactly_the_resources_deployments(mock_server):
    r = HTTP.get(mock_server.openai_v1_endpoint + "/models", headers=AUTH, timeout=10)
    assert r.status_code == 200
    assert r.json() == {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "Meta"} for name in ON_RESOURCE],
    }
    assert [d.name for d in DEPLOYMENTS.values() if d.kind == "foundry"] == ON_RESOURCE
    client = openai.OpenAI(base_url=mock_server.openai_v1_endpoint, api_key=DEMO_KEY, max_retries=0)
    assert [m.id for m in client.models.list()] == ON_RESOURCE


# -- the same through each client ---------------------------------------------------------------------


def test_openai_sdk_on_the_v1_endpoint(mock_server):
    client = openai.OpenAI(base_url=mock_server.openai_v1_endpoint, api_key=DEMO_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model=TODAY, messages=MESSAGES)
    assert raw.headers["x-replay-recording"] == f"{TODAY}/how-many-languages"
    answer = raw.parse()
    assert answer.model == TODAY and answer.choices[0].message.content == DOCUMENTED_ANSWER
    for name in ("no-such-deployment", BIG):
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(model=name, messages=MESSAGES)
        assert (
            caught.value.code == "DeploymentNotFound" and caught.value.body == expected_404("openai-v1", name)["error"]
        )
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=mock_server.openai_v1_endpoint, api_key="wrong", max_retries=0).chat.completions.create(
            model=TODAY, messages=MESSAGES
        )


def test_openai_sdk_on_the_models_endpoint_with_an_api_version(mock_server):
    client = openai.OpenAI(
        base_url=mock_server.models_endpoint,
        api_key=DEMO_KEY,
        max_retries=0,
        default_query={"api-version": "2024-05-01-preview"},
    )
    assert (
        client.chat.completions.create(model=TODAY, messages=MESSAGES).choices[0].message.content == DOCUMENTED_ANSWER
    )
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model=BIG, messages=MESSAGES)
    assert caught.value.code == "unknown_model" and caught.value.body == expected_404("foundry-models", BIG)["error"]
    # the helpers' factory adds the api-version itself
    factory = helpers.openai_client(resource_settings(mock_server, "foundry-models"), max_retries=0)
    assert (
        factory.chat.completions.create(model=TODAY, messages=MESSAGES).choices[0].message.content == DOCUMENTED_ANSWER
    )


def test_azure_ai_inference_on_the_models_endpoint(mock_server):
    key = AzureKeyCredential(DEMO_KEY)
    with ChatCompletionsClient(
        endpoint=mock_server.models_endpoint, credential=key, model=TODAY, retry_total=0
    ) as client:
        answer = client.complete(messages=MESSAGES)
        assert answer.model == TODAY and answer.choices[0].message.content == DOCUMENTED_ANSWER
    with ChatCompletionsClient(endpoint=mock_server.models_endpoint, credential=key, retry_total=0) as client:
        with pytest.raises(HttpResponseError) as caught:  # no model: the body users have seen
            client.complete(messages=MESSAGES)
        assert (caught.value.status_code, caught.value.error.code) == (400, "no_model_name")
        # the header names the deployment instead
        answer = client.complete(messages=MESSAGES, headers={"x-ms-model-mesh-model-name": TODAY})
        assert answer.choices[0].message.content == DOCUMENTED_ANSWER
        for name in ("no-such-deployment", "Llama-3.2-11B-Vision-Instruct"):
            with pytest.raises(HttpResponseError) as caught:
                client.complete(messages=MESSAGES, model=name)
            assert (caught.value.status_code, caught.value.error.code) == (404, "unknown_model")
            assert caught.value.error.message == expected_404("foundry-models", name)["error"]["message"]


def test_azure_ai_inference_cannot_use_the_v1_endpoint(mock_server):
    """The SDK sends api-version=2024-05-01-preview with every request: the v1 endpoint refuses it (helpers.azure_client
    uses the same resource's /models endpoint instead, test_helpers_clients)."""
    with ChatCompletionsClient(
        endpoint=mock_server.openai_v1_endpoint, credential=AzureKeyCredential(DEMO_KEY), model=TODAY, retry_total=0
    ) as client:
        with pytest.raises(HttpResponseError) as caught:
            client.complete(messages=MESSAGES)
    assert (caught.value.status_code, caught.value.error.code) == (400, "UnsupportedApiVersion")
    assert caught.value.error.message == (
        "The api-version '2024-05-01-preview' is not supported. The OpenAI v1 endpoint "
        "takes no api-version (or 'preview' for preview features)."
    )


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
def test_langchain_chat_openai_on_the_resource(mock_server, kind, capsys):
    llm = helpers.langchain_chat(resource_settings(mock_server, kind), max_retries=0, include_response_headers=True)
    out = capsys.readouterr().out
    # ChatOpenAI cannot add the api-version /models needs: the same resource's v1 endpoint, said in one line
    assert llm.openai_api_base == mock_server.openai_v1_endpoint
    assert out == (
        ""
        if kind == "openai-v1"
        else "ChatOpenAI cannot use the foundry-models endpoint: using the same "
        f"resource's openai-v1 endpoint, {mock_server.openai_v1_endpoint}\n"
    )
    message = llm.invoke(MESSAGES)
    assert message.content == DOCUMENTED_ANSWER and message.response_metadata["model_name"] == TODAY
    assert helpers.answered_by(message) == f"replayed from {TODAY}/how-many-languages (authored)"
    with pytest.raises(openai.NotFoundError) as caught:
        helpers.langchain_chat(resource_settings(mock_server, "openai-v1", model=BIG), max_retries=0).invoke(MESSAGES)
    assert caught.value.body == expected_404("openai-v1", BIG)["error"]


def _litellm(mock, model: str, key: str = DEMO_KEY, **kwargs):
    return litellm.completion(
        model=f"azure_ai/{model}",
        api_base=mock.openai_v1_endpoint,
        api_key=key,
        messages=MESSAGES,
        num_retries=0,
        **kwargs,
    )


def test_litellm_azure_ai_on_the_v1_endpoint(mock_server):
    answer = _litellm(mock_server, TODAY)
    assert answer.choices[0].message.content == DOCUMENTED_ANSWER
    assert (
        answer._hidden_params["additional_headers"]["llm_provider-x-replay-recording"] == f"{TODAY}/how-many-languages"
    )
    scout = litellm.completion(
        model=f"azure_ai/{SCOUT}",
        api_base=mock_server.openai_v1_endpoint,
        api_key=DEMO_KEY,
        num_retries=0,
        **SCOUT_ONLY,
    )
    assert (
        scout._hidden_params["additional_headers"]["llm_provider-x-replay-recording"]
        == f"{SCOUT}/throughput-say-number-001"
    )
    for name in ("no-such-deployment", BIG):
        with pytest.raises(litellm.NotFoundError) as caught:
            _litellm(mock_server, name)
        assert caught.value.status_code == 404
        assert json.dumps(expected_404("openai-v1", name), separators=(",", ":")) in str(caught.value)
    with pytest.raises(litellm.AuthenticationError) as caught:
        _litellm(mock_server, TODAY, key=WRONG_KEY)
    assert caught.value.status_code == 401
    # helpers.litellm_params builds the same call from the settings
    params = helpers.litellm_params(resource_settings(mock_server, "openai-v1"))
    assert params == {"model": f"azure_ai/{TODAY}", "api_base": mock_server.openai_v1_endpoint, "api_key": DEMO_KEY}
    assert (
        litellm.completion(messages=MESSAGES, num_retries=0, **params).choices[0].message.content == DOCUMENTED_ANSWER
    )


# -- api-versions ------------------------------------------------------------------------------------


def _chat_target(mock, kind: str) -> tuple[str, dict, dict, str]:
    """(url, body, headers, the recording that answers) for a recorded request on each kind."""
    if kind in RESOURCE_KINDS:
        return (
            resource_url(mock, kind) + "/chat/completions",
            {"model": TODAY, "messages": MESSAGES},
            {},
            f"{TODAY}/how-many-languages",
        )
    if kind == "serverless":
        return mock.endpoint(BIG) + "/chat/completions", {"messages": MESSAGES}, {}, f"{BIG}/how-many-languages"
    header = {"azureml-model-deployment": DEPLOYMENTS[MANAGED].azureml_deployment}
    return (
        mock.endpoint(MANAGED) + "/chat/completions",
        {"messages": MESSAGES},
        header,
        f"{MANAGED}/managed-how-many-languages",
    )


def _get_target(mock, kind: str) -> tuple[str, dict]:
    """(url, params) of each kind's GET route."""
    return {
        "openai-v1": (mock.openai_v1_endpoint + "/models", {}),
        "foundry-models": (mock.models_endpoint + "/info", {"model": TODAY}),
        "serverless": (mock.endpoint(BIG) + "/info", {}),
        "managed": (mock.endpoint(MANAGED) + "/info", {}),
    }[kind]


ACCEPTED = {"openai-v1": [None, "preview"]}
ACCEPTED.update({kind: [None, *MODEL_INFERENCE_API_VERSIONS] for kind in ("foundry-models", "serverless", "managed")})
REFUSED = {"openai-v1": [*MODEL_INFERENCE_API_VERSIONS, "2024-10-21", "v1", "latest"]}
REFUSED.update(
    {
        kind: ["preview", "2024-10-21", "2024-05-01", "2025-05-01-preview"]
        for kind in ("foundry-models", "serverless", "managed")
    }
)
KINDS = ("openai-v1", "foundry-models", "serverless", "managed")


@pytest.mark.parametrize("kind, version", [(k, v) for k in KINDS for v in ACCEPTED[k]])
def test_accepted_api_versions(mock_server, kind, version):
    url, body, headers, recording = _chat_target(mock_server, kind)
    params = {} if version is None else {"api-version": version}
    r = post(url, body, headers, params)
    assert r.status_code == 200 and r.headers["x-replay-recording"] == recording
    get_url, get_params = _get_target(mock_server, kind)
    assert HTTP.get(get_url, params={**get_params, **params}, headers=AUTH, timeout=10).status_code == 200


def _refusal_message(kind: str, version: str) -> str:
    if kind == "openai-v1":
        return (
            f"The api-version {version!r} is not supported. The OpenAI v1 endpoint takes no api-version (or 'preview' "
            "for preview features)."
        )
    return (
        f"The api-version {version!r} is not supported. Supported versions: 2024-05-01-preview, 2025-04-01, 2025-05-01."
    )


@pytest.mark.parametrize("kind, version", [(k, v) for k in KINDS for v in REFUSED[k]])
def test_any_other_api_version_is_a_400_naming_the_supported_ones(mock_server, kind, version):
    url, body, headers, _ = _chat_target(mock_server, kind)
    get_url, get_params = _get_target(mock_server, kind)
    for r in (
        post(url, body, headers, {"api-version": version}),
        HTTP.get(get_url, params={**get_params, "api-version": version}, headers=AUTH, timeout=10),
    ):
        assert r.status_code == 400 and r.headers["content-type"] == "application/json"
        assert r.json() == {"error": {"code": "UnsupportedApiVersion", "message": _refusal_message(kind, version)}}


# -- keys and the stand-in Entra ID token ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_wrong_or_missing_key_is_a_401_on_every_kind(mock_server, kind):
    url, body, headers, _ = _chat_target(mock_server, kind)
    get_url, get_params = _get_target(mock_server, kind)
    for auth in (WRONG, {"api-key": WRONG_KEY}, {"Authorization": ""}):
        for r in (
            HTTP.post(url, json=body, headers={**headers, **auth}, timeout=10),
            HTTP.get(get_url, params=get_params, headers=auth, timeout=10),
        ):
            assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized", (kind, auth)
    # the key works as 'api-key' too
    assert HTTP.post(url, json=body, headers={**headers, "api-key": DEMO_KEY}, timeout=10).status_code == 200


@pytest.mark.parametrize(
    "kind, accepted", [("openai-v1", True), ("foundry-models", True), ("managed", True), ("serverless", False)]
)
def test_the_stand_in_entra_token_on_the_resource_and_managed_compute_not_serverless(mock_server, kind, accepted):
    url, body, headers, recording = _chat_target(mock_server, kind)
    r = HTTP.post(url, json=body, headers={**headers, **STAND_IN}, timeout=10)
    get_url, get_params = _get_target(mock_server, kind)
    info = HTTP.get(get_url, params=get_params, headers=STAND_IN, timeout=10)
    if accepted:
        assert r.status_code == 200 and r.headers["x-replay-recording"] == recording
        assert info.status_code == 200
    else:
        assert r.status_code == info.status_code == 401
        assert "Entra" not in r.json()["error"]["message"], "a serverless endpoint takes keys only"


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
def test_entra_id_through_the_factories_on_the_resource(mock_server, kind):
    s = resource_settings(mock_server, kind, credential="", auth="entra")
    assert (
        helpers.openai_client(s, max_retries=0)
        .chat.completions.create(model=TODAY, messages=MESSAGES)
        .choices[0]
        .message.content
        == DOCUMENTED_ANSWER
    )
    with helpers.azure_client(s, retry_total=0) as client:
        assert client.complete(messages=MESSAGES).choices[0].message.content == DOCUMENTED_ANSWER
    r = HTTP.post(
        helpers.rest_url(s), headers=helpers.rest_headers(s), json={"model": TODAY, "messages": MESSAGES}, timeout=10
    )
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == DOCUMENTED_ANSWER


# -- images ---------------------------------------------------------------------------------------


def _with_images(count: int) -> list[dict]:
    content = [{"type": "text", "text": "Describe this image in two sentences."}]
    content += [{"type": "image_url", "image_url": {"url": f"{IMAGE_URL}?{i}"}} for i in range(count)]
    return [{"role": "user", "content": content}]


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
def test_a_text_only_deployment_refuses_an_image(mock_server, kind):
    r = resource_chat(mock_server, kind, {"model": TODAY, "messages": _with_images(1)})
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "code": "ImageInputNotSupported",
            "message": (
                f"The deployment {TODAY!r} takes text only: remove the image_url content items, or send them to a "
                "model that takes images (Llama 4)."
            ),
        }
    }
    # the page's 405B, text only too
    r = post(mock_server.endpoint(BIG) + "/chat/completions", {"messages": _with_images(1)})
    assert r.status_code == 400 and r.json()["error"]["code"] == "ImageInputNotSupported"


@pytest.mark.parametrize("kind", RESOURCE_KINDS)
def test_maverick_takes_one_image_and_refuses_two(mock_server, kind):
    recorded = json.loads((RECORDINGS / MAVERICK / "vision-public-url.json").read_text())["request"]["body"]
    r = resource_chat(mock_server, kind, {"model": MAVERICK, **recorded})
    assert r.status_code == 200 and r.headers["x-replay-recording"] == f"{MAVERICK}/vision-public-url"
    r = resource_chat(mock_server, kind, {"model": SCOUT, "messages": _with_images(1)})  # Scout takes one: no recording
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound"
    for model in (MAVERICK, SCOUT):
        r = resource_chat(mock_server, kind, {"model": model, "messages": _with_images(2)})
        assert r.status_code == 400 and r.json() == {
            "object": "error",
            "message": "At most 1 image(s) may be provided in one request.",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        }


def test_an_image_through_the_openai_sdk_to_the_text_only_deployment(mock_server):
    client = openai.OpenAI(base_url=mock_server.openai_v1_endpoint, api_key=DEMO_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=TODAY, messages=_with_images(1))
    assert caught.value.code == "ImageInputNotSupported"


# -- python -m helpers.mock env --endpoint-kind K ----------------------------------------------------------

EXPECTED_KIND = {  # prefix -> Settings.kind, per --endpoint-kind
    "openai-v1": {
        "AZURE_INFERENCE": "openai-v1",
        "AZURE_INFERENCE_SMALL": "openai-v1",
        "AZURE_INFERENCE_VISION": "openai-v1",
        "AZURE_INFERENCE_GUARD": "managed",
        "AZURE_INFERENCE_MANAGED": "managed",
    },
    "foundry-models": {
        "AZURE_INFERENCE": "foundry-models",
        "AZURE_INFERENCE_SMALL": "foundry-models",
        "AZURE_INFERENCE_VISION": "foundry-models",
        "AZURE_INFERENCE_GUARD": "managed",
        "AZURE_INFERENCE_MANAGED": "managed",
    },
    "serverless": {
        "AZURE_INFERENCE": "serverless",
        "AZURE_INFERENCE_SMALL": "serverless",
        "AZURE_INFERENCE_VISION": "serverless",
        "AZURE_INFERENCE_GUARD": "serverless",
        "AZURE_INFERENCE_MANAGED": "managed",
    },
}


def _reaches_the_server(s: helpers.Settings, dep) -> None:
    """One request with the settings' own URL and auth: the model list, or the model information of its deployment."""
    headers = helpers.rest_headers(s)
    if s.kind == "openai-v1":
        r = HTTP.get(f"{s.endpoint}/models", headers=headers, timeout=10)
        assert r.status_code == 200 and s.model in [m["id"] for m in r.json()["data"]]
    else:
        params = {"api-version": "2024-05-01-preview", **({"model": s.model} if s.on_resource else {})}
        r = HTTP.get(f"{s.endpoint}/info", params=params, headers=headers, timeout=10)
        assert r.status_code == 200 and r.json()["model_name"] == dep.model_name, r.text


@pytest.mark.parametrize("kind", ENDPOINT_KINDS)
def test_env_for_each_endpoint_kind_sets_every_deployment_and_reaches_the_server(
    mock_server, kind, monkeypatch, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_INFERENCE")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "helpers.mock", "env", "--endpoint-kind", kind, "--port", str(mock_server.port)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    variables = dict(line.split("=", 1) for line in done.stdout.splitlines())
    prefixes = deployment_prefixes()
    assert set(prefixes) == set(EXPECTED_KIND[kind])
    for prefix in prefixes:  # every variable of every prefix is set (some empty), so that no .env value leaks in
        for name in ("ENDPOINT", "CREDENTIAL", "MODEL", "DEPLOYMENT", "AUTH"):
            assert f"{prefix}_{name}" in variables, f"{prefix}_{name}"
        assert variables[f"{prefix}_ENDPOINT"].startswith(f"{mock_server.base_url}/")
    assert {k: v for k, v in variables.items() if not k.startswith("AZURE_INFERENCE")}.items() >= OFFLINE_ENV.items()
    for name in [n for n in os.environ if n.startswith("AZURE_INFERENCE")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env here or above
    by_prefix = {dep.env_prefix: dep for dep in deployments_for(DEPLOYMENTS, kind)}
    for prefix in prefixes:
        s = load_settings(prefix)
        dep = by_prefix[prefix]
        assert s.is_local and s.kind == EXPECTED_KIND[kind][prefix], prefix
        assert s.auth == dep.auth and s.deployment == (dep.azureml_deployment or "")
        if s.on_resource:
            assert (s.endpoint, s.model) == (
                f"{mock_server.base_url}{'/openai/v1' if kind == 'openai-v1' else '/models'}",
                dep.name,
            )
        else:
            assert s.endpoint == mock_server.endpoint(dep.name)
        _reaches_the_server(s, dep)


# -- today's recordings, derived from the page's -------------------------------------------------------

TODAY_FOLDERS = ["Llama-3.3-70B-Instruct", SCOUT, MAVERICK, "Llama-Guard-3-8B-managed"]


def test_derived_recordings_are_up_to_date():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "author_recordings_today.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


@pytest.mark.parametrize("folder", TODAY_FOLDERS)
def test_a_derived_recording_says_it_is_authored_and_where_it_came_from(folder):
    files = sorted((RECORDINGS / folder).glob("*.json"))
    assert files, folder
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        provenance = record["provenance"]
        assert provenance["source"] == "authored", path.name
        source_path = ROOT / provenance["derived_from"]
        assert source_path.is_file() and source_path.name == path.name, path
        source = json.loads(source_path.read_text(encoding="utf-8"))
        assert provenance["derived_from_source"] == source["provenance"]["source"] != "recorded-live"
        assert record["request"] == source["request"], "the same request as the page's"
        assert "It is not an answer of " in provenance["note"] and "make record" in provenance["note"]
