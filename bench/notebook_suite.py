"""How long the notebook suite takes, and where the time goes.

    python bench/notebook_suite.py                 # every notebooks/*.ipynb
    python bench/notebook_suite.py notebooks/05_litellm.ipynb
    python bench/notebook_suite.py --skip-nbval    # only the breakdown and the floor

Measurements, in one run, on the same notebooks (whatever ``notebooks/*.ipynb`` holds, on whichever
kernel each one names: ``python3``, or ``jslab`` for the JavaScript notebook):

1. Breakdown: each notebook executed with nbclient, two at a time (like ``pytest -n 2``), against a
   replay server in this process, with the offline environment of the test run
   (``helpers.pytest_plugin``). For each notebook: kernel start (until the kernel answers), imports,
   deliberate waiting, the rest of the cells, and kernel shutdown (immediate, as nbval does it).
   A hook installed in the kernel before the first cell measures imports and waiting:
   - Python: time spent in ``import`` statements and ``importlib.import_module`` (library-internal lazy
     imports included); waiting is the wall time during which at least one ``time.sleep``,
     ``asyncio.sleep`` (with a delay) or ``aiolimiter.AsyncLimiter.acquire`` that had to wait was in
     progress on the kernel's main thread, called by the notebook or its libraries (the kernel's own
     pauses are left out: ipykernel's after each request, pexpect's after a ``!command``) (the union of those
     intervals: an upper bound, since other tasks may work meanwhile; the kernel's CPU time during them is reported
     too). It also records every attempt to resolve or connect to a non-loopback address: offline, none should
     happen.
   - JavaScript (tslab): time spent in top-level ``require`` calls (``Module._load``; tslab turns
     ``import`` statements into them). No waiting or network hook: reported as not measured.
2. Floor: for each notebook, a fresh kernel of the same kind that only imports (Python) or requires
   (JavaScript) what the notebook did (the same modules, in the same order, recorded in 1.), two at a
   time, longest first. Its wall time is the floor: what no notebook suite can go below on this
   machine, today, with these libraries. A second floor run adds each notebook's deliberate waiting
   (the kernel sleeps as long): the floor if that waiting is counted as unavoidable.
3. The test suite as CI runs it: wall time of ``python -m pytest -n 2 --dist loadfile notebooks/``
   (nbval compares every output); the same with ``bench/pytest_timeline.py`` loaded, which records
   which worker ran which notebook when (the project's order, slowest first by the last run of this
   benchmark, as ``helpers.pytest_plugin`` sets it; then xdist's own order, ``--loadscope-reorder``); and
   the same with ``--collect-only`` (pytest, xdist, nbval and the replay servers starting; no kernel).
4. For every Python import of 100 ms or more: ``python -X importtime`` in a fresh interpreter, to
   show what it pulls in; and the same for what the test harness imports.
5. Writes each notebook's time in the breakdown to ``bench/results/notebook_seconds.json``: the test
   harness (``helpers.pytest_plugin``) hands the slowest notebooks to the xdist workers first.

Goal (issue 20): the nbval run (the median of three rounds) within 1.45x of the floor (2.), both measured
in this run: on a shared machine an absolute number means little, a ratio taken minutes apart means more.
(Issue 6 asked for 1.3x; out of reach with a fresh kernel per notebook, see bench/README.md.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, ROOT, fmt, machine, python, table, write_result

NOTEBOOKS = ROOT / "notebooks"
JSLAB_CACHE = ROOT / "node_modules" / ".cache" / "jslab"  # scripts/jslab_compile_cache.js
XDIST_ORDER = "timeline, xdist's order"  # the run label
GOAL_RATIO = 1.45  # issue 20 (issue 6 asked for 1.3x)
TIMELINE_ENV = {"PYTHONPATH": str(ROOT / "bench")}  # for -p pytest_timeline
HEAVY_IMPORT_SECONDS = 0.1
MAX_DRILLS = 8

# Installed in a Python kernel before the notebook's first cell; prints nothing, changes no behaviour.
INSTRUMENT = r"""# bench-instrumentation
import asyncio as _aio, builtins as _b, importlib as _il, importlib.util as _ilu
import sys as _s, threading as _th, time as _t
_bench = {"depth": 0, "total": 0.0, "mods": {}, "order": {}, "net": [],
          "wait": 0.0, "wait_cpu": 0.0, "waits": 0, "pending": 0, "t0": 0.0, "c0": 0.0}
_bench_thread = _th.get_ident()
_bench_clock, _bench_cpu = _t.perf_counter, _t.process_time
def _bench_wait_begin():
    if _bench["pending"] == 0:
        _bench["t0"], _bench["c0"] = _bench_clock(), _bench_cpu()
    _bench["pending"] += 1
    _bench["waits"] += 1
def _bench_wait_end():
    _bench["pending"] -= 1
    if _bench["pending"] == 0:
        _bench["wait"] += _bench_clock() - _bench["t0"]
        _bench["wait_cpu"] += _bench_cpu() - _bench["c0"]
_bench_time_sleep = _t.sleep
# the kernel's own pauses (ipykernel after each request, pexpect for a !command) are not the notebook's
def _bench_ours(frame):
    return frame.f_globals.get("__name__", "").startswith(
        ("ipykernel", "tornado", "zmq", "jupyter_client", "IPython", "pexpect", "ptyprocess"))
def _bench_sleep(seconds):
    if seconds <= 0 or _th.get_ident() != _bench_thread or _bench_ours(_s._getframe(1)):
        return _bench_time_sleep(seconds)
    _bench_wait_begin()
    try:
        return _bench_time_sleep(seconds)
    finally:
        _bench_wait_end()
_t.sleep = _bench_sleep
_bench_aio_sleep = _aio.sleep
async def _bench_waiting(awaitable):  # the time spent awaiting it counts as deliberate waiting
    _bench_wait_begin()
    try:
        return await awaitable
    finally:
        _bench_wait_end()
async def _bench_async_sleep(delay, result=None):
    if delay <= 0 or _th.get_ident() != _bench_thread or _bench_ours(_s._getframe(1)):
        return await _bench_aio_sleep(delay, result)
    return await _bench_waiting(_bench_aio_sleep(delay, result))
