"""helpers.with_retries / with_retries_async: 429, 500 and 503 retried with bounded exponential backoff,
honouring Retry-After; nothing else retried. The libraries' own retries are off (see SEND), so the
call counts below are exact. Waits are recorded instead of slept where their length matters."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import httpx
import litellm
import openai
import pytest
import requests
from tenacity import AsyncRetrying, RetryCallState, Retrying

import helpers
import helpers.retry
from helpers.mock import MockServer
from tests.test_helpers_clients import ASEND, MESSAGES, SEND, answer_text, documented_answer, key_settings
from tests.test_helpers_errors import CONTENT_FILTER_MESSAGES, WRONG_KEY

FAST = {"initial": 0.001, "max_wait": 0.01}


@pytest.fixture(scope="module")
def faulty():
    """Servers that always fail with one status; with and without Retry-After on 429."""
    servers = {
        429: MockServer(fault_rate=1.0, fault_statuses=(429,), fault_retry_after_seconds=0.25),
        "429 without Retry-After": MockServer(fault_rate=1.0, fault_statuses=(429,), retry_after=False),
        500: MockServer(fault_rate=1.0, fault_statuses=(500,)),
        503: MockServer(fault_rate=1.0, fault_statuses=(503,)),
    }
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Record each sleep between attempts instead of sleeping (tenacity's ``sleep=`` hook)."""
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(helpers.retry, "Retrying", functools.partial(Retrying, sleep=slept.append))
    monkeypatch.setattr(helpers.retry, "AsyncRetrying", functools.partial(AsyncRetrying, sleep=asleep))
    return slept


class Counter:
    """Wraps a call and counts how often it was made."""

    def __init__(self, fn: Any) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.fn(*args, **kwargs)


# -- what is retried, and how often -----------------------------------------------------------------


def test_exactly_429_500_and_503_are_retried():
    """Pinned: after a 502 or 504 the request may already have been processed, so neither may join the set."""
    assert helpers.retry.RETRYABLE_STATUSES == frozenset({429, 500, 503})
    for status in range(400, 600):
        response = httpx.Response(
            status,
            json={"error": {"code": str(status), "message": "x"}},
            request=httpx.Request("POST", "http://127.0.0.1/chat/completions"),
        )
        exc = httpx.HTTPStatusError(f"HTTP {status}", request=response.request, response=response)
        assert helpers.retry.is_retryable(exc) == (status in (429, 500, 503)), status


@pytest.mark.parametrize("status", [429, "429 without Retry-After", 500, 503])
@pytest.mark.parametrize("path", SEND)
def test_retryable_statuses_are_retried_up_to_attempts(faulty, status, path, waits):
    call = Counter(SEND[path])
    with pytest.raises(Exception) as caught:
        helpers.with_retries(call, key_settings(faulty[status]), attempts=3, **FAST)
    assert call.calls == 3
    assert helpers.service_error(caught.value).status == (429 if status == "429 without Retry-After" else status)
    assert len(waits) == 2


@pytest.mark.parametrize("path", SEND)
def test_success_after_failures_returns_the_answer(faulty, mock_server, path):
    """Two 503s, then the healthy server: the third attempt's answer comes back (real, tiny sleeps)."""

    def flaky(attempt=[0]) -> Any:  # noqa: B006 - the counter lives in the default
        attempt[0] += 1
        return SEND[path](key_settings(faulty[503] if attempt[0] < 3 else mock_server))

    call = Counter(flaky)
    assert answer_text(helpers.with_retries(call, attempts=4, **FAST)) == documented_answer()
    assert call.calls == 3


NOT_RETRIED = {
    "400 content filter": ({"messages": CONTENT_FILTER_MESSAGES}, None, 400),
    "400 extra parameters": ({"logprobs": True, "max_tokens": 12}, None, 400),
    "401 wrong key": ({}, WRONG_KEY, 401),
    "422 json_object": ({"response_format": {"type": "json_object"}}, None, 422),
    "404 no recording": ({"messages": [{"role": "user", "content": "Not recorded"}]}, None, 404),
}


@pytest.mark.parametrize("case", NOT_RETRIED)
@pytest.mark.parametrize("path", [p for p in SEND if p != "litellm"])
def test_errors_that_would_fail_again_are_not_retried(mock_server, case, path, waits):
    kwargs, key, status = NOT_RETRIED[case]
    call = Counter(SEND[path])
    with pytest.raises(Exception) as caught:
        helpers.with_retries(call, key_settings(mock_server, key=key), attempts=5, **FAST, **kwargs)
    assert call.calls == 1 and waits == []
    assert helpers.service_error(caught.value).status == status


