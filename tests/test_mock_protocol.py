"""The replay server speaks the wire protocol: routes, authentication, JSON answers, SSE streams, errors.

Raw HTTP with ``requests`` against the session's replay server (the ``mock_server`` fixture), so the
assertions are about bytes and headers on the wire, not about what a client library makes of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from helpers.mock import DEMO_KEY, STAND_IN_ENTRA_TOKEN
from helpers.mock.deployments import load_deployments

ROOT = Path(__file__).resolve().parents[1]
BIG = "Meta-Llama-3.1-405B-Instruct"
MANAGED = "Llama-3.2-3B-Instruct-managed"
API_VERSION = "2024-05-01-preview"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "How many languages are in the world?"},
]
STREAM_BODY = {"messages": MESSAGES, "stream": True, "temperature": 0, "top_p": 1, "max_tokens": 2048}
DEPLOYMENTS = load_deployments(ROOT / "data" / "deployments.json")
CHAT_ROUTES = [f"/chat/completions?api-version={API_VERSION}", "/v1/chat/completions"]
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}


def recording(name: str) -> dict:
    return json.loads((ROOT / "data" / "recordings" / BIG / f"{name}.json").read_text(encoding="utf-8"))


def post(mock, route: str, body, headers=None, deployment: str = BIG, **kwargs) -> requests.Response:
    return requests.post(
        mock.endpoint(deployment) + route, json=body, headers={**AUTH, **(headers or {})}, timeout=10, **kwargs
    )


# -- routes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_each_deployment_has_its_own_info(mock_server, name):
    """A serverless or managed endpoint answers /<name>/info; a deployment on the Foundry resource has no URL of its
    own: the resource's /models/info answers for the deployment its ``model`` query names."""
    dep = DEPLOYMENTS[name]
    if dep.own_endpoint:
        r = requests.get(f"{mock_server.endpoint(name)}/info?api-version={API_VERSION}", headers=AUTH, timeout=5)
    else:
        r = requests.get(
            f"{mock_server.models_endpoint}/info",
            params={"api-version": API_VERSION, "model": name},
            headers=AUTH,
            timeout=5,
        )
        own = requests.get(f"{mock_server.endpoint(name)}/info?api-version={API_VERSION}", headers=AUTH, timeout=5)
        assert own.status_code == 404 and own.json()["error"]["code"] == "DeploymentNotFound"
        assert "/openai/v1 and /models" in own.json()["error"]["message"]
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"model_name": dep.model_name, "model_type": "chat-completions", "model_provider_name": "Meta"}


def test_info_without_api_version_and_endpoints_listed(mock_server):
    assert requests.get(mock_server.endpoint(BIG) + "/info", headers=AUTH, timeout=5).json()["model_name"] == BIG
    today = "Llama-3.3-70B-Instruct"
    assert (
        requests.get(mock_server.models_endpoint + "/info", params={"model": today}, headers=AUTH, timeout=5).json()[
            "model_name"
        ]
        == today
    )
    assert set(mock_server.endpoints) == {name for name, dep in DEPLOYMENTS.items() if dep.own_endpoint}
    assert (mock_server.openai_v1_endpoint, mock_server.models_endpoint) == (
        f"{mock_server.base_url}/openai/v1",
        f"{mock_server.base_url}/models",
    )
    env = mock_server.env()  # the default kind: today's deployments through the resource's OpenAI v1 endpoint
    assert (env["AZURE_INFERENCE_ENDPOINT"], env["AZURE_INFERENCE_MODEL"]) == (mock_server.openai_v1_endpoint, today)
    assert env["AZURE_INFERENCE_MANAGED_AUTH"] == "entra"
    assert env["AZURE_INFERENCE_MANAGED_DEPLOYMENT"] == DEPLOYMENTS[MANAGED].azureml_deployment
    page = mock_server.env("serverless")  # the page's setup: one endpoint per model
    assert page["AZURE_INFERENCE_ENDPOINT"] == mock_server.endpoint(BIG)


@pytest.mark.parametrize("route", CHAT_ROUTES)
def test_both_chat_routes_answer_the_same_recording(mock_server, route):
    r = post(mock_server, route, {"messages": MESSAGES})
    assert r.status_code == 200
    assert r.json() == recording("how-many-languages")["response"]["body"]
    assert r.headers["x-replay-recording"] == f"{BIG}/how-many-languages"
    assert r.headers["x-replay-provenance"] == "documented-example"


