"""helpers.service_error / explain_error: one formatter for the service's error shapes, whichever
library raised them. Each error is produced for real, through each library, against the replay server."""

from __future__ import annotations

import litellm
import pytest

import helpers
from helpers.errors import ADVICE, retry_after_seconds, wait_requested
from helpers.mock import MockServer
from tests.test_helpers_clients import MESSAGES, SEND, documented_answer, key_settings

CONTENT_FILTER_MESSAGES = [
    {"role": "system", "content": "You are an AI assistant that helps people find information."},
    {
        "role": "user",
        "content": (
            "Chopping tomatoes and cutting them into cubes or wedges are great ways to practice your knife skills."
        ),
    },
]
WRONG_KEY = "wrong-key-for-the-local-mock-000"

# kind -> (server: "ok" | "busy" | "down", wrong key?, messages, params, expected status, expected code)
CASES = {
    "content_filter": ("ok", False, CONTENT_FILTER_MESSAGES, {}, 400, "content_filter"),
    "parameter_not_supported": (
        "ok",
        False,
        MESSAGES,
        {"response_format": {"type": "json_object"}},
        422,
        "parameter_not_supported",
    ),
    "invalid_value": ("ok", False, MESSAGES, {"temperature": 1.5}, 422, "invalid_value"),
    "extra_parameters": ("ok", False, MESSAGES, {"logprobs": True, "max_tokens": 12}, 400, None),
    "unauthorized": ("ok", True, MESSAGES, {}, 401, "Unauthorized"),
    "rate_limited": ("busy", False, MESSAGES, {}, 429, "429"),
    "server_error": ("down", False, MESSAGES, {}, 503, "ServiceUnavailable"),
    "no_recording": (
        "ok",
        False,
        [{"role": "user", "content": "Not a recorded question"}],
        {},
        404,
        "RecordingNotFound",
    ),
}
# LiteLLM never raises the extra-parameters 400: it drops the parameters and sends the request again itself.
MATRIX = [(kind, path) for kind in CASES for path in SEND if not (kind == "extra_parameters" and path == "litellm")]


@pytest.fixture(scope="module")
def servers(mock_server):
    with (
        MockServer(fault_rate=1.0, fault_statuses=(429,)) as busy,
        MockServer(fault_rate=1.0, fault_statuses=(503,)) as down,
    ):
        yield {"ok": mock_server, "busy": busy, "down": down}


def raise_error(servers, kind: str, path: str) -> BaseException:
    server, wrong_key, messages, params, _, _ = CASES[kind]
    settings = key_settings(servers[server], key=WRONG_KEY if wrong_key else None)
    with pytest.raises(Exception) as caught:
        SEND[path](settings, messages=messages, **params)
    return caught.value


@pytest.mark.parametrize("kind, path", MATRIX, ids=[f"{k}-{p}" for k, p in MATRIX])
def test_each_error_through_each_library(servers, kind, path, capsys):
    exc = raise_error(servers, kind, path)
    _, _, _, _, status, code = CASES[kind]
    err = helpers.service_error(exc)
    assert (err.kind, err.status, err.code) == (kind, status, code)
    assert err.message and err.message != str(exc)  # the service's own words, not the library's wrapper text
    assert err.retry_after == (1.0 if kind == "rate_limited" else None)
    if kind == "content_filter":  # the body as the service sent it, whichever library unwrapped it
        assert err.body["error"]["code"] == "content_filter" and err.body["error"]["status"] == 400

    assert helpers.explain_error(exc) == err
    out = capsys.readouterr().out
    assert out.startswith(f"HTTP {status} ({kind}")
    assert f"from {type(exc).__name__}" in out
    # the service's own words; a long one (the replay server's 404 lists the recorded questions) cut at 500 characters
    said = err.message if len(err.message) <= 500 else err.message[:500] + " ..."
    assert f"  service says: {said}\n" in out
    assert f"  what to do:   {ADVICE[kind]}\n" in out


def test_the_libraries_exception_types(servers):
    """What each library raises for a 400 (a sanity check that the matrix covers the right types)."""
    import azure.core.exceptions
    import httpx
    import openai
    import requests
    from langchain_core.exceptions import ModelError

    expected = {
        "azure-ai-inference": azure.core.exceptions.HttpResponseError,
        "openai": openai.BadRequestError,
        "langchain": ModelError,  # langchain-openai wraps openai's errors (subclassing both)
        "litellm": litellm.BadRequestError,
        "requests": requests.HTTPError,
        "httpx": httpx.HTTPStatusError,
    }
    for path, exc_type in expected.items():
        exc = raise_error(servers, "content_filter", path)
        assert isinstance(exc, exc_type), path
    assert isinstance(raise_error(servers, "content_filter", "langchain"), openai.BadRequestError)