# The exception LiteLLM raises for each (LiteLLM drops extra parameters and resends by itself: no 400 to test).
# It has no class of its own for a 422 from this provider: that one arrives as a BadRequestError with status 422.
LITELLM_RAISES = {
    "400 content filter": litellm.BadRequestError,
    "401 wrong key": litellm.AuthenticationError,
    "422 json_object": litellm.BadRequestError,
    "404 no recording": litellm.NotFoundError,
}


def test_litellm_is_checked_for_every_error_that_is_not_retried():
    assert set(LITELLM_RAISES) == set(NOT_RETRIED) - {"400 extra parameters"}


@pytest.mark.parametrize("case", LITELLM_RAISES)
def test_litellm_errors_that_would_fail_again_are_not_retried(mock_server, case, waits):
    kwargs, key, status = NOT_RETRIED[case]
    call = Counter(SEND["litellm"])
    with pytest.raises(LITELLM_RAISES[case]) as caught:
        helpers.with_retries(call, key_settings(mock_server, key=key), attempts=5, **FAST, **kwargs)
    assert call.calls == 1 and waits == []
    assert caught.value.status_code == status
    assert helpers.service_error(caught.value).status == status


def test_exceptions_without_a_status_are_not_retried(waits):
    call = Counter(lambda: (_ for _ in ()).throw(ConnectionError("network down")))
    with pytest.raises(ConnectionError):
        helpers.with_retries(call, attempts=5, **FAST)
    assert call.calls == 1


# -- how long it waits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SEND)
def test_retry_after_is_honoured(faulty, path, waits):
    """The 429 says retry-after-ms: 250 (and Retry-After: 1); each library's exception exposes the finer one."""
    with pytest.raises(Exception) as caught:  # each library raises its own class; the status says it was the 429
        helpers.with_retries(SEND[path], key_settings(faulty[429]), attempts=3, initial=0.001, max_wait=5)
    assert helpers.service_error(caught.value).status == 429
    assert waits == [0.25, 0.25]


def test_retry_after_is_capped_at_max_wait(faulty, waits):
    with pytest.raises(openai.RateLimitError):
        helpers.with_retries(SEND["openai"], key_settings(faulty[429]), attempts=2, initial=0.001, max_wait=0.1)
    assert waits == [0.1]


def test_without_retry_after_the_backoff_doubles_and_stays_bounded(faulty, waits):
    with pytest.raises(requests.HTTPError) as caught:
        helpers.with_retries(
            SEND["requests"], key_settings(faulty["429 without Retry-After"]), attempts=6, initial=0.1, max_wait=1.0
        )
    assert caught.value.response.status_code == 429
    assert len(waits) == 5
    for n, wait in enumerate(waits[:3]):  # 0.1, 0.2, 0.4 plus up to 0.1 of jitter
        assert 0.1 * 2**n <= wait <= 0.1 * 2**n + 0.1
    assert all(wait <= 1.0 for wait in waits) and waits[-1] == 1.0  # 1.6 and 3.2 capped


def test_the_wait_strategy_alone():
    wait = helpers.retry.wait_retry_after_or_backoff(initial=0.5, max_wait=20)
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = 3
    state.set_exception((ValueError, ValueError("no response"), None))
    assert 2.0 <= wait(state) <= 2.5  # 0.5 * 2**2, plus at most 0.5 of jitter


def test_real_sleeps_are_short_with_small_settings(faulty):
    """End to end without recording: four attempts against 503s finish quickly with tiny waits."""
    import time

    call = Counter(SEND["httpx"])
    started = time.monotonic()
    with pytest.raises(httpx.HTTPStatusError) as caught:
        helpers.with_retries(call, key_settings(faulty[503]), attempts=4, initial=0.01, max_wait=0.05)
    assert caught.value.response.status_code == 503
    assert call.calls == 4 and time.monotonic() - started < 5


# -- async ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["azure-ai-inference aio", "openai async", "litellm async", "httpx async"])
def test_async_retries(faulty, mock_server, path, waits):
    calls = []

    async def flaky() -> Any:
        calls.append(1)
        server = faulty[429] if len(calls) < 3 else mock_server
        return await ASEND[path](key_settings(server))

    result = asyncio.run(helpers.with_retries_async(flaky, attempts=4, initial=0.001, max_wait=5))
    assert answer_text(result) == documented_answer()
    assert len(calls) == 3 and waits == [0.25, 0.25]


def test_async_not_retried_on_401(mock_server, waits):
    calls = []

    async def call() -> Any:
        calls.append(1)
        return await ASEND["openai async"](key_settings(mock_server, key=WRONG_KEY), messages=MESSAGES)

    with pytest.raises(Exception) as caught:
        asyncio.run(helpers.with_retries_async(call, attempts=4, **FAST))
    assert len(calls) == 1 and helpers.service_error(caught.value).status == 401