def test_each_deployment_has_its_own_recordings(mock_server):
    # The 8B deployment has no recording of the 405B's question: the prefix selects the recordings.
    r = post(mock_server, "/chat/completions", {"messages": MESSAGES}, deployment="Meta-Llama-3.1-8B-Instruct")
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound"


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/nope/info", 404),
        ("POST", "/nope/chat/completions", 404),
        ("GET", "/", 404),
        ("POST", f"/{BIG}/completions", 404),
        ("GET", f"/{BIG}/chat/completions", 405),
        ("DELETE", f"/{BIG}/v1/chat/completions", 405),
        ("POST", f"/{BIG}/info", 405),
        ("POST", f"/{BIG}/chat/completions/", 404),  # a trailing slash is another path, not a redirect
        ("GET", f"/{BIG}/info/", 404),
    ],
)
def test_routing_errors_are_json(mock_server, method, path, status):
    r = requests.request(method, mock_server.base_url + path, headers=AUTH, timeout=5)
    assert r.status_code == status
    assert r.json()["error"]["message"]
    assert r.headers["x-ms-error-code"] == r.json()["error"]["code"]


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", f"/{BIG}/chat/completions", {"POST"}),
        ("DELETE", f"/{BIG}/v1/chat/completions", {"POST"}),
        ("POST", f"/{BIG}/info", {"GET", "HEAD"}),
    ],
)
def test_405_names_the_allowed_methods(mock_server, method, path, allowed):
    """RFC 9110: a 405 must carry an Allow header."""
    r = requests.request(method, mock_server.base_url + path, headers=AUTH, timeout=5)
    assert r.status_code == 405 and r.json()["error"]["code"] == "MethodNotAllowed"
    assert {m.strip() for m in r.headers["allow"].split(",")} == allowed


# -- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {DEMO_KEY}"},
        {"Authorization": f"bearer {DEMO_KEY}"},
        {"Authorization": DEMO_KEY},  # older samples: the raw key
        {"api-key": DEMO_KEY},
        {"Authorization": f"Bearer {DEMO_KEY}", "api-key": DEMO_KEY},  # what azure-ai-inference sends
    ],
)
def test_accepted_key_forms(mock_server, headers):
    for route in CHAT_ROUTES:
        r = requests.post(mock_server.endpoint(BIG) + route, json={"messages": MESSAGES}, headers=headers, timeout=5)
        assert r.status_code == 200, (route, r.text)
    assert requests.get(mock_server.endpoint(BIG) + "/info", headers=headers, timeout=5).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer <a-wrong-key>"},
        {"api-key": "wrong-key-wrong-key-wrong-key-00"},
        {"Authorization": f"Basic {DEMO_KEY}"},
        {"Authorization": f"Bearer {STAND_IN_ENTRA_TOKEN}"},  # Entra ID: not on serverless endpoints
    ],
)
def test_missing_or_wrong_credentials_get_401_json(mock_server, headers):
    for url in (mock_server.endpoint(BIG) + "/chat/completions", mock_server.endpoint(BIG) + "/v1/chat/completions"):
        r = requests.post(url, json={"messages": MESSAGES}, headers=headers, timeout=5)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "Unauthorized"
        assert DEMO_KEY not in r.text
    assert requests.get(mock_server.endpoint(BIG) + "/info", headers=headers, timeout=5).status_code == 401


def test_the_401_names_what_each_deployment_takes(mock_server):
    """A serverless endpoint takes keys only; managed compute also takes Entra ID tokens, and its 401 says so."""
    wrong = {"Authorization": "Bearer <a-wrong-token>"}
    serverless = requests.post(
        mock_server.endpoint(BIG) + "/chat/completions", json={"messages": MESSAGES}, headers=wrong, timeout=5
    )
    managed = requests.post(
        mock_server.endpoint(MANAGED) + "/chat/completions", json={"messages": MESSAGES}, headers=wrong, timeout=5
    )
    assert serverless.status_code == managed.status_code == 401
    assert "token" not in serverless.json()["error"]["message"]
    assert (
        "Entra ID token" in managed.json()["error"]["message"]
        and "https://ml.azure.com/.default" in managed.json()["error"]["message"]
    )


