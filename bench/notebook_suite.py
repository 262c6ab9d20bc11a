"""How long the notebook suite takes, and where the time goes.

    python bench/notebook_suite.py                 # every notebooks/*.ipynb
    python bench/notebook_suite.py notebooks/05_litellm.ipynb
    python bench/notebook_suite.py --skip-nbval    # only the breakdown and the floor

Four measurements, in one run, on the same notebooks (whatever ``notebooks/*.ipynb`` holds):

1. Breakdown: each notebook executed with nbclient, two at a time (like ``pytest -n 2``), against a
   replay server in this process, with the offline environment of the test run
   (``helpers.pytest_plugin``). For each notebook: kernel start (until the kernel answers), imports
   (time spent in ``import`` statements and ``importlib.import_module`` called while the notebook's
   cells run, library-internal lazy imports included; a hook installed in the kernel before the first
   cell measures it), the rest of the cells, and kernel shutdown (immediate, as nbval does it). The
   hook also records every attempt to resolve or connect to a non-loopback address: offline, none
   should happen.
2. Floor: for each notebook, a fresh kernel that only imports what the notebook imported (the same
   modules, in the same order, recorded in 1.), two at a time. Its wall time is the floor: what no
   notebook suite can go below on this machine, today, with these libraries.
3. The test suite as CI runs it: wall time of ``python -m pytest -n 2 --dist loadfile notebooks/``
   (nbval compares every output), and of the same command with ``--collect-only`` (pytest, xdist,
   nbval and the replay servers starting; no kernel): the harness's share.
4. For every import of 100 ms or more: ``python -X importtime`` in a fresh interpreter, to show what
   it pulls in; and the same for what the test harness imports (nbval).

Goal: the nbval run within 1.3x of the floor (2.), both measured in this run: on a shared machine an
absolute number means little, a ratio taken minutes apart means more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, fmt, machine, python, table, write_result

NOTEBOOKS = ROOT / "notebooks"
GOAL_RATIO = 1.3
# The harness fixes this benchmark measures (see bench/pytest_fast_start.py and the report):
FIXES = ["-p", "pytest_fast_start", "-p", "no:langsmith_plugin"]
FIXED_ENV = {"PYTHONPATH": str(ROOT / "bench")}
HEAVY_IMPORT_SECONDS = 0.1

# Installed in the kernel before the notebook's first cell; prints nothing, changes no behaviour.
INSTRUMENT = r'''# bench-instrumentation
import builtins as _b, importlib as _il, importlib.util as _ilu, sys as _s, threading as _th, time as _t
_bench = {"depth": 0, "total": 0.0, "mods": {}, "order": {}, "net": []}
_bench_thread = _th.get_ident()
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
        start = _t.perf_counter()
        try:
            return fn(name, *args, **kwargs)
        finally:
            spent = _t.perf_counter() - start
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
                _bench["order"].setdefault(key, set()).update(x for x in (fromlist or ()) if isinstance(x, str) and x != "*")
                if spent > 0.002:
                    _bench["mods"][key] = _bench["mods"].get(key, 0.0) + spent
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
'''
REPORT = """# bench-report
import json as _j
print(_j.dumps({"total": _bench["total"], "mods": _bench["mods"], "net": _bench["net"],
                "order": [[k, sorted(v)] for k, v in _bench["order"].items()]}))"""
FLOOR = """# bench-floor: the imports one notebook made, in its order
for _name, _fromlist in {order!r}:
    try:
        __import__(_name, fromlist=_fromlist)
    except Exception:
        pass
"""


# -- executing notebooks (several at a time, one event loop) ------------------------------------
class Kernel:
    """A kernel driven by nbclient, with our own cells stored after the notebook's."""

    def __init__(self, nb: Any, cwd: Path) -> None:
        from nbclient import NotebookClient

        self.nb = nb
        # "immediate" kills the kernel at the end, as nbval does; nbclient's default waits for it to exit.
        self.client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True, shutdown_kernel="immediate",
                                     resources={"metadata": {"path": str(cwd)}})

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

    async def evaluate(self, expression: str) -> str:
        """A silent request that only evaluates an expression: no output, no history."""
        msg_id = self.client.kc.execute("", silent=True, store_history=False, user_expressions={"x": expression})
        reply = await self.client.async_wait_for_reply(msg_id)
        return reply["content"]["user_expressions"]["x"]["data"]["text/plain"]

    async def stop(self) -> float:
        start = time.perf_counter()
        await self.client._async_cleanup_kernel()
        return time.perf_counter() - start