def test_litellm_drops_extra_parameters_and_retries_by_itself(mock_server):
    """LiteLLM answers the extra-parameters 400 by resending without them, so the call succeeds, silently."""
    reply = SEND["litellm"](key_settings(mock_server), logprobs=True)
    assert reply.choices[0].message.content == documented_answer()
    assert reply.choices[0].logprobs is None


def test_no_retry_after_header(servers):
    with MockServer(fault_rate=1.0, fault_statuses=(429,), retry_after=False) as server:
        for path in SEND:
            with pytest.raises(Exception) as caught:
                SEND[path](key_settings(server))
            err = helpers.service_error(caught.value)
            assert (err.kind, err.retry_after) == ("rate_limited", None), path


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("1", 1.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_seconds(value, seconds):
    assert retry_after_seconds(value) == seconds


@pytest.mark.parametrize(
    "headers, seconds",
    [
        ({"retry-after-ms": "250", "retry-after": "1"}, 0.25),  # the finer header wins
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),  # unreadable: fall back to Retry-After
        ({"retry-after-ms": "-5"}, 0.0),
        ({"retry-after-ms": "inf"}, None),
        ({}, None),
    ],
)
def test_wait_requested(headers, seconds):
    assert wait_requested(headers) == seconds


def test_http_date_retry_after_in_the_future():
    import time
    from email.utils import formatdate

    assert 25 < retry_after_seconds(formatdate(time.time() + 30, usegmt=True)) <= 30


def test_an_exception_without_a_response(capsys):
    err = helpers.explain_error(ValueError("not an HTTP error"))
    assert (err.status, err.kind, err.message) == (None, "other", "not an HTTP error")
    out = capsys.readouterr().out
    assert "No HTTP answer (ValueError): not an HTTP error" in out and "HTTP None" not in out
    assert "*_ENDPOINT" in out  # what to check


def test_litellm_reports_a_failed_connection_as_a_500_it_never_received():
    import socket

    from helpers.retry import is_retryable

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(litellm.InternalServerError) as caught:  # LiteLLM's name for "nothing answered"
        litellm.completion(
            model="azure_ai/x",
            api_base=f"http://127.0.0.1:{port}/x",
            api_key="not-a-key",
            messages=MESSAGES,
            num_retries=0,
        )
    assert caught.value.status_code == 500
    err = helpers.service_error(caught.value)
    assert (err.status, err.kind) == (None, "other") and "Connection refused" in err.message
    assert not is_retryable(caught.value)


def test_an_unread_httpx_stream_response_is_explained_not_a_crash():
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"error": {"code": "429", "message": "slow down"}}, headers={"Retry-After": "2"}
        )

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        with client.stream("POST", "http://127.0.0.1/chat/completions", json={}) as response:
            try:
                response.raise_for_status()
            except httpx.HTTPStatusError as exc:  # its response was never read: .text raises ResponseNotRead
                err = helpers.service_error(exc)
    assert (err.status, err.kind, err.retry_after) == (429, "rate_limited", 2.0)


def test_a_retry_after_date_without_a_zone_is_utc(monkeypatch):
    import datetime as dt
    import time
    from email.utils import format_datetime

    from helpers.errors import retry_after_seconds

    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        in_ten_seconds = format_datetime(
            dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(seconds=10)
        )
        assert in_ten_seconds.endswith("-0000")
        assert 8 <= retry_after_seconds(in_ten_seconds) <= 10
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_an_error_event_inside_a_stream_keeps_the_services_advice(capsys):
    class APIError(Exception):  # what the openai SDK raises for a data: {"error": ...} event in a 200 stream
        body = {
            "code": "content_filter",
            "message": "The response was filtered",
            "status": 400,
            "type": None,
            "param": "prompt",
        }

    err = helpers.explain_error(APIError("The response was filtered"))
    out = capsys.readouterr().out
    assert err.kind == "content_filter" and "No HTTP answer" not in out and ADVICE["content_filter"] in out