def test_stand_in_entra_token_on_managed_compute_and_the_foundry_resource_not_on_serverless(mock_server):
    """Microsoft Entra ID works on Foundry resources and managed compute; the page's serverless endpoints take keys
    only."""
    token = {"Authorization": f"Bearer {STAND_IN_ENTRA_TOKEN}"}
    managed = mock_server.endpoint(MANAGED)
    assert requests.get(managed + "/info", headers=token, timeout=5).json()["model_name"] == "Llama-3.2-3B-Instruct"
    assert requests.get(managed + "/info", headers=AUTH, timeout=5).status_code == 200  # keys work there too
    for name, dep in DEPLOYMENTS.items():
        if dep.kind == "serverless":
            r = requests.get(mock_server.endpoint(name) + "/info", headers=token, timeout=5)
            assert r.status_code == 401 and "Entra" not in r.json()["error"]["message"], name
        elif dep.kind == "managed":
            assert requests.get(mock_server.endpoint(name) + "/info", headers=token, timeout=5).status_code == 200, name
        else:
            r = requests.get(mock_server.models_endpoint + "/info", params={"model": name}, headers=token, timeout=5)
            assert r.status_code == 200 and r.json()["model_name"] == dep.model_name, name
    listed = requests.get(mock_server.openai_v1_endpoint + "/models", headers=token, timeout=5)
    assert listed.status_code == 200
    # With the token, a chat request gets past auth (no recording for it: 404, not 401).
    unrecorded = [{"role": "user", "content": "A question nobody recorded."}]
    r = requests.post(managed + "/chat/completions", json={"messages": unrecorded}, headers=token, timeout=5)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound"


def test_managed_deployment_header_must_name_its_deployment(mock_server):
    managed = mock_server.endpoint(MANAGED)
    right = {**AUTH, "azureml-model-deployment": DEPLOYMENTS[MANAGED].azureml_deployment}
    assert requests.get(managed + "/info", headers=right, timeout=5).status_code == 200
    wrong = requests.get(managed + "/info", headers={**AUTH, "azureml-model-deployment": "other"}, timeout=5)
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "DeploymentNotFound"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer <a-wrong-key>"}])
def test_the_managed_deployment_header_is_looked_at_only_after_the_credential(mock_server, headers):
    """Without a valid credential the answer is the 401, not a 404 that names the real deployment."""
    managed = mock_server.endpoint(MANAGED)
    headers = {**headers, "azureml-model-deployment": "nope"}
    for r in (
        requests.get(managed + "/info", headers=headers, timeout=5),
        requests.post(managed + "/chat/completions", json={"messages": MESSAGES}, headers=headers, timeout=5),
    ):
        assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"
        assert DEPLOYMENTS[MANAGED].azureml_deployment not in r.text


# -- answers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "how-many-languages",
        "how-many-languages-parameters",
        "multi-turn-follow-up",
        "json-by-prompting-first-try",
        "json-by-prompting-retry",
    ],
)
def test_json_bodies_are_replayed_as_recorded(mock_server, name):
    rec = recording(name)
    r = post(mock_server, "/chat/completions", rec["request"]["body"])
    assert r.status_code == rec["response"]["status"] == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == rec["response"]["body"]
    assert r.headers["x-replay-recording"] == f"{BIG}/{name}"
    assert r.headers["x-replay-provenance"] == rec["provenance"]["source"]


@pytest.mark.parametrize("name", ["extra-parameter-logprobs", "extra-parameter-n-2"])
def test_extra_parameter_recordings_with_pass_through(mock_server, name):
    rec = recording(name)
    r = post(mock_server, "/v1/chat/completions", rec["request"]["body"], {"extra-parameters": "pass-through"})
    assert r.status_code == 200 and r.json() == rec["response"]["body"]
    assert r.headers["x-replay-provenance"] == "authored"


def test_recorded_content_filter_error_is_replayed_with_its_status(mock_server):
    rec = recording("content-filter-knife-skills")
    for route in CHAT_ROUTES:
        r = post(mock_server, route, rec["request"]["body"])
        assert r.status_code == 400
        assert r.json() == rec["response"]["body"]
        assert r.json()["error"]["code"] == "content_filter"


