"""Run the replay server: in a background thread (``MockServer``) or in the foreground (the CLI)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from typing import Any

import uvicorn

from .app import MockSettings, ReplayServer
from .connections import http_protocol
from .deployments import DEFAULT_ENDPOINT_KIND, client_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MockServer:
    """The replay server on 127.0.0.1, in a background thread, for ``with`` blocks and pytest fixtures.

    >>> with MockServer() as mock:
    ...     os.environ.update(mock.env())
    """

    def __init__(self, settings: MockSettings | None = None, port: int = 0, **overrides: Any) -> None:
        # Keyword overrides apply on top of ``settings`` (or the defaults): MockServer(settings, rpm=2).
        self.settings = dataclasses.replace(settings, **overrides) if settings else MockSettings(**overrides)
        self.replay = ReplayServer(self.settings)
        # Bind now and keep the socket: no window in which another process could take a free port.
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self._socket.listen(2048)
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.replay.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            http=http_protocol(self.settings.head_timeout_seconds, self.settings.max_connections),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="mock-server", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, deployment: str) -> str:
        """What ``AZURE_INFERENCE_ENDPOINT`` should hold to reach this deployment."""
        return f"{self.base_url}/{deployment}"

    @property
    def endpoints(self) -> dict[str, str]:
        return {name: self.endpoint(name) for name, dep in self.replay.deployments.items() if dep.own_endpoint}

    @property
    def openai_v1_endpoint(self) -> str:
        """The emulated Foundry resource's OpenAI v1 endpoint (today's path)."""
        return f"{self.base_url}/openai/v1"

    @property
    def models_endpoint(self) -> str:
        """The emulated Foundry resource's Azure AI model inference endpoint (retired on 2026-08-26)."""
        return f"{self.base_url}/models"

    def env(self, kind: str = DEFAULT_ENDPOINT_KIND) -> dict[str, str]:
        """Environment variables that point every notebook at this server, reaching today's deployments through
        ``kind`` (``openai-v1`` or ``foundry-models``), or the page's (``serverless``)."""
        return client_env(self.replay.deployments, self.base_url, self.settings.key, kind)

    def start(self) -> "MockServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The replay server did not start on port {self.port}.")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> "MockServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