_aio.sleep = _aio.tasks.sleep = _bench_async_sleep
if "anyio._backends._asyncio" in _s.modules:  # imported its own reference to asyncio.sleep already
    _s.modules["anyio._backends._asyncio"].sleep = _bench_async_sleep
def _bench_patch_limiter():
    m = _s.modules.get("aiolimiter")
    if m is None or getattr(m.AsyncLimiter.acquire, "_bench", False):
        return
    acquire = m.AsyncLimiter.acquire
    async def timed_acquire(self, amount=1):
        if self.has_capacity(amount) or _th.get_ident() != _bench_thread:
            return await acquire(self, amount)
        return await _bench_waiting(acquire(self, amount))
    timed_acquire._bench = True
    m.AsyncLimiter.acquire = timed_acquire
def _bench_name(name, globals_, level, package):
    try:
        if level:
            return _ilu.resolve_name("." * level + name, (globals_ or {}).get("__package__") or "")
        if package is not None and name.startswith("."):
            return _ilu.resolve_name(name, package)
    except Exception:
        return None
    return name
def _bench_timed(fn, builtin):
    def timed(name, *args, **kwargs):
        if _bench["depth"] or _th.get_ident() != _bench_thread:
            return fn(name, *args, **kwargs)
        _bench["depth"] = 1
        start = _bench_clock()
        try:
            return fn(name, *args, **kwargs)
        finally:
            spent = _bench_clock() - start
            _bench["depth"] = 0
            _bench["total"] += spent
            if builtin:
                globals_ = args[0] if args else kwargs.get("globals")
                fromlist = args[2] if len(args) > 2 else kwargs.get("fromlist")
                level = args[3] if len(args) > 3 else kwargs.get("level", 0)
                key = _bench_name(name, globals_, level, None)
            else:
                fromlist = None
                key = _bench_name(name, None, 0, args[0] if args else kwargs.get("package"))
            if key:
                _bench["order"].setdefault(key, set()).update(
                    x for x in (fromlist or ()) if isinstance(x, str) and x != "*")
                if spent > 0.002:
                    _bench["mods"][key] = _bench["mods"].get(key, 0.0) + spent
            _bench_patch_limiter()
    return timed
_b.__import__ = _bench_timed(_b.__import__, True)
_il.import_module = _bench_timed(_il.import_module, False)
def _bench_loopback(host):
    host = str(host)
    return host in ("localhost", "::1", "", "None") or host.startswith("127.") or host.startswith("::ffff:127.")
def _bench_audit(event, args):
    if event == "socket.getaddrinfo" and not _bench_loopback(args[0]):
        _bench["net"].append(f"resolve {args[0]}:{args[1]}")
    elif event == "socket.connect" and isinstance(args[1], tuple) and not _bench_loopback(args[1][0]):
        _bench["net"].append(f"connect {args[1][0]}:{args[1][1]}")
_s.addaudithook(_bench_audit)
"""
REPORT = """# bench-report
import json as _j
print(_j.dumps({"total": _bench["total"], "mods": _bench["mods"], "net": _bench["net"],
                "wait": _bench["wait"], "wait_cpu": _bench["wait_cpu"], "waits": _bench["waits"],
                "order": [[k, sorted(v)] for k, v in _bench["order"].items()]}))"""
FLOOR = """# bench-floor: the imports one notebook made, in its order
for _name, _fromlist in {order!r}:
    try:
        __import__(_name, fromlist=_fromlist)
    except Exception:
        pass
"""
SLEEP = "import time; time.sleep({seconds!r})"
EMPTY = "pass"

# The same for a JavaScript (tslab) kernel: top-level require() calls, timed.
JS_INSTRUMENT = r"""// bench-instrumentation
{
  const Module = Object(require("module")); // Object(): untyped, as tslab type-checks even JavaScript
  const bench = (globalThis.__bench = { depth: 0, total: 0, mods: {}, order: [] });
  const load = Module._load;
  Module._load = function benchLoad(request) {
    if (bench.depth) return load.apply(this, arguments);
    bench.depth = 1;
    const start = process.hrtime.bigint();
    try {
      return load.apply(this, arguments);
    } finally {
      const spent = Number(process.hrtime.bigint() - start) / 1e9;
      bench.depth = 0;
      bench.total += spent;
      if (!bench.order.includes(request)) bench.order.push(request);
      if (spent > 0.002) bench.mods[request] = (bench.mods[request] || 0) + spent;
    }
  };
}
"""
JS_REPORT = """// bench-report
console.log(JSON.stringify({
  total: globalThis.__bench.total, mods: globalThis.__bench.mods, order: globalThis.__bench.order,
}));
"""


def js_floor(names: list[str]) -> str:
    """The packages one notebook required, imported as its cells do (tslab type-checks an import, then requires it)."""
    names = [n for n in names if not n.startswith(".")]
    imports = [n for n in names if not n.endswith(".json")]
    return (
        "// bench-floor\n"
        + "".join(f"import * as floorPackage{i} from {json.dumps(n)};\n" for i, n in enumerate(imports))
        + f"[{', '.join(f'floorPackage{i}' for i in range(len(imports)))}];\n"  # used, so that the compiler keeps them
        + "".join(f"require({json.dumps(n)});\n" for n in names if n.endswith(".json"))
        + "undefined;\n"
    )


JS_SLEEP = "await new Promise((resolve) => setTimeout(resolve, {ms}));"
JS_EMPTY = "undefined;"


def kernel_of(nb: Any) -> str:
    return nb.metadata.get("kernelspec", {}).get("name", "python3")


def is_python(kernel_name: str) -> bool:
    return kernel_name.startswith("python")


# -- executing notebooks (several at a time, one event loop) ------------------------------------
class Kernel:
    """A kernel driven by nbclient, with our own cells stored after the notebook's."""

    def __init__(self, nb: Any, cwd: Path, kernel_name: str) -> None:
        from nbclient import NotebookClient

        self.nb = nb
        # "immediate" kills the kernel at the end, as nbval does; nbclient's default waits for it to exit.
        self.client = NotebookClient(
            nb,
            timeout=300,
            kernel_name=kernel_name,
            allow_errors=True,
            shutdown_kernel="immediate",
            resources={"metadata": {"path": str(cwd)}},
        )

    async def start(self) -> float:
        start = time.perf_counter()
        self.client.km = self.client.create_kernel_manager()
        await self.client.async_start_new_kernel()
        await self.client.async_start_new_kernel_client()
        return time.perf_counter() - start

    async def run_extra(self, source: str) -> Any:
        import nbformat

        # nbclient stores an executed cell at its index in the notebook: give ours their own places.
        self.nb.cells.append(nbformat.v4.new_code_cell(source))
        return await self.client.async_execute_cell(self.nb.cells[-1], len(self.nb.cells) - 1, store_history=False)

    async def timed_extra(self, source: str) -> tuple[float, Any]:
        start = time.perf_counter()
        cell = await self.run_extra(source)
        return time.perf_counter() - start, cell

    async def evaluate(self, expression: str) -> str:
        """A silent request that only evaluates an expression: no output, no history (Python kernels)."""
        msg_id = self.client.kc.execute("", silent=True, store_history=False, user_expressions={"x": expression})
        reply = await self.client.async_wait_for_reply(msg_id)
        return reply["content"]["user_expressions"]["x"]["data"]["text/plain"]

    async def stop(self) -> float:
        start = time.perf_counter()
        await self.client._async_cleanup_kernel()
        return time.perf_counter() - start


