"""The test harness's own fixes (helpers/pytest_plugin.py), each found by bench/notebook_suite.py."""

import asyncio
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from jupyter_client.manager import KernelManager

from helpers import offline, pytest_plugin


def test_a_killed_kernel_is_checked_for_every_few_milliseconds(monkeypatch):
    """After nbval kills a kernel, jupyter_client polls the process until it is gone; 100 ms by default."""
    assert KernelManager._async_wait is pytest_plugin._wait_polling_often
    alive = iter([True, True, False])
    slept: list[float] = []

    async def is_alive(self) -> bool:
        return next(alive)

    real_sleep, test_thread = asyncio.sleep, threading.get_ident()

    async def sleep(seconds: float, *args, **kwargs) -> None:
        if threading.get_ident() != test_thread:  # the session's replay server, sleeping in its own thread meanwhile
            return await real_sleep(seconds, *args, **kwargs)
        slept.append(seconds)

    monkeypatch.setattr(KernelManager, "_async_is_alive", is_alive)
    monkeypatch.setattr(asyncio, "sleep", sleep)
    asyncio.run(KernelManager()._async_wait())  # as _async_kill_kernel calls it: no interval given
    assert slept == [pytest_plugin.KERNEL_EXIT_POLL_SECONDS] * 2


def test_jsonschema_skips_the_slow_iri_checker():
    """nbformat's validation would import ``rfc3987_syntax`` (Lark grammars, about a second per process)."""
    assert sys.modules["rfc3987_syntax"] is None


class FakeItem:
    def __init__(self, path: str, name: str) -> None:
        self.path, self.name = Path(path), name

    def __repr__(self) -> str:
        return f"{self.path.name}::{self.name}"


def test_notebooks_go_first_slowest_first_and_each_file_keeps_its_order(monkeypatch):
    seconds = {"01_fast.ipynb": 1.0, "02_slow.ipynb": 6.0}
    monkeypatch.setattr(pytest_plugin, "notebook_seconds", lambda: seconds)
    items = [
        FakeItem(p, n)
        for p, n in [
            ("tests/test_a.py", "one"),
            ("tests/test_a.py", "two"),
            ("notebooks/01_fast.ipynb", "Cell 0"),
            ("notebooks/01_fast.ipynb", "Cell 1"),
            ("notebooks/02_slow.ipynb", "Cell 0"),
            ("notebooks/02_slow.ipynb", "Cell 1"),
            ("notebooks/03_new.ipynb", "Cell 0"),
            ("tests/test_b.py", "one"),
        ]
    ]
    pytest_plugin.pytest_collection_modifyitems(items)
    assert [repr(i) for i in items] == [
        "03_new.ipynb::Cell 0",  # not measured yet: it might be the slowest
        "02_slow.ipynb::Cell 0",
        "02_slow.ipynb::Cell 1",
        "01_fast.ipynb::Cell 0",
        "01_fast.ipynb::Cell 1",
        "test_a.py::one",
        "test_a.py::two",
        "test_b.py::one",
    ]


def test_the_committed_notebook_seconds_cover_every_notebook():
    seconds = pytest_plugin.notebook_seconds()
    notebooks = {p.name for p in (pytest_plugin.NOTEBOOK_SECONDS_FILE.parents[2] / "notebooks").glob("*.ipynb")}
    assert notebooks and notebooks <= set(seconds), (
        "measure new notebooks: python bench/notebook_suite.py --skip-nbval notebooks/<new>.ipynb"
    )
    assert all(s > 0 for s in seconds.values())


