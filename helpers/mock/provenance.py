"""Every answer says where it came from: ``x-replay-provenance`` on each response.

A replayed recording carries its own provenance (``documented-example``, ``authored``, ``recorded-live``) and its name
in ``x-replay-recording``. Everything else the replay server answers by itself (its copy of the service's rules, a
routing or auth error, an injected fault, a quota 429) is labelled ``replay-server`` here, so a notebook printing
``helpers.answered_by`` never mistakes it for a live endpoint's answer.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-replay-provenance"
OWN_ANSWER = b"replay-server"


class LabelOwnAnswers:
    """Pure ASGI middleware (no per-request task or body buffering): adds the header when a response lacks it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == HEADER for name, _ in headers):
                    headers.append((HEADER, OWN_ANSWER))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, labelled)