async def run_notebook(path: Path) -> dict[str, Any]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    kernel = Kernel(nb, path.parent)
    out: dict[str, Any] = {"notebook": path.name}
    try:
        out["kernel_start"] = await kernel.start()
        await kernel.run_extra(INSTRUMENT)
        seconds, imports, errors = [], [], []
        before = 0.0
        for index, cell in cells:
            start = time.perf_counter()
            await kernel.client.async_execute_cell(cell, index, execution_count=len(seconds) + 1)
            seconds.append(time.perf_counter() - start)
            after = float(await kernel.evaluate("_bench['total']"))  # not part of the cell's time
            imports.append(after - before)
            before = after
            errors += [f"cell {index}: {o.get('ename')}: {o.get('evalue', '')[:100]}" for o in cell.outputs if o.get("output_type") == "error"]
        probe = await kernel.run_extra(REPORT)
        text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
        stats = json.loads(text.strip().splitlines()[-1])
    finally:
        out["kernel_stop"] = await kernel.stop()
    out.update(
        cells=len(cells), cell_seconds=seconds, cell_imports=imports, imports=stats["total"], run_cells=sum(seconds),
        heavy_imports=dict(sorted(stats["mods"].items(), key=lambda kv: -kv[1])[:15]),
        import_order=stats["order"], network=sorted(set(stats["net"])), errors=errors,
    )
    out["rest"] = out["run_cells"] - out["imports"]
    out["total"] = out["kernel_start"] + out["run_cells"] + out["kernel_stop"]
    return out


