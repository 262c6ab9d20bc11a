"""A pytest plugin that only ``bench/notebook_suite.py`` loads: when each test file ran, and on which worker.

    PYTHONPATH=bench BENCH_TIMELINE=/tmp/t.jsonl python -m pytest -p pytest_timeline -n 2 --dist loadfile notebooks/

Each process (the controller and every xdist worker) appends JSON lines to ``$BENCH_TIMELINE``: the
moment the process started and finished collecting, and for every test file the wall-clock time
(``time.time()``) of its first test's start and its last test's end, with the worker's id. It changes
nothing in the run; without ``BENCH_TIMELINE`` it does nothing.
"""

from __future__ import annotations

import json
import os
import time

import pytest

_STARTED = time.time()
_files: dict[str, list[float]] = {}
_events: list[dict] = []


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "controller")


def pytest_collection_finish(session) -> None:
    _events.append({"event": "collected", "at": time.time()})


def pytest_runtest_logstart(nodeid, location) -> None:
    _files.setdefault(nodeid.split("::", 1)[0], [time.time(), time.time()])


def pytest_runtest_logfinish(nodeid, location) -> None:
    span = _files.get(nodeid.split("::", 1)[0])
    if span:
        span[1] = time.time()


@pytest.hookimpl(trylast=True)  # after the other plugins' (helpers.pytest_plugin stops its replay server)
def pytest_sessionfinish(session) -> None:
    path = os.environ.get("BENCH_TIMELINE")
    if not path:
        return
    lines = [{"event": "process", "worker": _worker(), "started": _STARTED, "finished": time.time()}]
    lines += [{**e, "worker": _worker()} for e in _events]
    if _worker() != "controller" or not session.config.pluginmanager.has_plugin("dsession"):
        lines += [
            {"event": "file", "worker": _worker(), "file": f, "start": s, "end": e} for f, (s, e) in _files.items()
        ]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(line) + "\n" for line in lines))
