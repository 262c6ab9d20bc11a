"""Connection limits for the replay server's HTTP layer: uvicorn's h11 protocol with two additions.

**A bound on the request head.** uvicorn 0.54 with ``http="h11"`` has no timeout while a request head arrives:
``timeout_keep_alive`` only runs between a response and the next request's first byte, and every byte received
cancels it. A client sending its head a byte a second (or nothing at all after connecting) held its connection,
and a file descriptor, forever. ``HeadTimeoutH11Protocol`` starts a timer when a connection opens and after each
response, stops it once h11 has read a whole head, and closes the connection when it fires first. (A stalled body
is the app's business: a 408 after ``body_timeout_seconds``.)

**A JSON 503 past the connection limit.** Past the process's open-file limit, ``accept`` fails and connections are
dropped with no answer. uvicorn's ``limit_concurrency`` answers 503 instead, but in plain text; here the same check
(connections or requests in flight at the limit) answers in the service's error shape, with ``Retry-After`` and
``Connection: close``. The default limit sits below the open-file soft limit, leaving descriptors for the
recordings, record mode's upstream connections and the 503s themselves.
"""

from __future__ import annotations

import asyncio
import json
import resource
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

RETRY_AFTER_SECONDS = 1
# Descriptors kept free below the open-file soft limit: at least this many, or a tenth of the limit.
HEADROOM = 64
# With no open-file limit at all, still a bound.
UNLIMITED_CONNECTIONS = 10_000


def connection_limit(configured: int | None) -> int:
    """``configured``, or a default below the process's open-file soft limit (``resource.getrlimit``)."""
    if configured is not None:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return UNLIMITED_CONNECTIONS
    return max(1, min(UNLIMITED_CONNECTIONS, soft - max(HEADROOM, soft // 10)))


async def _service_unavailable(scope: Any, receive: Any, send: Any) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "ServiceUnavailable",
                "message": "The replay server is at its limit of open "
                f"connections; retry after {RETRY_AFTER_SECONDS} s.",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"x-ms-error-code", b"ServiceUnavailable"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class HeadTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol; subclasses made by ``http_protocol`` set the two bounds."""

    head_timeout: float = 15.0
    max_connections: int = UNLIMITED_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self.limit_concurrency = None  # uvicorn's plain-text 503 off: the app below answers it in JSON
        app, limit = self.app, self.max_connections

        async def limited(scope: Any, receive: Any, send: Any) -> None:
            # uvicorn's own check, counted once this connection and this request are in (hence > and not >=).
            if scope["type"] == "http" and (len(self.connections) > limit or len(self.tasks) > limit):
                await _service_unavailable(scope, receive, send)
            else:
                await app(scope, receive, send)

        self.app = limited

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():  # still no whole head
            self.logger.info("closing a connection whose request head did not arrive within %s s", self.head_timeout)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a whole head was read (or the connection failed)
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may already read a pipelined request
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm_head_timer()  # the next request's head, from now


def http_protocol(head_timeout: float, max_connections: int | None) -> type[HeadTimeoutH11Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with these bounds."""
    return type(
        "ReplayH11Protocol",
        (HeadTimeoutH11Protocol,),
        {"head_timeout": head_timeout, "max_connections": connection_limit(max_connections)},
    )
