"""Which recording answers a request, the service's rules that apply first, and bad requests.

- Matching: the conversation, the stream flag and the generation parameters decide; what the
  service ignores (``model``, ``stream_options``, ``user``) and explicit defaults do not.
- Rules without recordings: messages required, ranges (422), extra parameters (400 / drop /
  pass-through), ``response_format`` ``json_object`` (422 ``parameter_not_supported``).
- Unmatched requests get a JSON 404 naming the closest recordings; malformed JSON, a wrong content
  type and oversize bodies get JSON errors; none of it is ever a 500 or a hang, and the server keeps
  serving afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time

import pytest
import requests

from helpers.mock import DEMO_KEY, MockServer, MockSettings
from helpers.mock.recordings import match_key
from tests.test_mock_quota_faults import Records  # a log handler that keeps its records

BIG = "Meta-Llama-3.1-405B-Instruct"
SMALL = "Meta-Llama-3.1-8B-Instruct"
VISION = "Llama-3.2-11B-Vision-Instruct"
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
QUESTION = {"role": "user", "content": "How many languages are in the world?"}
MESSAGES = [SYSTEM, QUESTION]
BASIC = f"{BIG}/how-many-languages"
STREAM = f"{BIG}/how-many-languages-stream"
PARAMETERS = f"{BIG}/how-many-languages-parameters"
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
EXTRA_DETAIL = (
    "Extra parameters ['logprobs'] are not allowed when extra-parameters is not set or set to be 'error'. "
    "Set extra-parameters to 'pass-through' to pass to the model."
)


def chat(mock, body, headers=None, route="/chat/completions", deployment=BIG, **kwargs) -> requests.Response:
    return requests.post(
        mock.endpoint(deployment) + route, json=body, headers={**AUTH, **(headers or {})}, timeout=10, **kwargs
    )


def answered_by(mock, body, headers=None) -> str | None:
    r = chat(mock, body, headers)
    if r.status_code == 404:
        assert r.json()["error"]["code"] == "RecordingNotFound"
        return None
    assert r.status_code == 200, r.text
    r.close()
    return r.headers["x-replay-recording"]


# -- matching ------------------------------------------------------------------------------------

PASS = {"extra-parameters": "pass-through"}


@pytest.mark.parametrize(
    "body, headers",
    [
        ({"messages": MESSAGES}, None),
        ({"messages": MESSAGES, "model": "anything-the-client-likes"}, None),
        ({"messages": MESSAGES, "stream": False}, None),
        ({"messages": MESSAGES, "response_format": {"type": "text"}}, None),
        ({"messages": MESSAGES, "temperature": None}, None),
        ({"messages": [SYSTEM, {"role": "user", "content": [{"type": "text", "text": QUESTION["content"]}]}]}, None),
        ({"messages": [{**SYSTEM, "name": None}, {**QUESTION, "name": ""}]}, None),
        ({"model": "x", "messages": MESSAGES}, None),  # key order does not count
        # n and user are extra parameters for this API: they need the header, then n=1 is a default and user is ignored.
        ({"messages": MESSAGES, "n": 1}, PASS),
        ({"messages": MESSAGES, "user": "someone"}, PASS),
        ({"messages": MESSAGES, "stream_options": {"include_usage": True}}, PASS),
    ],
    ids=[
        "plain",
        "model",
        "stream-false",
        "format-text",
        "null-param",
        "text-item",
        "empty-fields",
        "order",
        "n-1",
        "user",
        "stream-options",
    ],
)
def test_equivalent_requests_match_the_same_recording(mock_server, body, headers):
    assert answered_by(mock_server, body, headers) == BASIC


@pytest.mark.parametrize(
    "body",
    [
        {"messages": MESSAGES, "stream": True, "temperature": 0, "top_p": 1, "max_tokens": 2048},
        {"messages": MESSAGES, "stream": True, "temperature": 0.0, "top_p": 1.0, "max_tokens": 2048.0},
        {
            "messages": MESSAGES,
            "stream": True,
            "temperature": 0,
            "top_p": 1,
            "max_completion_tokens": 2048,
            "model": "m",
        },
        {
            "messages": MESSAGES,
            "stream": True,
            "temperature": 0,
            "top_p": 1,
            "max_tokens": 2048,
            "stream_options": {"include_usage": True},
        },
    ],
)
def test_stream_request_variants(mock_server, body):
    # stream_options and max_completion_tokens are extra parameters: the client must send the header.
    assert answered_by(mock_server, body, PASS) == STREAM


@pytest.mark.parametrize(
    "body",
    [
        {"messages": MESSAGES, "stream": True},  # the stream flag counts
        {"messages": MESSAGES, "temperature": 0, "top_p": 1, "max_tokens": 2048},  # the same params unstreamed
        {"messages": MESSAGES, "temperature": 0.5},  # generation parameters count
        {"messages": MESSAGES, "seed": 1},
        {"messages": [QUESTION]},  # the whole conversation counts
        {"messages": [SYSTEM, {"role": "user", "content": QUESTION["content"] + " "}]},
        {
            "messages": [
                SYSTEM,
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "How many"},
                        {"type": "text", "text": " languages are in the world?"},
                    ],
                },
            ]
        },
    ],
)
def test_different_requests_do_not_match(mock_server, body):
    assert answered_by(mock_server, body) is None


def test_documented_parameters_request_matches(mock_server):
    body = {
        "messages": MESSAGES,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.8,
        "max_tokens": 2048,
        "stop": ["<|endoftext|>"],
        "temperature": 0,
        "top_p": 1,
        "response_format": {"type": "text"},
    }
    assert answered_by(mock_server, body) == PARAMETERS
    # response_format text is a default: leaving it out is the same request.
    assert answered_by(mock_server, {k: v for k, v in body.items() if k != "response_format"}) == PARAMETERS


def test_a_request_recorded_for_another_deployment_names_that_deployments_variables(mock_server):
    # 'make serve' with only AZURE_INFERENCE_* set: notebook 08 falls back to the main deployment with a request
    # recorded for the small one. The 404 says which variables were missing: on the Foundry resource, the small
    # deployment's MODEL; in the page's serverless setup, its ENDPOINT. The same setup's deployment is named.
    base, recordings = mock_server.base_url, mock_server.replay.settings.recordings_dir
    small_request = json.loads((recordings / SMALL / "throughput-say-number-001.json").read_text())["request"]["body"]
    today = "Llama-3.3-70B-Instruct"
    r = requests.post(
        mock_server.openai_v1_endpoint + "/chat/completions",
        json={**small_request, "model": today},
        headers=AUTH,
        timeout=10,
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound"
    message = r.json()["error"]["message"]
    assert (
        "This request is recorded for Llama-4-Scout-17B-16E-Instruct: was it meant for that deployment? Set its "
        "variables (AZURE_INFERENCE_SMALL_MODEL=Llama-4-Scout-17B-16E-Instruct and the others that "
        "'.venv/bin/python -m helpers.mock env' prints)."
    ) in message, message
    r = chat(mock_server, small_request)  # the page's 405B
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound"
    message = r.json()["error"]["message"]
    assert (
        f"This request is recorded for {SMALL}: was it meant for that deployment? Set its variables "
        f"(AZURE_INFERENCE_SMALL_ENDPOINT={base}/{SMALL} and the others that "
        "'.venv/bin/python -m helpers.mock env --endpoint-kind serverless' prints)."
    ) in message, message
    # recorded for several: the main deployment of the same setup is named first (data/deployments.json's order)
    basic = json.loads((recordings / BIG / "how-many-languages.json").read_text())["request"]["body"]
    r = chat(mock_server, basic, deployment=SMALL)
    assert r.status_code == 404 and f"recorded for {BIG}: " in r.json()["error"]["message"]
    assert f"(AZURE_INFERENCE_ENDPOINT={base}/{BIG} " in r.json()["error"]["message"]
    r = requests.post(
        mock_server.openai_v1_endpoint + "/chat/completions",
        json={**basic, "model": "Llama-4-Scout-17B-16E-Instruct"},
        headers=AUTH,
        timeout=10,
    )
    assert r.status_code == 404 and f"recorded for {today}: " in r.json()["error"]["message"]
    assert f"(AZURE_INFERENCE_MODEL={today} " in r.json()["error"]["message"]
    # a request recorded nowhere gets no such hint
    r = chat(mock_server, {"messages": [{"role": "user", "content": "Not a recorded question"}]})
    assert r.status_code == 404 and "recorded for" not in r.json()["error"]["message"]


def test_match_key_unit():
    base = match_key({"messages": MESSAGES})
    assert match_key({"messages": MESSAGES, "model": "m", "stream": False, "n": 1, "user": "u"}) == base
    assert match_key({"messages": MESSAGES, "stream": True}) != base
    assert match_key({"messages": MESSAGES, "max_tokens": 5}) == match_key(
        {"messages": MESSAGES, "max_completion_tokens": 5.0}
    )
    # both spellings: max_tokens decides, whatever the order of the keys
    both = {"max_tokens": 5, "max_completion_tokens": 9}
    assert match_key({"messages": MESSAGES, **both}) == match_key(
        {"messages": MESSAGES, **dict(reversed(both.items()))}
    )
    assert match_key({"messages": MESSAGES, **both}) == match_key({"messages": MESSAGES, "max_tokens": 5})
    # An int too big for a float stays an int: it matches itself and nothing else.
    assert match_key({"messages": MESSAGES, "seed": 10**400}) == match_key({"messages": MESSAGES, "seed": 10**400})
    assert match_key({"messages": MESSAGES, "seed": 10**400}) != match_key({"messages": MESSAGES, "seed": 10**400 + 1})


def test_unmatched_request_names_the_closest_recordings(mock_server, tmp_path):
    body = {"messages": MESSAGES, "stream": True, "temperature": 0, "top_p": 1, "max_tokens": 1024}
    r = chat(mock_server, body)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert error["code"] == "RecordingNotFound"
    assert error["closest"][0] == STREAM  # only max_tokens differs
    assert 1 <= len(error["closest"]) <= 3
    assert STREAM in error["message"]
    # On a deployment without recordings the answer is still a JSON 404, quickly.
    started = time.monotonic()
    with MockServer(recordings_dir=tmp_path, key=DEMO_KEY) as empty:
        r = chat(empty, {"messages": MESSAGES}, deployment="Llama-Guard-3-8B")
    assert r.status_code == 404 and r.json()["error"]["closest"] == []
    assert time.monotonic() - started < 5


def test_the_closest_recordings_named_are_the_deployments_own(mock_server):
    # the 8B deployment has only throughput and router answers; the 405B folder's far closer ones must not be named
    r = chat(mock_server, {"messages": MESSAGES, "max_tokens": 7}, deployment=SMALL)
    closest = r.json()["error"]["closest"]
    assert r.status_code == 404 and closest and all(name.startswith(f"{SMALL}/") for name in closest), closest


# -- the service's rules (no recording needed) ----------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": "hello"}, "messages"),
        ({"messages": None}, "messages"),
        ({"messages": [{"content": "no role"}]}, "messages[0]"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0]"),
        ({"messages": [{"role": ["user"], "content": "x"}]}, "messages[0]"),
        ({"messages": ["just a string"]}, "messages[0]"),
    ],
)
def test_messages_are_required(mock_server, body, field):
    r = chat(mock_server, body, deployment="Meta-Llama-3.1-8B-Instruct")
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["loc"] == ["body", field]


@pytest.mark.parametrize(
    "field, value",
    [
        ("temperature", 1.5),
        ("temperature", -0.1),
        ("top_p", 2),
        ("top_p", -1),
        ("presence_penalty", 2.5),
        ("frequency_penalty", -3),
        ("max_tokens", -1),
        ("temperature", "hot"),
        ("temperature", True),
        ("stop", "<|endoftext|>"),
        ("stop", []),
        ("stop", [1]),
        ("stream", "yes"),
        ("seed", "abc"),
        ("seed", {"a": 1}),
        ("seed", True),
        ("seed", 1.5),
    ],
)
def test_out_of_range_values_get_422(mock_server, field, value):
    r = chat(mock_server, {"messages": MESSAGES, field: value})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["status"] == 422 and body["code"] == "invalid_value"
    assert body["detail"]["loc"] == ["body", field]
    assert body["message"] == "One of the parameters contain invalid values."


@pytest.mark.parametrize(
    "field, value",
    [
        ("temperature", 0),
        ("temperature", 1),
        ("top_p", 0),
        ("presence_penalty", -2),
        ("frequency_penalty", 2),
        ("max_tokens", 0),
        ("seed", 0),
        ("seed", -7),
    ],
)
def test_boundary_values_pass_the_rules(mock_server, field, value):
    assert chat(mock_server, {"messages": MESSAGES, field: value}).status_code == 404  # past the rules, no recording


@pytest.mark.parametrize("route", ["/chat/completions", "/v1/chat/completions"])
@pytest.mark.parametrize("header", [None, "error", "ERROR"])
def test_extra_parameters_without_pass_through_get_the_documented_400(mock_server, route, header):
    body = {"messages": MESSAGES, "logprobs": True, "max_tokens": 12}
    r = chat(mock_server, body, {"extra-parameters": header} if header else None, route=route)
    assert r.status_code == 400
    assert r.json() == {"detail": EXTRA_DETAIL}


def test_extra_parameters_list_every_name(mock_server):
    r = chat(
        mock_server, {"messages": MESSAGES, "max_completion_tokens": 10, "stream_options": {"include_usage": True}}
    )
    assert r.status_code == 400
    assert "['max_completion_tokens', 'stream_options']" in r.json()["detail"]


def test_extra_parameters_drop_and_pass_through(mock_server):
    body = {"messages": MESSAGES, "logprobs": True, "best_of": 3}
    # drop: the service ignores them, so the plain recording answers.
    assert answered_by(mock_server, body, {"extra-parameters": "drop"}) == BASIC
    # pass-through: they reach the model, so they count for matching.
    assert (
        answered_by(
            mock_server,
            {"messages": MESSAGES, "logprobs": True, "max_tokens": 12},
            {"extra-parameters": "pass-through"},
        )
        == f"{BIG}/extra-parameter-logprobs"
    )
    assert answered_by(mock_server, body, {"extra-parameters": "pass-through"}) is None
    r = chat(mock_server, body, {"extra-parameters": "sometimes"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_header"


@pytest.mark.parametrize(
    "fmt", [{"type": "json_object"}, {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}]
)
def test_json_response_format_is_not_supported_by_llama(mock_server, fmt):
    r = chat(mock_server, {"messages": MESSAGES, "response_format": fmt})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "parameter_not_supported"
    assert body["detail"] == {"loc": ["body", "response_format"], "input": fmt["type"]}
    assert chat(mock_server, {"messages": MESSAGES, "response_format": {"type": "xml"}}).status_code == 422


IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"tools": []}, "tools"),
        ({"tools": "abc"}, "tools"),
        ({"tools": ["abc"]}, "tools"),
        ({"tools": [{}]}, "tools"),
        ({"tools": [{"type": "function"}]}, "tools"),
        ({"tools": [{"type": "function", "function": {"description": "no name"}}]}, "tools"),
        ({"tools": [{"type": "retrieval", "function": {"name": "f"}}]}, "tools"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}, {}]}, "tools"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"tool_choice": {"type": "function"}}, "tool_choice"),
        ({"tool_choice": ["auto"]}, "tool_choice"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": {"text": "hi"}}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": [{"type": "audio", "audio": "x"}]}]}, "messages[0].content[0]"),
        ({"messages": [{"role": "user", "content": ["hi"]}]}, "messages[0].content[0]"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}, "messages[0].content[0]"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": "https://example.com/a.png"}]}
                ]
            },
            "messages[0].content[0]",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {**IMAGE["image_url"], "detail": "ultra"}}],
                    }
                ]
            },
            "messages[0].content[0]",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {**IMAGE["image_url"], "detail": ["low"]}}],
                    }
                ]
            },
            "messages[0].content[0]",
        ),
    ],
)
def test_tools_tool_choice_and_content_outside_the_contract_get_422(mock_server, extra, field):
    r = chat(mock_server, {"messages": MESSAGES, **extra})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_value" and body["message"] == "One of the parameters contain invalid values."
    assert body["detail"]["loc"] == ["body", field]


@pytest.mark.parametrize(
    "extra",
    [
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
        {"tool_choice": "auto"},
        {"tool_choice": "none"},
        {"tool_choice": "required"},
        {"tool_choice": {"type": "function", "function": {"name": "f"}}},
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "hi"},
                        {**IMAGE, "image_url": {**IMAGE["image_url"], "detail": "low"}},
                    ],
                }
            ]
        },
        {"messages": [{"role": "assistant", "content": None, "tool_calls": []}]},
    ],
)
def test_tools_tool_choice_and_content_the_contract_allows_pass_the_rules(mock_server, extra):
    # an image goes to a deployment that takes images (the 405B is text only and refuses it with a 400)
    deployment = VISION if "image_url" in json.dumps(extra) else BIG
    r = chat(mock_server, {"messages": MESSAGES, **extra}, deployment=deployment)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound"  # past the rules, no recording


def test_rules_apply_before_recordings_and_on_every_deployment(mock_server):
    for deployment in mock_server.endpoints:
        headers = {}
        if deployment.endswith("managed"):
            headers = {"azureml-model-deployment": mock_server.replay.deployments[deployment].azureml_deployment}
        r = chat(
            mock_server,
            {"messages": MESSAGES, "response_format": {"type": "json_object"}},
            headers,
            deployment=deployment,
        )
        assert r.status_code == 422 and r.json()["code"] == "parameter_not_supported", deployment


# -- bad requests: JSON errors, never a 500, the server keeps serving ----------------------------


def _still_serving(mock) -> None:
    assert answered_by(mock, {"messages": MESSAGES}) == BASIC


@pytest.mark.parametrize(
    "data, status, code",
    [
        (b"{not json", 400, "InvalidJson"),
        (b"", 400, "InvalidJson"),
        (b"[1, 2]", 400, "InvalidJson"),
        (b'"a string"', 400, "InvalidJson"),
        (b'{"messages": [], "temperature": NaN}', 400, "InvalidJson"),
        (b"\xff\xfe\x00garbage", 400, "InvalidJson"),
        (b"[" * 100_000, 400, "InvalidJson"),
    ],
)
def test_malformed_json_gets_a_json_400(mock_server, data, status, code):
    r = requests.post(
        mock_server.endpoint(BIG) + "/chat/completions",
        data=data,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    _still_serving(mock_server)


MESSAGE_JSON = '[{"role": "user", "content": "hi"}]'


@pytest.mark.parametrize(
    "data",
    [
        '{"messages": %s, "temperature": 1e400}' % MESSAGE_JSON,  # parses to infinity, which no answer can echo
        '{"messages": %s, "max_tokens": -1e400}' % MESSAGE_JSON,
        '{"messages": "\\ud800"}',  # a lone surrogate: UTF-8 cannot encode it
        '{"messages": %s, "stop": "\\udfff"}' % MESSAGE_JSON,
        '{"messages": %s, "response_format": {"type": "\\ud800"}}' % MESSAGE_JSON,
        '{"messages": %s, "\\ud800": 1}' % MESSAGE_JSON,
        '{"messages": %s, "seed": %s1%s}' % (MESSAGE_JSON, "[" * 600, "]" * 600),  # parses, but too deep to walk safely
    ],
    ids=["inf", "minus-inf", "surrogate-messages", "surrogate-stop", "surrogate-format", "surrogate-key", "nested-600"],
)
def test_json_that_parses_but_cannot_be_echoed_gets_a_json_400(mock_server, data):
    r = requests.post(
        mock_server.endpoint(BIG) + "/chat/completions",
        data=data.encode(),
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error"]["code"] == "InvalidJson"
    _still_serving(mock_server)


def test_record_mode_refuses_json_that_cannot_be_echoed_before_forwarding(tmp_path):
    from helpers.mock.server import free_port

    dead = f"http://127.0.0.1:{free_port()}/{BIG}"  # nothing listens there: a forwarded request would get a 502
    with MockServer(
        MockSettings(upstreams={BIG: (dead, "upstream-key-used-only-in-tests-01")}, recordings_dir=tmp_path)
    ) as proxy:
        for data in ('{"messages": %s, "temperature": 1e400}' % MESSAGE_JSON, '{"messages": "\\ud800"}'):
            r = requests.post(
                proxy.endpoint(BIG) + "/chat/completions",
                data=data.encode(),
                headers={**AUTH, "Content-Type": "application/json"},
                timeout=15,
            )
            assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidJson", r.text[:300]


@pytest.mark.parametrize(
    "body",
    [
        {"messages": MESSAGES, "seed": 10**400},  # too big for a float
        {"messages": MESSAGES, "max_tokens": 10**400},
        {"messages": [{**QUESTION, "name": 10**400}]},
        {
            "messages": MESSAGES,
            "tools": [{"type": "function", "function": {"name": "f", "parameters": json.loads("[" * 90 + "]" * 90)}}],
        },
    ],
)
def test_huge_integers_and_deep_nesting_within_the_limit_do_not_crash_matching(mock_server, body):
    r = chat(mock_server, body)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RecordingNotFound", r.text[:300]


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_wrong_content_type_gets_415(mock_server, content_type):
    headers = dict(AUTH)
    if content_type:
        headers["Content-Type"] = content_type
    r = requests.post(
        mock_server.endpoint(BIG) + "/chat/completions",
        data=json.dumps({"messages": MESSAGES}),
        headers=headers,
        timeout=10,
    )
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "UnsupportedMediaType"
    _still_serving(mock_server)


def test_content_type_with_charset_is_fine(mock_server):
    r = requests.post(
        mock_server.endpoint(BIG) + "/chat/completions",
        data=json.dumps({"messages": MESSAGES}).encode(),
        headers={**AUTH, "Content-Type": "application/json; charset=utf-8"},
        timeout=10,
    )
    assert r.status_code == 200


@pytest.fixture(scope="module")
def small_body_server():
    with MockServer(max_body_bytes=4096) as mock:
        yield mock


def test_oversize_body_gets_413(small_body_server):
    url = small_body_server.endpoint(BIG) + "/chat/completions"
    big = json.dumps({"messages": [{"role": "user", "content": "x" * 10_000}]}).encode()
    r = requests.post(url, data=big, headers={**AUTH, "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413 and r.json()["error"]["code"] == "PayloadTooLarge"
    # Without a Content-Length (chunked upload), the limit still holds.
    r = requests.post(
        url, data=iter([big[:3000], big[3000:]]), headers={**AUTH, "Content-Type": "application/json"}, timeout=10
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "PayloadTooLarge"
    _still_serving(small_body_server)


def test_oversize_body_at_the_default_limit(mock_server):
    limit = mock_server.settings.max_body_bytes
    big = b'{"messages": [{"role": "user", "content": "' + b"x" * (limit + 10) + b'"}]}'
    r = requests.post(
        mock_server.endpoint(BIG) + "/chat/completions",
        data=big,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413
    _still_serving(mock_server)


def test_weird_bodies_never_get_a_500(mock_server):
    bodies = [  # (body, the answer the contract gives it)
        ({"messages": [{"role": "user", "content": {"nested": [1, 2, {"x": None}]}}]}, 422),
        ({"messages": [{"role": "user", "content": None}]}, 422),  # user content: a string or a list of items
        ({"messages": [{"role": "user"}]}, 422),
        (
            {"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "1"}]},
            404,
        ),  # tool content: optional
        ({"messages": [{"role": "user", "content": "hi"}], "response_format": "text"}, 422),  # an object with a type
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1.5}, 422),  # an integer
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5.0}, 404),  # an integer written as a float
        ({"messages": [{"role": "user", "content": "hi"}], "stream": None}, 404),  # null is absent, as for every field
        ({"messages": [{"role": "user", "content": "hi"}], "response_format": "json_object"}, 422),
        ({"messages": [{"role": "user", "content": "hi"}], "response_format": ["text"]}, 422),
        ({"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": ["text"]}}, 422),
        ({"messages": [{"role": "user", "content": "hi"}], "stop": [None]}, 422),
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e308}, 404),
        ({"messages": [{"role": "user", "content": "hi" * 10_000}]}, 404),
        (
            {"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}], "tools": [], "tool_choice": "auto"},
            422,
        ),  # tools: at least 1
    ]
    for body, status in bodies:
        for stream in (False, True):
            r = chat(mock_server, {**body, "stream": stream} if stream else body)
            assert r.status_code == status, (body, r.status_code, r.text[:200])
            assert r.headers["content-type"] == "application/json"
            r.json()
    _still_serving(mock_server)


def test_a_client_that_hangs_up_mid_request_does_not_hurt(mock_server):
    """Half a body then a closed socket; and a request that never finishes its body, abandoned."""
    request = (
        f"POST /{BIG}/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {DEMO_KEY}\r\n"
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"messages": ['
    ).encode()
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", mock_server.port), timeout=5) as sock:
            sock.sendall(request)
    _still_serving(mock_server)


def _hang_ups(records: Records) -> list[str]:
    """This test's hang-up lines: the previous test's, on another deployment, may be noted late on a busy machine."""
    return [
        r.getMessage() for r in records.records if "disconnected" in r.getMessage() and f"/{SMALL}/" in r.getMessage()
    ]


def test_a_client_that_aborts_its_upload_is_noted_in_one_line_without_a_traceback():
    server = MockServer()  # configures uvicorn's loggers, so add the handlers after this
    # Another deployment than the previous test's: its hang-ups, noted late on a busy machine, are not counted here.
    uvicorn_errors, ours = Records(), Records()
    logging.getLogger("uvicorn.error").addHandler(uvicorn_errors)
    mock_logger = logging.getLogger("helpers.mock")
    mock_logger.addHandler(ours)
    level, mock_logger.level = mock_logger.level, logging.INFO
    request = (
        f"POST /{SMALL}/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {DEMO_KEY}\r\n"
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"messages": ['
    ).encode()
    try:
        with server as mock:
            with socket.create_connection(("127.0.0.1", mock.port), timeout=5) as sock:
                sock.sendall(request)
            # The server notices the hang-up asynchronously: wait for its one line (it comes quickly).
            deadline = time.monotonic() + 5
            while not _hang_ups(ours) and time.monotonic() < deadline:
                time.sleep(0.02)
            _still_serving(mock)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(uvicorn_errors)
        mock_logger.removeHandler(ours)
        mock_logger.setLevel(level)
    assert _hang_ups(ours) == [f"POST /{SMALL}/chat/completions: client disconnected before sending the whole body"]
    assert not [r.getMessage() for r in uvicorn_errors.records if r.levelno >= logging.ERROR]


def test_a_long_unmatched_prompt_gets_its_404_quickly(mock_server):
    """Naming the closest recordings must not take time quadratic in the prompt (it once took minutes)."""
    body = {
        "messages": [SYSTEM, {"role": "user", "content": "How many languages are in the world? " * 30_000}]
    }  # ~1 MB
    started = time.monotonic()
    r = chat(mock_server, body)
    assert r.status_code == 404 and r.json()["error"]["closest"]
    assert time.monotonic() - started < 10  # generous; typically well under a second
    _still_serving(mock_server)


# -- heavy bodies, stalled uploads, and what --log-requests prints --------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"logit_bias": [0] * 100_001},  # wide: counted once parsed
        {
            "logit_bias": [[[[]]]] * 40_000
        },  # many small nested arrays (120,000 lists), like the reported 8 MB body but smaller
        {"logit_bias": {str(i): 0 for i in range(50_001)}},  # keys count too
    ],
    ids=["wide", "nested", "keys"],
)
def test_a_body_with_too_many_json_values_gets_a_json_400(mock_server, extra):
    from helpers.mock.bodies import MAX_JSON_NODES

    r = chat(
        mock_server, {"messages": MESSAGES, **extra}, PASS
    )  # pass-through: without the cap it would be matched (404)
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error"]["code"] == "InvalidJson"
    assert f"more than {MAX_JSON_NODES}" in r.json()["error"]["message"]
    _still_serving(mock_server)


def test_a_body_of_that_many_arrays_is_refused_before_it_is_parsed(monkeypatch):
    """Parsing millions of arrays holds the GIL for seconds, in a worker thread too: the bound comes first."""
    from helpers.mock import bodies

    parsed = []
    monkeypatch.setattr(bodies, "_unechoable", lambda body: parsed.append(body))  # called on every parsed body
    answer = bodies.parse_body(b'{"messages": [], "seed": [' + b",".join([b"[[[[]]]]"] * 30_000) + b"]}")
    assert not parsed and answer.status_code == 400
    assert json.loads(answer.body)["error"]["code"] == "InvalidJson"


def test_a_body_of_that_many_numbers_is_refused_before_it_is_parsed(monkeypatch):
    """Flat arrays have no brackets to count, but a comma per element: a million zeros are not parsed either."""
    from helpers.mock import bodies

    parsed = []
    monkeypatch.setattr(bodies, "_unechoable", lambda body: parsed.append(body))
    answer = bodies.parse_body(b'{"messages": [], "seed": [' + b",".join([b"0"] * 1_000_000) + b"]}")
    assert not parsed and answer.status_code == 400


def test_brackets_and_colons_in_a_prompt_of_ordinary_length_are_fine(mock_server):
    prompt = 'Explain this JSON: {"a": [1, {"b": [2, 3]}]} ' * 2_000  # 18,000 brackets, colons and commas
    assert (
        answered_by(mock_server, {"messages": [SYSTEM, {"role": "user", "content": prompt}]}) is None
    )  # a 404, not a 400


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_large_bodies_are_parsed_checked_and_matched_off_the_event_loop(monkeypatch):
    """A heavy body must not stall other clients: its parsing, rules and lookup run in a worker thread."""
    from helpers.mock import app as app_module
    from helpers.mock.recordings import RecordingStore

    on_loop: dict[str, list[bool]] = {}

    def spy(name, fn):
        def wrapper(*args):
            on_loop.setdefault(name, []).append(_on_event_loop())
            return fn(*args)

        return wrapper

    monkeypatch.setattr(app_module, "parse_body", spy("parse", app_module.parse_body))
    monkeypatch.setattr(app_module.ReplayServer, "_checked_body", spy("rules", app_module.ReplayServer._checked_body))
    monkeypatch.setattr(RecordingStore, "find", spy("find", RecordingStore.find))
    large = {"messages": [SYSTEM, {"role": "user", "content": "x" * (app_module.OFF_LOOP_BYTES + 1)}]}
    with MockServer() as mock:
        assert answered_by(mock, {"messages": MESSAGES}) == BASIC  # small: on the loop, where it is cheapest
        assert answered_by(mock, large) is None
    assert on_loop == {"parse": [True, False], "rules": [True, False], "find": [True, False]}


def test_a_stalled_upload_gets_a_json_408_and_its_connection_closed():
    request = (
        f"POST /{BIG}/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {DEMO_KEY}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        '{"messages": ['  # 14 of the 1000 bytes, then nothing
    ).encode()
    with MockServer(body_timeout_seconds=0.2) as mock:
        with socket.create_connection(("127.0.0.1", mock.port), timeout=20) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):  # to the end: the server closes the connection after its answer
                answer += chunk
        _still_serving(mock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), head
    assert json.loads(body)["error"]["code"] == "RequestTimeout"
    assert MockSettings().body_timeout_seconds == 30.0


def test_log_requests_prints_a_short_summary_never_an_extra_parameters_value(caplog):
    planted = "sk-test-SECRET123456789"  # looks like a key, in an extra parameter
    prompt = "Tell me about " + "very " * 100_000 + "long prompts."  # 500 kB
    body = {
        "messages": [SYSTEM, {"role": "user", "content": prompt}],
        "temperature": 0.5,
        "api_key": planted,
        "metadata": {"note": planted},
        "x" * 5000: 1,
    }
    with MockServer(log_requests=True) as mock:  # configures uvicorn's loggers: capture from here on
        with caplog.at_level(logging.INFO, logger="helpers.mock"):
            assert answered_by(mock, body, PASS) is None
            assert answered_by(mock, {"messages": MESSAGES}) == BASIC
    lines = [r.getMessage() for r in caplog.records]
    assert all(planted not in line and "very " * 40 not in line for line in lines), lines
    assert all(len(line) < 500 for line in lines), [len(line) for line in lines]
    [unmatched] = [line for line in lines if "no recording for" in line]
    assert "'Tell me about very very" in unmatched and "temperature=0.5" in unmatched
    assert "api_key" in unmatched and "metadata" in unmatched, (
        "the names of extra parameters help; their values never appear"
    )
    assert any(line.endswith(f"-> {BASIC}") for line in lines)


def test_misses_use_at_most_one_worker_thread_and_the_closest_search_is_cached():
    """A request that matches nothing gets its 404 (with the closest recordings) without a thread per miss: a few
    hundred distinct misses at once leave the thread count where it was, and the same miss twice is searched once."""
    import asyncio
    import threading

    import httpx

    from helpers.mock import MockServer

    async def send(url: str, headers: dict, count: int) -> list[int]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50), timeout=10) as client:

            async def one(i: int) -> int:
                body = {"messages": [{"role": "user", "content": f"A question nobody recorded, number {i}."}]}
                return (await client.post(url, json=body, headers=headers)).status_code

            return await asyncio.gather(*(one(i) for i in range(count)))

    with MockServer() as mock:
        url = mock.endpoint("Meta-Llama-3.1-405B-Instruct") + "/chat/completions"
        headers = {"api-key": mock.settings.key}
        asyncio.run(send(url, headers, 1))  # warm up: the server's own threads are all there now
        before = threading.active_count()
        statuses = asyncio.run(
            send(url, headers, 200)
        )  # the client runs on this thread: any new thread is the server's
        grown = threading.active_count() - before
        assert statuses == [404] * 200
        assert grown <= 1, f"{grown} threads more after 200 misses"

        store, searched = mock.replay.store, []
        compute = store._closest_now
        store._closest_now = lambda *args: searched.append(args) or compute(*args)
        body = {"messages": [{"role": "user", "content": "Asked twice, recorded never."}]}
        first, second = (requests.post(url, json=body, headers=headers, timeout=5) for _ in range(2))
        assert first.status_code == second.status_code == 404
        assert first.json()["error"]["closest"] == second.json()["error"]["closest"] != []
        assert len(searched) == 1, "the same miss was searched twice"
