"""pytest plugin: start the replay server once per test session and point everything at it.

The server starts in ``pytest_sessionstart``, before nbval launches any kernel, so the notebook
kernels inherit the environment. Each xdist worker gets its own server on a free port.
Enabled from the top-level ``conftest.py``, and loaded early by ``-p helpers.pytest_plugin`` in
``pyproject.toml`` so that the line below runs before nbval imports nbformat; tests use the
``mock_server`` fixture.
"""

from __future__ import annotations

import os
import sys

# nbformat validates with jsonschema, which imports its optional IRI format checker ``rfc3987_syntax``
# when installed (it is, through jupyterlab); that module builds Lark parsers at import, about a second
# in every pytest process. No notebook schema uses the iri formats: skip it.
sys.modules.setdefault("rfc3987_syntax", None)

import pytest

from .mock import DEMO_KEY, MockServer

# Offline switches for libraries that otherwise reach out to the internet (see README, 'Offline').
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # LiteLLM: use the bundled model cost map, no download at import
    "HF_HUB_OFFLINE": "1",  # LiteLLM streaming: no tokenizer download from the Hugging Face hub
    "LITELLM_OFFLINE_MODE": "true",  # LiteLLM's own switch: nothing fetched by itself (and no fallback warning)
    "LITELLM_TELEMETRY": "False",
}

_server: MockServer | None = None


def offline_env(server: MockServer) -> dict[str, str]:
    """Everything a process needs to run the notebooks against ``server``."""
    env = dict(OFFLINE_ENV)
    env.update(server.env())
    return env


def pytest_sessionstart(session: pytest.Session) -> None:
    global _server
    if session.config.pluginmanager.has_plugin("dsession"):
        return  # the xdist controller runs no test: each worker starts its own server
    _server = MockServer(key=DEMO_KEY).start()
    for name in [k for k in os.environ if k.startswith("AZURE_INFERENCE")]:
        del os.environ[name]  # tests never run against a live endpoint, even when one is configured
    os.environ.update(offline_env(_server))


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _server is not None:
        _server.stop()


@pytest.fixture(scope="session")
def mock_server() -> MockServer:
    """The session's replay server (already started, environment already exported)."""
    assert _server is not None, "helpers.pytest_plugin was not loaded as a plugin"
    return _server