@pytest.mark.parametrize("route", CHAT_ROUTES)
def test_streams_are_real_server_sent_events(mock_server, route):
    rec = recording("how-many-languages-stream")
    with post(mock_server, route, STREAM_BODY, stream=True) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-replay-recording"] == f"{BIG}/how-many-languages-stream"
        raw = b"".join(r.iter_content(chunk_size=None)).decode("utf-8")
    events = raw.split("\n\n")
    assert events[-1] == "", "every event ends with a blank line"
    events = events[:-1]
    for event in events:
        assert event.startswith("data: ") and "\n" not in event, f"not a data-only event: {event[:60]!r}"
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[len("data: ") :]) for e in events[:-1]]
    assert chunks == [e["data"] for e in rec["response"]["stream"][:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all("role" not in c["choices"][0]["delta"] for c in chunks[1:])
    assert all(c["choices"][0]["finish_reason"] is None and "usage" not in c for c in chunks[:-1])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"] == {"prompt_tokens": 19, "total_tokens": 91, "completion_tokens": 72}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == recording("how-many-languages")["response"]["body"]["choices"][0]["message"]["content"]


# -- images ---------------------------------------------------------------------------------------

VISION = "Llama-3.2-11B-Vision-Instruct"


def _image_turn(*urls: str) -> list[dict]:
    items = [{"type": "text", "text": "What do these images have in common?"}]
    items += [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return [{"role": "user", "content": items}]


@pytest.mark.parametrize("route", CHAT_ROUTES)
def test_two_images_in_one_request_get_the_400_with_or_without_a_recording(mock_server, route):
    body = {"messages": _image_turn("https://example.com/a.png", "https://example.com/b.png")}
    r = post(mock_server, route, body, deployment=VISION)
    assert r.status_code == 400
    assert r.json()["message"] == "At most 1 image(s) may be provided in one request."


def test_one_image_is_not_refused_by_the_image_rule(mock_server):
    r = post(mock_server, CHAT_ROUTES[0], {"messages": _image_turn("https://example.com/a.png")}, deployment=VISION)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound"  # no recording, but no rule broken


# -- HTTP framing: what the server's HTTP parser (helpers.mock.app.HTTP_PARSER) must get right -----------------------


def _raw_exchange(mock, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are and read until the server closes the connection."""
    import socket

    answer = b""
    with socket.create_connection(("127.0.0.1", mock.port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:  # the server refused the request and closed while it was still being sent
            pass
    return answer


def _raw_chat(body: dict, version: str = "1.1", extra_headers: str = "") -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST /{BIG}/chat/completions HTTP/{version}\r\nHost: 127.0.0.1\r\napi-key: {DEMO_KEY}\r\nContent-Type: "
        f"application/json\r\nContent-Length: {len(data)}\r\n{extra_headers or 'Connection: close'}\r\n\r\n"
    ).encode() + data


def test_a_request_offering_an_upgrade_keeps_its_body(mock_server):
    # curl --http2 on an http:// URL adds these two headers; the server answers in HTTP/1.1 and must still read the body
    basic = recording("how-many-languages")["request"]["body"]
    answer = _raw_exchange(
        mock_server,
        _raw_chat(
            basic,
            extra_headers=(
                "Connection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA"
            ),
        ),
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]


def test_an_http_1_0_client_gets_its_stream_without_chunked_framing(mock_server):
    stream = recording("how-many-languages-stream")["request"]["body"]
    head, _, body = _raw_exchange(mock_server, _raw_chat(stream, version="1.0")).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"transfer-encoding" not in head.lower()  # RFC 9112: no Transfer-Encoding in an answer to HTTP/1.0
    assert body.startswith(b"data: {") and body.rstrip().endswith(b"data: [DONE]")


def test_an_oversized_header_is_refused_at_once(mock_server):
    request = (
        f"GET /{BIG}/info HTTP/1.1\r\nHost: 127.0.0.1\r\napi-key: {DEMO_KEY}\r\nConnection: close\r\n"
        f"X-Padding: {'a' * 1_000_000}\r\n\r\n"
    ).encode()
    answer = _raw_exchange(mock_server, request)
    # refused (a 4xx, or the connection closed before the whole header was sent), not read into memory and answered
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:200]