def last_json(cell: Any) -> dict[str, Any]:
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    lines = text.strip().splitlines()
    if not lines:
        raise RuntimeError(f"no report from the kernel: {cell.outputs!r:.300}")
    return json.loads(lines[-1])


async def run_notebook(path: Path) -> dict[str, Any]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    kernel_name = kernel_of(nb)
    py = is_python(kernel_name)
    cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    kernel = Kernel(nb, path.parent, kernel_name)
    out: dict[str, Any] = {"notebook": path.name, "kernel": kernel_name}
    try:
        out["kernel_start"] = await kernel.start()
        # The hook's own cell: counted with the cells (for tslab it also pays the first cell's compiler warm-up).
        out["setup"], _ = await kernel.timed_extra(INSTRUMENT if py else JS_INSTRUMENT)
        seconds, imports, errors = [], [], []
        before = 0.0
        for index, cell in cells:
            start = time.perf_counter()
            await kernel.client.async_execute_cell(cell, index, execution_count=len(seconds) + 1)
            seconds.append(time.perf_counter() - start)
            if py:
                after = float(await kernel.evaluate("_bench['total']"))  # not part of the cell's time
                imports.append(after - before)
                before = after
            errors += [
                f"cell {index}: {o.get('ename')}: {o.get('evalue', '')[:100]}"
                for o in cell.outputs
                if o.get("output_type") == "error"
            ]
        stats = last_json(await kernel.run_extra(REPORT if py else JS_REPORT))
        empty = sorted([(await kernel.timed_extra(EMPTY if py else JS_EMPTY))[0] for _ in range(5)])[2]
    finally:
        out["kernel_stop"] = await kernel.stop()
    order = stats["order"] if py else [[name, []] for name in stats["order"]]
    out.update(
        cells=len(cells),
        cell_seconds=seconds,
        cell_imports=imports or [float("nan")] * len(seconds),
        imports=stats["total"],
        run_cells=sum(seconds) + out["setup"],
        empty_cell=empty,
        wait=stats.get("wait", 0.0),
        wait_cpu=stats.get("wait_cpu", 0.0),
        waits=stats.get("waits", 0),
        wait_measured=py,
        heavy_imports=dict(sorted(stats["mods"].items(), key=lambda kv: -kv[1])[:15]),
        import_order=order,
        network=sorted(set(stats.get("net", []))),
        network_measured=py,
        errors=errors,
    )
    out["rest"] = out["run_cells"] - out["imports"] - out["wait"]
    out["total"] = out["kernel_start"] + out["run_cells"] + out["kernel_stop"]
    return out


async def run_floor(path: Path, kernel_name: str, order: list[list[Any]], wait: float = 0.0) -> dict[str, Any]:
    import nbformat

    py = is_python(kernel_name)
    kernel = Kernel(nbformat.v4.new_notebook(), path.parent, kernel_name)
    out: dict[str, Any] = {"notebook": path.name}
    try:
        out["kernel_start"] = await kernel.start()
        if py:
            source = FLOOR.format(order=[tuple(x) for x in order])
        else:
            source = js_floor([name for name, _ in order])
        out["imports"], cell = await kernel.timed_extra(source)
        problems = [
            o.get("text", o.get("evalue", ""))
            for o in cell.outputs
            if o.get("output_type") == "error" or o.get("name") == "stderr"
        ]
        if problems:  # a floor that did not import everything would be too low
            raise RuntimeError(f"floor cell failed: {' '.join(problems)[:300]}")
        out["floor"] = out["kernel_start"] + out["imports"]
        if wait > 0:
            out["waited"], _ = await kernel.timed_extra(
                SLEEP.format(seconds=round(wait, 3)) if py else JS_SLEEP.format(ms=round(wait * 1000))
            )
            out["floor"] += out["waited"]
    finally:
        out["kernel_stop"] = await kernel.stop()
    return out


async def run_all(jobs: int, make: list[Any]) -> tuple[float, list[dict[str, Any]]]:
    """Run coroutine factories ``jobs`` at a time, in order (like xdist handing out files); wall time and results."""
    sem = asyncio.Semaphore(jobs)

    async def one(factory: Any) -> dict[str, Any]:
        async with sem:
            try:
                return await factory()
            except Exception as exc:  # noqa: BLE001 - a broken notebook is reported, not fatal
                return {"failed": f"{type(exc).__name__}: {exc}"[:500]}

    start = time.perf_counter()
    results = await asyncio.gather(*(one(f) for f in make))
    return time.perf_counter() - start, list(results)


def floor_run(
    jobs: int, items: list[tuple[Path, dict[str, Any]]], with_waits: bool
) -> tuple[float, dict[Path, dict[str, Any]]]:
    """The floor kernels, ``jobs`` at a time, longest first (by this run's numbers: the order is not part of the
    floor)."""
    cost = lambda r: r["kernel_start"] + r["imports"] + (r["wait"] if with_waits else 0.0)  # noqa: E731
    lpt = sorted(items, key=lambda pr: -cost(pr[1]))
    wall, floors = asyncio.run(
        run_all(
            jobs,
            [
                lambda p=p, r=r: run_floor(p, r["kernel"], r["import_order"], r["wait"] if with_waits else 0.0)
                for p, r in lpt
            ],
        )
    )
    return wall, dict(zip([p for p, _ in lpt], floors))