def test_notebook_seconds_without_a_readable_file(tmp_path):
    assert pytest_plugin.notebook_seconds(tmp_path / "missing.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert pytest_plugin.notebook_seconds(tmp_path / "bad.json") == {}


def _configured(args: tuple[str, ...], dist: str = "loadfile") -> SimpleNamespace:
    config = SimpleNamespace(
        option=SimpleNamespace(dist=dist, loadscopereorder=True), invocation_params=SimpleNamespace(args=args)
    )
    pytest_plugin.pytest_configure(config)
    return config.option


@pytest.mark.parametrize("args, reorder", [((), False), (("--loadscope-reorder",), True)])
def test_xdist_keeps_that_order_unless_asked_to_reorder(args, reorder):
    assert _configured(args).loadscopereorder is reorder


@pytest.mark.parametrize(
    "args, dist",
    [
        (("-n", "2"), "loadfile"),  # xdist would spread one notebook's cells over both workers
        (("-n", "2", "--dist", "load"), "load"),  # asked for explicitly: left alone
        (("-n", "2", "--dist=load"), "load"),
    ],
)
def test_plain_n_keeps_each_file_on_one_worker(args, dist):
    assert _configured(args, dist="load").dist == dist


def test_without_xdist_nothing_changes():
    config = SimpleNamespace(option=SimpleNamespace(), invocation_params=SimpleNamespace(args=("-p", "no:xdist")))
    pytest_plugin.pytest_configure(config)
    assert vars(config.option) == {}


def test_plugins_no_test_uses_are_not_loaded(pytestconfig):
    """pyproject.toml turns off the pytest plugins that installed packages register and no test needs."""
    for name in ("anyio", "langsmith_plugin"):
        assert pytestconfig.pluginmanager.is_blocked(name), name
        assert not pytestconfig.pluginmanager.has_plugin(name), name


def test_no_proxy_gains_the_loopback_hosts_and_keeps_what_was_there():
    env = offline.no_proxy_for_loopback({"NO_PROXY": "corp.example, 127.0.0.1", "no_proxy": "intra.example"})
    assert env["NO_PROXY"] == env["no_proxy"] == "corp.example,127.0.0.1,intra.example,localhost,::1"


def test_with_a_proxy_configured_every_client_still_reaches_the_replay_server_directly(mock_server, monkeypatch):
    """Venue and corporate networks set HTTP_PROXY; the offline environment keeps loopback traffic off the proxy."""
    import shutil
    import subprocess

    import httpx
    import requests

    from helpers.mock.server import free_port

    info = f"{mock_server.endpoint('Meta-Llama-3.1-405B-Instruct')}/info?api-version=2024-05-01-preview"
    headers = {"api-key": mock_server.settings.key}
    dead_proxy = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(requests.exceptions.ProxyError):  # the failure the offline environment prevents
        requests.get(info, headers=headers, timeout=5)

    for name, value in offline.no_proxy_for_loopback({}).items():
        monkeypatch.setenv(name, value)
    assert requests.get(info, headers=headers, timeout=5).status_code == 200
    assert httpx.get(info, headers=headers, timeout=5).status_code == 200
    curl = subprocess.run(
        [
            shutil.which("curl"),
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            f"api-key: {headers['api-key']}",
            info,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert curl.stdout == "200"


@pytest.fixture
def suite(monkeypatch):
    """bench/notebook_suite.py, loaded as a module."""
    import importlib.util

    bench = pytest_plugin.NOTEBOOK_SECONDS_FILE.parents[1]
    monkeypatch.syspath_prepend(str(bench))  # the benchmark scripts import their shared _common module
    spec = importlib.util.spec_from_file_location("notebook_suite", bench / "notebook_suite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_notebook_benchmark_does_not_call_its_goal_met_on_noisy_floor_runs(suite):
    assert suite.goal_verdict(1.2, [12.4, 12.0], floor_wait_wall=12.5) == "met"
    assert suite.goal_verdict(1.6, [12.4, 12.0], floor_wait_wall=12.5) == "MISSED"
    assert suite.goal_verdict(1.2, [12.0, 12.1], floor_wait_wall=float("nan")) == "met"  # no notebook waited
    # a floor slowed by another job: the floor plus the waiting came out faster than the floor itself
    assert suite.goal_verdict(1.2, [19.9, 19.9], floor_wait_wall=15.3).startswith("NOT DECIDED")
    assert suite.goal_verdict(1.2, [14.0, 12.0], floor_wait_wall=12.5).startswith("NOT DECIDED")  # runs 17% apart
    assert suite.goal_verdict(1.6, [14.0, 12.0], floor_wait_wall=12.5) == "MISSED"  # noise only lowers the ratio


def test_the_notebook_benchmark_bounds_the_suite_by_what_no_faster_cell_removes(suite):
    # the floor runs one cell per notebook (its imports), a second one to sleep when the notebook waits
    ok = [{"cells": 1, "wait": 0.0, "empty_cell": 0.005}, {"cells": 21, "wait": 1.4, "empty_cell": 0.005}]
    assert suite.round_trips_beyond_floor(ok, waits_in_floor=False) == pytest.approx(20 * 0.005)
    assert suite.round_trips_beyond_floor(ok, waits_in_floor=True) == pytest.approx(19 * 0.005)
    # kernel stops are in the floor's wall already: only the round trips beyond it, shared by the workers, and the
    # harness
    assert suite.fastest_possible(12.3, round_trips=1.3, harness=1.8, jobs=2) == pytest.approx(14.75)
