"""Retries for 429, 500 and 503, with bounded exponential backoff (tenacity).

Only those statuses are retried: a 400, 401 or 422 would fail the same way again, and after a 502 or 504 or a
broken connection the request may already have been processed. The clients retry some failures by themselves too
(azure-core: 500/503/504 and answers with Retry-After; openai and LangChain: twice; LiteLLM: ``num_retries``):
turn that off (``retry_total=0``, ``max_retries=0``, ``num_retries=0``) when you wrap a call here, or the attempts
multiply.

``retry-after-ms`` or ``Retry-After`` is honoured when the service sends it (capped at ``max_wait``); without it the
wait doubles from ``initial`` (plus up to ``initial`` of random jitter), never above ``max_wait``. Wrap the call that
*starts* a request; a stream that breaks halfway is not retried here, because part of it has already
been shown.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from .errors import service_error

RETRYABLE_STATUSES = frozenset({429, 500, 503})
T = TypeVar("T")


def is_retryable(exc: BaseException) -> bool:
    """True for the statuses worth another try: 429 (over quota), 500 and 503 (the service failed)."""
    return service_error(exc).status in RETRYABLE_STATUSES


class wait_retry_after_or_backoff:
    """Wait as long as the error's ``retry-after-ms`` / ``Retry-After`` asks, else exponential backoff with jitter."""

    def __init__(self, initial: float = 0.5, max_wait: float = 20.0) -> None:
        self.max_wait = max_wait
        self.backoff = wait_exponential_jitter(multiplier=initial, max=max_wait, jitter=initial)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = service_error(exc).retry_after if exc else None
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        return self.backoff(state)


def _policy(attempts: int, initial: float, max_wait: float) -> dict[str, Any]:
    return {
        "retry": retry_if_exception(is_retryable),
        "wait": wait_retry_after_or_backoff(initial, max_wait),
        "stop": stop_after_attempt(attempts),
        "reraise": True,
    }


def with_retries(
    fn: Callable[..., T], *args: Any, attempts: int = 4, initial: float = 0.5, max_wait: float = 20.0, **kwargs: Any
) -> T:
    """Call ``fn(*args, **kwargs)``, retrying 429/500/503 up to ``attempts`` times in all."""
    return Retrying(**_policy(attempts, initial, max_wait))(fn, *args, **kwargs)


async def with_retries_async(
    fn: Callable[..., Awaitable[T]],
    *args: Any,
    attempts: int = 4,
    initial: float = 0.5,
    max_wait: float = 20.0,
    **kwargs: Any,
) -> T:
    """``with_retries`` for coroutines: ``await with_retries_async(client.complete, messages=...)``."""
    return await AsyncRetrying(**_policy(attempts, initial, max_wait))(fn, *args, **kwargs)