# -- the harness, and import costs ------------------------------------------------------------
def timed_command(
    cmd: list[str], extra_env: dict[str, str] | None = None, timeout: float = 1800
) -> tuple[float, int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_INFERENCE")}
    env.update(extra_env or {})
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, done.returncode, (done.stdout + done.stderr)


def timeline_command(cmd: list[str], *options: str) -> tuple[tuple[float, int, str], dict[str, Any]]:
    """``cmd`` (plus ``options``) with ``-p pytest_timeline``: the run, and which worker ran which file when
    (seconds from the start)."""
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
        log = Path(tmp) / "timeline.jsonl"
        env = {**TIMELINE_ENV, "BENCH_TIMELINE": str(log)}
        extra = ["-p", "pytest_timeline", *options]
        started = time.time()
        result = timed_command([cmd[0], "-m", "pytest", *extra, *cmd[3:]], env)
        events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    files = sorted(
        (
            [e["worker"], Path(e["file"]).name, e["start"] - started, e["end"] - started]
            for e in events
            if e["event"] == "file"
        ),
        key=lambda f: f[2],
    )
    collected = {e["worker"]: e["at"] - started for e in events if e["event"] == "collected"}
    finished = {e["worker"]: e["finished"] - started for e in events if e["event"] == "process"}
    return result, {"files": files, "collected": collected, "finished": finished, "wall": result[0]}


def summary_line(output: str) -> str:
    lines = [
        ln.strip("= ").strip()
        for ln in output.splitlines()
        if re.search(r"\b(passed|failed|errors?|collected|no tests ran)\b", ln)
    ]
    return lines[-1] if lines else "no summary"


def importtime(module: str, before: str = "") -> tuple[float, list[tuple[str, float]]]:
    """``python -X importtime -c 'import module'`` in a fresh interpreter: its total and its heaviest parts."""
    from helpers.offline import OFFLINE_ENV

    env = {**os.environ, **OFFLINE_ENV}
    done = subprocess.run(
        [python(), "-X", "importtime", "-c", f"{before}import {module}"],
        cwd=NOTEBOOKS,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    total, rows, pending = float("nan"), [], []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        self_s, cumulative, depth, name = int(m.group(1)) / 1e6, int(m.group(2)) / 1e6, len(m.group(3)), m.group(4)
        pending.append((name, self_s, cumulative))
        if depth == 1:
            if name == module:
                total, rows = cumulative, pending
            pending = []
    by_self = sorted(rows, key=lambda r: -r[1])[:4]  # the modules whose own code takes longest
    return total, [(name, s) for name, s, _ in by_self]


def makespan(durations: list[float], workers: int) -> float:
    """Finish time when each job goes, in order, to the first free worker."""
    free = [0.0] * workers
    for d in durations:
        i = free.index(min(free))
        free[i] += d
    return max(free) if durations else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    p.add_argument(
        "--jobs", type=int, default=2, help="notebooks at a time in the breakdown and the floor (default 2, like -n 2)"
    )
    p.add_argument("--skip-nbval", action="store_true", help="skip the pytest/nbval runs")
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help=(
            "rounds of the project's nbval command and --collect-only, the median counts (default 3; the two "
            "timeline runs go once)"
        ),
    )
    p.add_argument(
        "--floor-rounds",
        type=int,
        default=2,
        help="floor runs; the fastest is the floor, since noise only ever slows a run down (default 2)",
    )
    args = p.parse_args(argv)

    info = machine()
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print("no notebooks in notebooks/")
        return 1
    targets = [str(p.relative_to(ROOT)) for p in paths] if args.notebooks else ["notebooks/"]
    nbval_cmd = [python(), "-m", "pytest", "-n", "2", "--dist", "loadfile", *targets]

    from helpers.mock import DEMO_KEY, MockServer
    from helpers.offline import offline_env

    runs: dict[str, list[tuple[float, int, str]]] = {}
    if not args.skip_nbval:
        # First, as a fresh checkout runs it: tslab's compile cache empty. Every later run finds it filled.
        shutil.rmtree(JSLAB_CACHE, ignore_errors=True)
        runs["cold"] = [timed_command(nbval_cmd)]
        print(
            f"cold (compile cache emptied): {runs['cold'][0][0]:5.1f} s  {summary_line(runs['cold'][0][2])}", flush=True
        )

    saved = dict(os.environ)
    server = MockServer(key=DEMO_KEY).start()
    for name in [k for k in os.environ if k.startswith("AZURE_INFERENCE")]:
        del os.environ[name]  # never a live endpoint
    os.environ.update(offline_env(server.env()))
    try:
        print(f"breakdown: {len(paths)} notebooks, {args.jobs} at a time", flush=True)
        breakdown_wall, results = asyncio.run(run_all(args.jobs, [lambda p=p: run_notebook(p) for p in paths]))
        for path, r in zip(paths, results):
            r.setdefault("notebook", path.name)
            print(
                f"  {r['notebook']}: "
                + (
                    f"FAILED {r['failed'][:300]}"
                    if "failed" in r
                    else f"{r['total']:.2f} s (waiting {r['wait']:.2f} s)"
                ),
                flush=True,
            )
        ok = [(path, r) for path, r in zip(paths, results) if "failed" not in r]
        print(f"floor: the same kernels, imports only, {args.jobs} at a time, longest first", flush=True)
        floor_rounds = []
        for _ in range(max(1, args.floor_rounds)):
            floor_rounds.append(floor_run(args.jobs, ok, with_waits=False))
            print(f"  {floor_rounds[-1][0]:.2f} s", flush=True)
        floor_wall, floors = min(floor_rounds, key=lambda round_: round_[0])
        floor_walls = [wall for wall, _ in floor_rounds]
        waiting = sum(r["wait"] for _, r in ok)
        floor_wait_wall, floors_wait = float("nan"), {}
        if waiting >= 0.05:
            print("floor with each notebook's deliberate waiting (the kernel sleeps as long)", flush=True)
            floor_wait_wall, floors_wait = floor_run(args.jobs, ok, with_waits=True)
            print(f"  {floor_wait_wall:.2f} s", flush=True)
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
    for path, r in ok:
        r["floor"] = floors.get(path, {})
        r["floor_wait"] = floors_wait.get(path, {})

    timelines: dict[str, list[dict[str, Any]]] = {}
    if not args.skip_nbval:
        # The project's command, and --collect-only, in every round; the two timeline runs (the schedule) once.
        labels = ["nbval", "timeline", XDIST_ORDER, "collect"]
        for rnd in range(args.rounds):
            for label in labels if rnd == 0 else ["nbval", "collect"]:
                if label == "nbval":
                    result = timed_command(nbval_cmd)
                elif label == "collect":
                    result = timed_command([*nbval_cmd, "--collect-only", "-q"])
                else:
                    result, tl = timeline_command(nbval_cmd, *(["--loadscope-reorder"] if "xdist" in label else []))
                    timelines.setdefault(label, []).append(tl)
                runs.setdefault(label, []).append(result)
                print(f"round {rnd + 1}: {label:24} {result[0]:5.1f} s  {summary_line(result[2])}", flush=True)

    # The harness's order (slowest first) from what each notebook took under nbval in the timeline run, which is
    # what the scheduler hands out; the breakdown's totals when there is none (its hook cells cost a little more).
    under_nbval = {
        name: end - start for _, name, start, end in (timelines.get("timeline") or [{"files": []}])[0]["files"]
    }
    write_notebook_seconds(under_nbval or {r["notebook"]: r["total"] for _, r in ok})

    heavy: dict[str, float] = {}
    for _, r in ok:
        if is_python(r["kernel"]):
            for mod, sec in r["heavy_imports"].items():
                if sec >= HEAVY_IMPORT_SECONDS:
                    heavy[mod] = max(heavy.get(mod, 0.0), sec)
    drill = {}
    block = (
        "import sys; sys.modules['rfc3987_syntax'] = None; "  # as helpers.pytest_plugin and scripts/run_notebooks.py do
    )
    for mod in [*sorted(heavy, key=lambda m: -heavy[m])[:MAX_DRILLS], "helpers"]:
        print(f"python -X importtime -c 'import {mod}'", flush=True)
        drill[mod] = importtime(mod)
    for mod in ("nbval.plugin", "helpers.pytest_plugin", "xdist.plugin"):
        print(f"python -X importtime -c 'import {mod}' (rfc3987_syntax blocked)", flush=True)
        drill[f"{mod} (harness)"] = importtime(mod, block)

    body = report(
        results,
        [r for _, r in ok],
        runs,
        timelines,
        nbval_cmd,
        breakdown_wall,
        floor_walls,
        floor_wait_wall,
        args.jobs,
        heavy,
        drill,
    )
    write_result("notebook_suite", "Notebook suite: wall time and where it goes", body, info)
    return 0


def write_notebook_seconds(seconds: dict[str, float]) -> None:
    """Merge this run's seconds per notebook into ``notebook_seconds.json`` (the harness's order, slowest first)."""
    path = RESULTS / "notebook_seconds.json"
    try:
        known = json.loads(path.read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        known = {}
    known.update({name: round(sec, 2) for name, sec in seconds.items()})
    about = (
        "Seconds each notebook took under nbval in the last run of bench/notebook_suite.py (first test to last, 2 at "
        "a time). "
        "helpers.pytest_plugin hands the slowest notebooks to the pytest-xdist workers first."
    )
    path.write_text(json.dumps({"about": about, "seconds": dict(sorted(known.items()))}, indent=2) + "\n")
    print(f"written: {path.relative_to(ROOT)}", flush=True)


def schedule_lines(label: str, tl: dict[str, Any], jobs: int) -> list[str]:
    """Who ran what when, and how much of the wall time the workers spent on notebooks."""
    files = tl["files"]
    if not files:
        return []
    workers = sorted({w for w, *_ in files})
    lines = [f"{label} ({tl['wall']:.1f} s in all):", ""]
    rows = []
    for w in workers:
        mine = [f for f in files if f[0] == w]
        busy = sum(e - s for _, _, s, e in mine)
        rows.append(
            [
                w,
                fmt(tl["collected"].get(w, float("nan")), 1),
                fmt(mine[0][2], 1),
                fmt(mine[-1][3], 1),
                fmt(busy, 1),
                ", ".join(f"{n.split('_')[0]} {e - s:.1f}" for _, n, s, e in mine),
            ]
        )
    lines += [
        table(
            [
                "worker",
                "collected at s",
                "first notebook at s",
                "last done at s",
                "busy s",
                "notebooks in order, seconds each",
            ],
            rows,
            "lrrrrl",
        ),
        "",
    ]
    spans = sorted((e - s for _, _, s, e in files), reverse=True)
    first, last = min(f[2] for f in files), max(f[3] for f in files)
    ends = tl.get("finished", {})
    worker_end = max((t for w, t in ends.items() if w != "controller"), default=float("nan"))
    lines += [
        f"- Before the first notebook: {first:.1f} s (pytest, xdist workers, collection, replay servers); after the "
        f"last: {tl['wall'] - last:.1f} s (the last worker's session ends {worker_end - last:.2f} s after its last "
        f"notebook, the controller's {ends.get('controller', float('nan')) - last:.2f} s after; the rest is processes "
        f"exiting). Notebooks: {sum(spans):.1f} s of work on {len(workers)} workers; handed out longest first, these "
        f"spans would end {makespan(spans, jobs):.1f} s after the first one started (measured here: "
        f"{last - first:.1f} s).",
        "",
    ]
    return lines


FLOOR_SPREAD = 1.10  # floor runs further apart than this: the machine was busy during one of them


def goal_verdict(ratio: float, floor_walls: list[float], floor_wait_wall: float) -> str:
    """met, MISSED, or NOT DECIDED when the floor runs show a busy machine: the floor plus sleeps came out faster than
    the floor, or two floor runs differ by more than 10% (a slowed floor once made a 1.6x suite look like 1.2x).
    The floor is the fastest run, so noise can only lower the ratio: a MISSED stands, a met needs a clean floor.
    ``floor_wait_wall`` is NaN when no notebook waited."""
    floor = min(floor_walls)
    if ratio <= GOAL_RATIO and (floor_wait_wall < floor or max(floor_walls) > FLOOR_SPREAD * floor):  # NaN < x: False
        return "NOT DECIDED (noisy floor runs: measure again on a quieter machine)"
    return "met" if ratio <= GOAL_RATIO else "MISSED"


def round_trips_beyond_floor(ok: list[dict[str, Any]], waits_in_floor: bool) -> float:
    """Worker seconds of bare kernel round trips the notebooks make beyond the floor's own cells: the floor already
    holds one cell per notebook (its imports), a second where it sleeps for the waiting, and every kernel's stop."""
    return sum((r["cells"] - 1 - (1 if waits_in_floor and r["wait"] > 0 else 0)) * r["empty_cell"] for r in ok)


def fastest_possible(base_wall: float, round_trips: float, harness: float, jobs: int) -> float:
    """How fast the nbval run could be if every cell's own work took no time: the floor (plus the deliberate waiting,
    ``base_wall``), the cells' bare round trips beyond the floor's (worker seconds, shared by ``jobs`` workers), and
    the harness's measured start and end. Above the goal's budget, no faster cell can meet it."""
    return base_wall + round_trips / jobs + harness


def report(
    results, ok, runs, timelines, nbval_cmd, breakdown_wall, floor_walls, floor_wait_wall, jobs, heavy, drill
) -> str:
    lines: list[str] = []
    floor_wall = min(floor_walls)
    show = lambda cmd: "`" + " ".join(["python", *cmd[1:]]) + "`"  # noqa: E731

    def mean(label):  # the median
        return (
            sorted(r[0] for r in runs[label])[len(runs[label]) // 2]
            if len(runs[label]) % 2
            else (sum(sorted(r[0] for r in runs[label])[len(runs[label]) // 2 - 1 : len(runs[label]) // 2 + 1]) / 2)
        )

    each = lambda label: " / ".join(f"{r[0]:.1f}" for r in runs[label])  # noqa: E731
    waiting = sum(r["wait"] for r in ok)
    has_wait = floor_wait_wall == floor_wait_wall  # not NaN
    kernels = sorted({r["kernel"] for r in ok})
    biggest_rest = ", ".join(
        f"{r['notebook'].split('_')[0]} {r['rest']:.1f} s" for r in sorted(ok, key=lambda r: -r["rest"])[:4]
    )
    if runs:
        harness = mean("nbval") - breakdown_wall
        ratio = mean("nbval") / floor_wall
        verdict = goal_verdict(ratio, floor_walls, floor_wait_wall)
        lines += [
            f"Goal: the nbval run within {GOAL_RATIO}x of the floor (kernel starts plus imports, {jobs} at a time, "
            f"measured in this run) -> **{verdict}**: {mean('nbval'):.1f} s vs {floor_wall:.1f} s = **{ratio:.2f}x**"
            + (
                f" (counting the notebooks' {waiting:.1f} s of deliberate waiting as unavoidable too: "
                f"{mean('nbval'):.1f} s vs {floor_wait_wall:.1f} s = {mean('nbval') / floor_wait_wall:.2f}x)"
                if has_wait
                else ""
            )
            + ".",
            "",
            *(
                [
                    "Even with no overhead at all the suite would take as long as the floor plus the waiting "
                    f"({floor_wait_wall:.1f} s = {floor_wait_wall / floor_wall:.2f}x the floor): "
                    + (
                        "the goal cannot be met while the notebooks wait that long on purpose."
                        if floor_wait_wall / floor_wall > GOAL_RATIO
                        else "the waiting alone does not rule the goal out."
                    ),
                    "",
                ]
                if has_wait
                else []
            ),
            f"Where the rest goes: the notebooks alone, with no test harness (nbclient, {jobs} at a time, breakdown "
            f"below), take {breakdown_wall:.1f} s = {breakdown_wall / floor_wall:.2f}x the floor, so pytest, xdist, "
            "nbval and the replay servers "
            + (
                f"add {harness:.1f} s"
                if harness >= 0.5
                else f"add no measurable time ({harness:+.1f} s: within this machine's noise)"
            )
            + "; the cells' own work beyond imports and waiting is "
            f"{sum(r['rest'] for r in ok):.1f} s of kernel time ({biggest_rest}, ...).",
            "",
            f"All {len(ok)} notebooks are in every run, on their own kernels ({', '.join(kernels)}): the floor of the "
            "JavaScript notebook is its kernel start plus a cell that requires the same packages.",
            "",
        ]
    rows = []
    if runs:
        rows += [
            [
                show(nbval_cmd),
                fmt(mean("nbval")),
                f"{mean('nbval') / floor_wall:.2f}x",
                f"{each('nbval')}; {summary_line(runs['nbval'][-1][2])}",
            ]
        ]
        if "timeline" in runs:
            rows += [
                [
                    "the same, with `-p pytest_timeline` (records the schedule below; the project's order: slowest "
                    "first by the last benchmark)",
                    fmt(mean("timeline")),
                    f"{mean('timeline') / floor_wall:.2f}x",
                    f"{each('timeline')}; {summary_line(runs['timeline'][-1][2])}",
                ],
                [
                    "the same in xdist's own order (`--loadscope-reorder`: most tests first)",
                    fmt(mean(XDIST_ORDER)),
                    f"{mean(XDIST_ORDER) / floor_wall:.2f}x",
                    f"{each(XDIST_ORDER)}; {summary_line(runs[XDIST_ORDER][-1][2])}",
                ],
            ]
        if "cold" in runs:
            rows += [
                [
                    "the same, run first with tslab's compile cache emptied (`node_modules/.cache/jslab`, see "
                    "`scripts/jslab_compile_cache.js`): a fresh checkout's first run; every other run here finds it "
                    "filled, as Python's `__pycache__` is",
                    fmt(mean("cold")),
                    f"{mean('cold') / floor_wall:.2f}x",
                    f"{each('cold')}; {summary_line(runs['cold'][-1][2])}",
                ]
            ]
        rows += [
            [
                "the same with `--collect-only`: pytest, xdist, nbval, replay servers; no kernel",
                fmt(mean("collect")),
                f"{mean('collect') / floor_wall:.2f}x",
                each("collect"),
            ]
        ]
    rows += [
        [
            f"the notebooks alone: nbclient, {jobs} at a time in file order, one process (breakdown below)",
            fmt(breakdown_wall),
            f"{breakdown_wall / floor_wall:.2f}x",
            "",
        ]
    ]
    if has_wait:
        rows += [
            [
                "floor + deliberate waiting: each notebook's kernel start + imports + a sleep as long as its "
                f"waiting, {jobs} at a time, longest first",
                fmt(floor_wait_wall),
                f"{floor_wait_wall / floor_wall:.2f}x",
                "",
            ]
        ]
    rows += [
        [
            f"floor: each notebook's kernel start + its imports, nothing else, {jobs} at a time, longest first (the "
            f"fastest of {len(floor_walls)} runs)",
            fmt(floor_wall),
            "1.00x",
            " / ".join(f"{w:.1f}" for w in floor_walls),
        ]
    ]
    rounds = len(runs["nbval"]) if runs else 0
    lines += [table(["run", "seconds", "vs floor", "each round; result"], rows, "lrrl"), ""]
    if runs:
        lines += [
            f"pytest runs: the project's command and `--collect-only`: the median of {rounds} round(s); the timeline "
            "runs: once. The project's pytest options (pyproject.toml) already carry the harness fixes earlier runs "
            "of this benchmark measured (`-p no:langsmith_plugin -p no:anyio`; `-p helpers.pytest_plugin` loaded "
            "early so that jsonschema skips `rfc3987_syntax`, a killed kernel polled every 5 ms instead of 100 ms, "
            "and the notebooks handed out slowest first by `bench/results/notebook_seconds.json`).",
            "",
        ]

    span: dict[str, float] = {}
    if timelines.get("timeline"):
        for _, name, s, e in timelines["timeline"][-1]["files"]:
            span[name] = e - s
    rows = []
    for r in results:
        if "failed" in r:
            rows.append([r["notebook"], "failed: " + r["failed"][:80]] + [""] * 9)
            continue
        rows.append(
            [
                r["notebook"],
                r["kernel"],
                r["cells"],
                fmt(r["kernel_start"], 2),
                fmt(r["imports"], 2),
                fmt(r["wait"], 2) if r["wait_measured"] else "n/m",
                fmt(r["rest"], 2),
                fmt(r["kernel_stop"], 2),
                fmt(r["total"], 2),
                fmt(span.get(r["notebook"], float("nan")), 2),
                fmt(r["floor"].get("floor", float("nan")), 2),
            ]
        )
    if ok:
        tot = lambda key: sum(r[key] for r in ok)  # noqa: E731
        rows.append(
            [
                "**sum**",
                "",
                sum(r["cells"] for r in ok),
                fmt(tot("kernel_start"), 2),
                fmt(tot("imports"), 2),
                fmt(waiting, 2),
                fmt(tot("rest"), 2),
                fmt(tot("kernel_stop"), 2),
                fmt(tot("total"), 2),
                fmt(sum(span.values()), 2) if span else "",
                fmt(sum(r["floor"].get("floor", 0.0) for r in ok), 2),
            ]
        )
    lines += [
        f"Per notebook, seconds (executed {jobs} at a time, so each number includes some contention):",
        "",
        table(
            [
                "notebook",
                "kernel",
                "code cells",
                "kernel start",
                "imports",
                "deliberate waiting",
                "rest of cells",
                "kernel stop",
                "total",
                "under nbval",
                "floor run",
            ],
            rows,
            "llrrrrrrrrr",
        ),
        "",
        "`imports`: time inside import statements (Python) or top-level `require` calls (JavaScript) run by the "
        "notebook's cells, including the lazy imports libraries make on first use. `deliberate waiting`: wall time "
        "with at least one `time.sleep`, `asyncio.sleep` or waiting `AsyncLimiter.acquire` in progress on the "
        "kernel's main thread (n/m: not measured, JavaScript kernel). `rest of cells`: the cells' time minus both, "
        "including the hook's own cell (for tslab, the first cell's compiler warm-up). `under nbval`: from the "
        "notebook's first test starting to its last ending, in the timeline run below (kernel start and stop "
        "included, collection not). `floor run`: a fresh kernel's start plus importing the same modules in the same "
        "order.",
        "",
    ]
    if ok and span:
        tl = timelines["timeline"][-1]
        first, last = min(f[2] for f in tl["files"]), max(f[3] for f in tl["files"])
        harness = first + tl["wall"] - last
        floors_sum = sum(r["floor"].get("floor", 0.0) for r in ok)
        lines += [
            f"Budget: {GOAL_RATIO}x the floor is {GOAL_RATIO * floor_wall:.1f} s. In the timeline run the harness "
            f"took {harness:.1f} s (before the first notebook and after the last), which leaves "
            f"{GOAL_RATIO * floor_wall - harness:.1f} s per worker, {jobs * (GOAL_RATIO * floor_wall - harness):.1f} "
            f"s of worker time for the notebooks. Under nbval they took {sum(span.values()):.1f} s: their floor runs "
            f"add up to {floors_sum:.1f} s, the deliberate waiting to {waiting:.1f} s, and the rest (the cells' own "
            f"work, kernel stops) to {sum(span.values()) - floors_sum - waiting:.1f} s.",
            "",
        ]
        base = floor_wait_wall if floor_wait_wall == floor_wait_wall else floor_wall
        round_trips = round_trips_beyond_floor(ok, waits_in_floor=base != floor_wall)
        best = fastest_possible(base, round_trips, harness, jobs)
        room = GOAL_RATIO * floor_wall - best
        own_work = sum(r["rest"] - r["cells"] * r["empty_cell"] for r in ok)  # what the cells do beyond answering
        lines += [
            "Fastest possible with these notebooks and this harness, if every cell's own work took no time: the floor"
            + (" plus the waiting" if base != floor_wall else "")
            + (
                f" ({base:.2f} s, kernel stops included), the cells' bare round trips to their kernels beyond the "
                f"floor's own ({round_trips:.2f} s, shared by {jobs} workers), and the harness's {harness:.2f} s: "
                f"{best:.2f} s = {best / floor_wall:.2f}x the floor, against the goal's {GOAL_RATIO * floor_wall:.2f} "
                "s. "
            )
            + ("That leaves nothing" if room <= 0 else f"That leaves {room:.2f} s")
            + " for the cells' own work, which took "
            f"{own_work:.1f} s of kernel time in this run ({own_work / jobs:.1f} s per worker): "
            + (
                "no speed-up of the cells meets the goal; fewer cells or notebooks, or a cheaper harness, could."
                if room <= 0
                else f"the cells would have to run {own_work / jobs / room:.0f} times faster."
                if own_work / jobs > room
                else "the goal is within reach of these cells."
            ),
            "",
            f"The breakdown's totals add up to {sum(r['total'] for r in ok):.1f} s and the same notebooks under nbval "
            f"to {sum(span.values()):.1f} s: the breakdown runs in one process that drives both kernels and serves "
            "the replay server, and its hooks cost a little; read its columns as shares, and `under nbval` as the "
            "time each notebook takes.",
            "",
        ]
    if ok:
        w = [r for r in ok if r["wait"] >= 0.05]
        if w:
            lines += [
                "Deliberate waiting: "
                + "; ".join(
                    f"{r['notebook']}: {r['wait']:.2f} s in {r['waits']} waits, the kernel using {r['wait_cpu']:.2f} "
                    f"s of CPU meanwhile ({r['wait_cpu'] / r['wait']:.0%} of a core: other tasks of the notebook "
                    "working during the waits)"
                    for r in w
                )
                + ".",
                "",
            ]
        totals = [r["total"] for r in ok]
        empty = sorted(r["empty_cell"] for r in ok if is_python(r["kernel"]))
        js_empty = [r["empty_cell"] for r in ok if not is_python(r["kernel"])]
        cells = sum(r["cells"] for r in ok)
        lines += [
            f"- Order: handed to {jobs} workers in file order, the per-notebook totals above finish after "
            f"{makespan(totals, jobs):.1f} s; longest first, after {makespan(sorted(totals, reverse=True), jobs):.1f} "
            "s.",
            (
                f"- Cells: an empty cell costs {empty[len(empty) // 2] * 1000:.1f} ms in a Python kernel"
                if empty
                else "- Cells:"
            )
            + (f", {js_empty[0] * 1000:.1f} ms in the JavaScript kernel" if js_empty else "")
            + (
                f" (round trip to the kernel); {cells} cells make about "
                f"{cells * (empty[len(empty) // 2] if empty else 0):.1f} s of the {sum(r['rest'] for r in ok):.1f} s "
                "in `rest of cells`."
            ),
            "",
        ]
    for label in ("timeline", XDIST_ORDER):
        if timelines.get(label):
            title = (
                "The nbval run in the project's order (slowest first by the last benchmark, `helpers.pytest_plugin`)"
                if label == "timeline"
                else "The nbval run in xdist's own order (`--loadscope-reorder`: files with most tests first)"
            )
            lines += schedule_lines(title, timelines[label][-1], jobs)
    slow = []
    for r in ok:
        imps = [0.0 if imp != imp else imp for imp in r["cell_imports"]]
        rest = sorted(((sec - imp, i) for i, (sec, imp) in enumerate(zip(r["cell_seconds"], imps))), reverse=True)
        slow += [[r["notebook"], f"code cell {i + 1}", fmt(sec, 2)] for sec, i in rest[:2] if sec >= 0.3]
    if slow:
        lines += [
            "Slowest cells apart from their imports (0.3 s or more; waiting included; JavaScript: imports included):",
            "",
            table(["notebook", "cell", "seconds"], slow),
            "",
        ]
    if heavy:
        mods = sorted(heavy, key=lambda m: -heavy[m])
        py = [r for r in ok if is_python(r["kernel"])]
        rows = [
            [f"`{m}`", *[fmt(r["heavy_imports"][m], 2) if m in r["heavy_imports"] else "" for r in py]] for m in mods
        ]
        lines += [
            f"Python imports of {HEAVY_IMPORT_SECONDS:.1f} s or more, seconds, in the notebooks that made them:",
            "",
            table(["import", *[r["notebook"].split("_")[0] for r in py]], rows),
            "",
        ]
    js_heavy = [
        (r["notebook"], m, s)
        for r in ok
        if not is_python(r["kernel"])
        for m, s in r["heavy_imports"].items()
        if s >= 0.05
    ]
    if js_heavy:
        lines += [
            "JavaScript requires of 0.05 s or more: "
            + ", ".join(f"{nb}: `{m}` {s:.2f} s" for nb, m, s in js_heavy)
            + ".",
            "",
        ]
    if drill:
        rows = [
            [
                f"`import {m.split(' ', 1)[0]}`" + (f" {m.split(' ', 1)[1]}" if " " in m else ""),
                fmt(total, 2),
                ", ".join(f"{n} {s:.2f}" for n, s in parts),
            ]
            for m, (total, parts) in drill.items()
        ]
        lines += [
            "The same imports in a fresh interpreter (`python -X importtime`; `(harness)`: what every pytest process "
            "imports, with `rfc3987_syntax` blocked as the project does), seconds, with the modules whose own code "
            "takes longest:",
            "",
            table(["import", "seconds", "slowest modules (own time)"], rows, "lrl"),
            "",
        ]
    net = [(r["notebook"], t) for r in ok for t in r["network"]]
    unmeasured = [r["notebook"] for r in ok if not r["network_measured"]]
    if net:
        lines += ["Attempts to reach non-loopback addresses during the offline run (there should be none):", ""]
        lines += [f"- {nb}: `{t}`" for nb, t in net]
    else:
        lines.append(
            "Attempts to reach non-loopback addresses during the offline run: none"
            + (f" (not measured in {', '.join(unmeasured)})." if unmeasured else ".")
        )
    errs = [(r["notebook"], e) for r in ok for e in r["errors"]]
    if errs:
        lines += ["", "Cells that raised (still timed):", ""] + [f"- {nb}: {e}" for nb, e in errs]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