async def run_floor(path: Path, order: list[list[Any]], graceful: bool = False) -> dict[str, Any]:
    import nbformat

    kernel = Kernel(nbformat.v4.new_notebook(), path.parent)
    out: dict[str, Any] = {"notebook": path.name}
    try:
        out["kernel_start"] = await kernel.start()
        start = time.perf_counter()
        await kernel.run_extra(FLOOR.format(order=[tuple(x) for x in order]))
        out["imports"] = time.perf_counter() - start
        out["floor"] = out["kernel_start"] + out["imports"]
        if graceful:  # not part of the floor: what a cell costs when it does nothing, and a graceful shutdown
            empty = []
            for _ in range(10):
                start = time.perf_counter()
                await kernel.run_extra("pass")
                empty.append(time.perf_counter() - start)
            out["empty_cell"] = sorted(empty)[len(empty) // 2]
            kernel.client.shutdown_kernel = "graceful"
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


# -- the harness, and import costs ------------------------------------------------------------
def timed_command(cmd: list[str], extra_env: dict[str, str] | None = None, timeout: float = 1800) -> tuple[float, int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_INFERENCE")}
    env.update(extra_env or {})
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, done.returncode, (done.stdout + done.stderr)


def summary_line(output: str) -> str:
    lines = [ln.strip("= ").strip() for ln in output.splitlines() if re.search(r"\b(passed|failed|errors?|collected|no tests ran)\b", ln)]
    return lines[-1] if lines else "no summary"


def importtime(module: str, before: str = "") -> tuple[float, list[tuple[str, float]]]:
    """``python -X importtime -c 'import module'`` in a fresh interpreter: its total and its heaviest parts."""
    from helpers.pytest_plugin import OFFLINE_ENV

    env = {**os.environ, **OFFLINE_ENV}
    done = subprocess.run([python(), "-X", "importtime", "-c", f"{before}import {module}"], cwd=NOTEBOOKS, env=env,
                          capture_output=True, text=True, timeout=300)
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
    # The heaviest single modules by their own time (what actually burns the time), then by cumulative time.
    by_self = sorted(rows, key=lambda r: -r[1])[:4]
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
    p.add_argument("--jobs", type=int, default=2, help="notebooks at a time in the breakdown and the floor (default 2, like -n 2)")
    p.add_argument("--skip-nbval", action="store_true", help="skip the pytest/nbval runs")
    p.add_argument("--rounds", type=int, default=2, help="rounds of the pytest/nbval runs, alternating plain and fixed (default 2)")
    args = p.parse_args(argv)

    info = machine()
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print("no notebooks in notebooks/")
        return 1
    targets = [str(p.relative_to(ROOT)) for p in paths] if args.notebooks else ["notebooks/"]
    nbval_cmd = [python(), "-m", "pytest", "-n", "2", "--dist", "loadfile", *targets]
    fixed_cmd = [python(), "-m", "pytest", *FIXES, "-n", "2", "--dist", "loadfile", *targets]

    from helpers.mock import DEMO_KEY, MockServer
    from helpers.pytest_plugin import offline_env

    saved = dict(os.environ)
    server = MockServer(key=DEMO_KEY).start()
    for name in [k for k in os.environ if k.startswith("AZURE_INFERENCE")]:
        del os.environ[name]  # never a live endpoint
    os.environ.update(offline_env(server))
    try:
        print(f"breakdown: {len(paths)} notebooks, {args.jobs} at a time", flush=True)
        breakdown_wall, results = asyncio.run(run_all(args.jobs, [lambda p=p: run_notebook(p) for p in paths]))
        for path, r in zip(paths, results):
            r.setdefault("notebook", path.name)
            print(f"  {r['notebook']}: " + (f"FAILED {r['failed'][:300]}" if "failed" in r else f"{r['total']:.2f} s"), flush=True)
        ok = [(path, r) for path, r in zip(paths, results) if "failed" not in r]
        print(f"floor: the same kernels, imports only, {args.jobs} at a time", flush=True)
        # Longest first (by this run's kernel start + imports): the order is not part of the floor.
        lpt = sorted(ok, key=lambda pr: -(pr[1]["kernel_start"] + pr[1]["imports"]))
        floor_wall, floors = asyncio.run(run_all(args.jobs, [lambda p=p, r=r: run_floor(p, r["import_order"]) for p, r in lpt]))
        floors = [dict(zip([p for p, _ in lpt], floors))[p] for p, _ in ok]
        print(f"  {floor_wall:.2f} s", flush=True)
        print("one at a time: an empty cell's round trip, and a graceful kernel shutdown (what nbclient does by default)", flush=True)
        _, extra = asyncio.run(run_all(1, [lambda p=p, r=r: run_floor(p, r["import_order"], graceful=True) for p, r in ok]))
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
    for (_, r), f, g in zip(ok, floors, extra):
        r["floor"] = f
        r["empty_cell"], r["graceful_stop"] = g.get("empty_cell", float("nan")), g.get("kernel_stop", float("nan"))

    runs: dict[str, list[tuple[float, int, str]]] = {}
    if not args.skip_nbval:
        for r in range(args.rounds):
            for label, cmd, env in (("nbval", nbval_cmd, {}), ("nbval, fixed", fixed_cmd, FIXED_ENV),
                                    ("collect", [*nbval_cmd, "--collect-only", "-q"], {}),
                                    ("collect, fixed", [*fixed_cmd, "--collect-only", "-q"], FIXED_ENV)):
                result = timed_command(cmd, env)
                runs.setdefault(label, []).append(result)
                print(f"round {r + 1}: {label:15} {result[0]:5.1f} s  {summary_line(result[2])}", flush=True)

    heavy: dict[str, float] = {}
    for _, r in ok:
        for mod, sec in r["heavy_imports"].items():
            if sec >= HEAVY_IMPORT_SECONDS:
                heavy[mod] = max(heavy.get(mod, 0.0), sec)
    drill = {}
    for mod in [*sorted(heavy, key=lambda m: -heavy[m]), "helpers", "nbformat", "langsmith.pytest_plugin"]:
        print(f"python -X importtime -c 'import {mod}'", flush=True)
        drill[mod] = importtime(mod)

    print("python -X importtime -c 'import nbformat', rfc3987_syntax blocked", flush=True)
    drill["nbformat (rfc3987_syntax blocked)"] = importtime("nbformat", "import sys; sys.modules['rfc3987_syntax'] = None; ")

    body = report(results, [r for _, r in ok], runs, nbval_cmd, fixed_cmd, breakdown_wall, floor_wall, args.jobs, heavy, drill)
    write_result("notebook_suite", "Notebook suite: wall time and where it goes", body, info)
    return 0


def report(results, ok, runs, nbval_cmd, fixed_cmd, breakdown_wall, floor_wall, jobs, heavy, drill) -> str:
    lines: list[str] = []
    show = lambda cmd: "`" + " ".join(["python", *cmd[1:]]) + "`"  # noqa: E731
    mean = lambda label: sum(r[0] for r in runs[label]) / len(runs[label])  # noqa: E731
    each = lambda label: " / ".join(f"{r[0]:.1f}" for r in runs[label])  # noqa: E731
    if runs:
        ratio, fixed_ratio = mean("nbval") / floor_wall, mean("nbval, fixed") / floor_wall
        verdict = "met" if ratio <= GOAL_RATIO else "MISSED"
        lines += [
            f"Goal: the nbval run within {GOAL_RATIO}x of the floor (kernel starts plus imports, {jobs} at a time, measured in "
            f"this run) -> **{verdict}**: {mean('nbval'):.1f} s vs {floor_wall:.1f} s = **{ratio:.2f}x** "
            f"({fixed_ratio:.2f}x with the two harness fixes below).",
            "",
        ]
    rows = []
    if runs:
        rows += [
            [show(nbval_cmd), fmt(mean("nbval")), f"{mean('nbval') / floor_wall:.2f}x", f"{each('nbval')}; {summary_line(runs['nbval'][-1][2])}"],
            ["the same with `--collect-only`: pytest, xdist, nbval, replay servers; no kernel", fmt(mean("collect")), f"{mean('collect') / floor_wall:.2f}x", each("collect")],
            [f"with the harness fixes: `PYTHONPATH=bench` {show(fixed_cmd)}", fmt(mean("nbval, fixed")), f"{mean('nbval, fixed') / floor_wall:.2f}x",
             f"{each('nbval, fixed')}; {summary_line(runs['nbval, fixed'][-1][2])}"],
            ["the same with `--collect-only`", fmt(mean("collect, fixed")), f"{mean('collect, fixed') / floor_wall:.2f}x", each("collect, fixed")],
        ]
    rows += [
        [f"the notebooks alone: nbclient, {jobs} at a time in file order, one process (breakdown below)", fmt(breakdown_wall), f"{breakdown_wall / floor_wall:.2f}x", ""],
        [f"floor: each notebook's kernel start + its imports, nothing else, {jobs} at a time, longest first", fmt(floor_wall), "1.00x", ""],
    ]
    rounds = len(next(iter(runs.values()))) if runs else 0
    lines += [
        table(["run", "seconds", "vs floor", "each round; result"], rows, "lrrl"),
        "",
        f"pytest runs: the mean of {rounds} rounds, plain and fixed alternating. The fixes: `-p pytest_fast_start` "
        "(bench/pytest_fast_start.py: keeps jsonschema from importing `rfc3987_syntax`, about 1 s per process, see "
        "`import nbformat` below) and `-p no:langsmith_plugin` (langsmith's pytest plugin, installed with langchain, "
        "imports `langsmith.testing` into the controller and every worker).",
        "",
    ]
    rows = []
    for r in results:
        if "failed" in r:
            rows.append([r["notebook"], "failed: " + r["failed"][:80], "", "", "", "", "", ""])
            continue
        floor = r.get("floor", {})
        rows.append([
            r["notebook"], r["cells"], fmt(r["kernel_start"], 2), fmt(r["imports"], 2), fmt(r["rest"], 2), fmt(r["kernel_stop"], 2),
            fmt(r["total"], 2), fmt(floor.get("floor", float("nan")), 2),
        ])
    if ok:
        tot = lambda key: sum(r[key] for r in ok)  # noqa: E731
        rows.append(["**sum**", sum(r["cells"] for r in ok), fmt(tot("kernel_start"), 2), fmt(tot("imports"), 2), fmt(tot("rest"), 2),
                     fmt(tot("kernel_stop"), 2), fmt(tot("total"), 2), fmt(sum(r.get("floor", {}).get("floor", 0.0) for r in ok), 2)])
    lines += [
        f"Per notebook, seconds (executed {jobs} at a time, so each number includes some contention):",
        "",
        table(["notebook", "code cells", "kernel start", "imports", "rest of cells", "kernel stop", "total", "floor run"], rows),
        "",
        "`imports`: time inside import statements run by the notebook's cells, including the lazy imports libraries "
        "make on first use. `floor run`: a fresh kernel's start plus importing the same modules in the same order.",
        "",
    ]
    if ok:
        totals = [r["total"] for r in ok]
        in_order, longest_first = makespan(totals, jobs), makespan(sorted(totals, reverse=True), jobs)
        cells = sum(r["cells"] for r in ok)
        empty = sorted(r["empty_cell"] for r in ok)[len(ok) // 2]
        graceful = [(r["notebook"], r["graceful_stop"]) for r in ok]
        lines += [
            f"- Order: handed to {jobs} workers in file order, as in the breakdown, the per-notebook totals above finish "
            f"after {in_order:.1f} s; longest first, after {longest_first:.1f} s.",
            f"- Cells: an empty cell costs {empty * 1000:.1f} ms (round trip to the kernel); {cells} cells make "
            f"{cells * empty:.1f} s of the {sum(r['rest'] for r in ok):.1f} s in `rest of cells`.",
            "- Kernel stop: immediate (nbval) took " + ", ".join(f"{r['kernel_stop']:.2f}" for r in ok) + " s; graceful "
            "(nbclient's default, so `scripts/run_notebooks.py`) took " + ", ".join(f"{s:.2f}" for _, s in graceful) + " s "
            "(same order as the table): the kernel waits for the interpreter to tear the imported modules down.",
            "",
        ]
    slow = []
    for r in ok:
        rest = sorted(((sec - imp, i) for i, (sec, imp) in enumerate(zip(r["cell_seconds"], r["cell_imports"]))), reverse=True)
        slow += [[r["notebook"], f"code cell {i + 1}", fmt(sec, 2)] for sec, i in rest[:2] if sec >= 0.15]
    if slow:
        lines += ["Slowest cells apart from their imports (0.15 s or more):", "", table(["notebook", "cell", "seconds"], slow), ""]
    if heavy:
        mods = sorted(heavy, key=lambda m: -heavy[m])
        rows = [[f"`{m}`", *[fmt(r["heavy_imports"][m], 2) if m in r["heavy_imports"] else "" for r in ok]] for m in mods]
        lines += [f"Imports of {HEAVY_IMPORT_SECONDS:.1f} s or more, seconds, in the notebook that first made them:", "",
                  table(["import", *[r["notebook"].split("_")[0] for r in ok]], rows), ""]
    if drill:
        rows = [[f"`import {m.split(' ', 1)[0]}`" + (f" {m.split(' ', 1)[1]}" if " " in m else ""), fmt(total, 2),
                 ", ".join(f"{n} {s:.2f}" for n, s in parts)] for m, (total, parts) in drill.items()]
        lines += ["The same imports in a fresh interpreter (`python -X importtime`; `nbformat` is what nbval and nbclient "
                  "import; `langsmith.pytest_plugin` is loaded by every pytest run), seconds, with the modules whose own code takes longest:", "",
                  table(["import", "seconds", "slowest modules (own time)"], rows, "lrl"), ""]
    net = [(r["notebook"], t) for r in ok for t in r["network"]]
    if net:
        lines += ["Attempts to reach non-loopback addresses during the offline run (there should be none):", ""]
        lines += [f"- {nb}: `{t}`" for nb, t in net]
    else:
        lines.append("Attempts to reach non-loopback addresses during the offline run: none.")
    errs = [(r["notebook"], e) for r in ok for e in r["errors"]]
    if errs:
        lines += ["", "Cells that raised (still timed):", ""] + [f"- {nb}: {e}" for nb, e in errs]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
