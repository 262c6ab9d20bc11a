"""pytest plugin: start the replay server once per test session and point everything at it.

The server starts in ``pytest_sessionstart``, before nbval launches any kernel, so the notebook
kernels inherit the environment. Each xdist worker gets its own server on a free port.
Enabled from the top-level ``conftest.py``, and loaded early by ``-p helpers.pytest_plugin`` in
``pyproject.toml`` so that the line below runs before nbval imports nbformat; tests use the
``mock_server`` fixture.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

# nbformat validates with jsonschema, which imports its optional IRI format checker ``rfc3987_syntax``
# when installed (it is, through jupyterlab); that module builds Lark parsers at import, about a second
# in every pytest process. No notebook schema uses the iri formats: skip it.
sys.modules.setdefault("rfc3987_syntax", None)

import pytest
from jupyter_client.manager import KernelManager

from . import offline
from .constants import DEMO_KEY

# the replay server (starlette, uvicorn) is imported where a worker starts it, not by xdist's controller
if TYPE_CHECKING:
    from .mock import MockServer

# nbval stops each notebook's kernel with a kill, after which jupyter_client checks every 100 ms whether the
# process has gone (KernelManager._async_wait): the first check comes too early, so every notebook waited
# 0.1 s for a process that was gone after a few milliseconds. Check every 5 ms instead (bench/notebook_suite.py).
KERNEL_EXIT_POLL_SECONDS = 0.005
_wait_for_kernel_exit = KernelManager._async_wait


async def _wait_polling_often(self: KernelManager, pollinterval: float = KERNEL_EXIT_POLL_SECONDS) -> None:
    await _wait_for_kernel_exit(self, pollinterval=min(pollinterval, KERNEL_EXIT_POLL_SECONDS))


KernelManager._async_wait = _wait_polling_often

# How long each notebook took in the last benchmark run (bench/notebook_suite.py writes it), and each test file
# (bench/test_time.py writes it).
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_SECONDS_FILE = ROOT / "bench" / "results" / "notebook_seconds.json"
TEST_SECONDS_FILE = ROOT / "bench" / "results" / "test_seconds.json"

_server: MockServer | None = None
# Variables that make a notebook call a live service (GitHub Models in 03 and 05): never set under tests.
LIVE_ONLY_VARIABLES = ("GITHUB_TOKEN",)


def offline_env(server: MockServer) -> dict[str, str]:
    """Everything a process needs to run the notebooks against ``server`` (helpers/offline.py)."""
    return offline.offline_env(server.env())


def notebook_seconds(path: Path = NOTEBOOK_SECONDS_FILE) -> dict[str, float]:
    """Seconds per notebook file name from the last benchmark; empty if there is none."""
    return _seconds(path)


def test_file_seconds(path: Path = TEST_SECONDS_FILE) -> dict[str, float]:
    """Seconds per test file (``tests/test_x.py``) from the last bench/test_time.py run; empty if there is none."""
    return _seconds(path)


def _seconds(path: Path) -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(path.read_text())["seconds"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def pytest_configure(config: pytest.Config) -> None:
    args = config.invocation_params.args
    # nbval runs a notebook's cells one after the other on one kernel, so with -n N they must all go to the same
    # worker: plain `-n 2` (xdist's --dist load, which spreads single tests) means --dist loadfile here.
    if getattr(config.option, "dist", None) == "load" and not any(
        a == "--dist" or a.startswith(("--dist=", "-d")) for a in args
    ):
        config.option.dist = "loadfile"
    # With --dist loadfile, xdist hands out whole files, by default the ones with most tests first. For
    # notebooks the number of cells says little about their time, and a long one handed out last keeps one
    # worker busy while the other idles: keep the order set below (slowest first) unless --loadscope-reorder.
    if getattr(config.option, "loadscopereorder", None) and "--loadscope-reorder" not in args:
        config.option.loadscopereorder = False


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With --dist loadfile (make test): a notebook goes whole to one worker (nbval runs its cells in order on one
    kernel), while the tests of tests/ are handed out one by one, slowest file first: a file of long tests (every
    notebook under the other endpoint kinds, every notebook re-run cell by cell) no longer keeps one worker busy for
    a minute while the other idles."""
    if getattr(config.option, "dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksWholeTestsOneByOne(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".ipynb") else nodeid

    return NotebooksWholeTestsOneByOne(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slowest first, so that no long file is handed out last while the other worker idles: notebooks by the last
    benchmark (new ones, not measured yet, before them), test files by bench/results/test_seconds.json (a test file
    that took longer than a notebook goes before it); test files not measured go last, in their usual order. Each
    file's tests keep their order (the sort is stable).

    Without Node.js the JavaScript notebooks are skipped, and the end of the run says so loudly."""
    from .javascript import is_javascript_notebook, javascript_unavailable

    javascript = sorted(
        {item.path for item in items if item.path.suffix == ".ipynb" and is_javascript_notebook(item.path)}
    )
    if javascript and (reason := javascript_unavailable()):
        for item in items:
            if item.path in javascript:
                item.add_marker(pytest.mark.skip(reason=f"{JAVASCRIPT_SKIP} {reason}"))
    seconds, file_seconds = notebook_seconds(), test_file_seconds()

    def slowest_first(item: pytest.Item) -> float:
        if item.path.suffix == ".ipynb":
            return -seconds.get(item.path.name, math.inf)
        path = item.path
        name = (path.relative_to(ROOT) if path.is_absolute() and path.is_relative_to(ROOT) else path).as_posix()
        return -file_seconds.get(name, 0.0)

    items.sort(key=slowest_first)


def pytest_sessionstart(session: pytest.Session) -> None:
    global _server
    if session.config.pluginmanager.has_plugin("dsession"):
        return  # the xdist controller runs no test: each worker starts its own server
    from .mock import MockServer

    _server = MockServer(key=DEMO_KEY).start()
    for name in [k for k in os.environ if k.startswith("AZURE_INFERENCE") or k in LIVE_ONLY_VARIABLES]:
        del os.environ[name]  # tests never run against a live endpoint, even when one is configured
    os.environ.update(offline_env(_server))


JAVASCRIPT_SKIP = "JavaScript notebook not run:"


def pytest_terminal_summary(terminalreporter: "pytest.TerminalReporter") -> None:
    """Skipped JavaScript notebooks, in red at the end of the run (read from the reports: under xdist the workers
    collect, and this runs in the controller)."""
    reasons = sorted(
        {
            str(report.longrepr[2])
            for report in terminalreporter.stats.get("skipped", [])
            if isinstance(report.longrepr, tuple) and JAVASCRIPT_SKIP in str(report.longrepr[2])
        }
    )
    if reasons:
        terminalreporter.section("JAVASCRIPT NOTEBOOKS SKIPPED", sep="!", red=True, bold=True)
        for reason in reasons:
            terminalreporter.line(reason.removeprefix("Skipped: "), red=True, bold=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # The process ends right after this: stop the replay server without waiting for uvicorn's shutdown (its 0.1 s
    # ticks cost 0.2 s at the end of every worker's session, bench/notebook_suite.py); exiting ends its thread.
    if _server is not None:
        import threading

        threading.Thread(target=_server.stop, name="mock-server-stop", daemon=True).start()


@pytest.fixture(scope="session")
def mock_server() -> MockServer:
    """The session's replay server (already started, environment already exported)."""
    assert _server is not None, "helpers.pytest_plugin was not loaded as a plugin"
    return _server
