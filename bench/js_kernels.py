"""JavaScript kernels side by side on notebooks/06_javascript_rest.ipynb: tslab (the project's "jslab") and Deno's.

    python bench/js_kernels.py              # 3 rounds each, alternating
    python bench/js_kernels.py --rounds 5

Deno comes from the ``deno`` npm package (it ships the binary), installed on first use into
``build/bench-tools/deno/`` (git-ignored); its kernel is registered in a temporary folder on JUPYTER_PATH, never in
the .venv. Each round starts the kernel (timed until it answers), runs the notebook's code cells one by one against
a replay server in this process (each cell timed from the request to the kernel going idle), then four probe cells
that show how each kernel reports mistakes and output: an undefined name, an API error left uncaught, a type
mistake, and text written with ``process.stdout.write`` (each half a second after the previous: tslab answers
"abort" to a request that arrives right after an error). Outputs are compared cell by cell with tslab's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, fmt, machine, median, table, write_result

NOTEBOOK = ROOT / "notebooks" / "06_javascript_rest.ipynb"
TOOLS = ROOT / "build" / "bench-tools"
DENO_VERSION = "2.9.6"
DENO_DIR = TOOLS / "deno"
PROBES = {
    "undefined name": "undefinedName + 1;",
    "uncaught API error": 'await client.chat.completions.create({ model: "nope", messages: MESSAGES });',
    "type mistake": 'const probeText = "abc"; probeText.toFixed(2);',
    "process.stdout.write": 'for (const word of ["streamed ", "text"]) process.stdout.write(word); console.log(" |");',
}


def ensure_deno() -> Path | None:
    found = list(DENO_DIR.glob("node_modules/@deno/*/deno"))
    if found:
        return found[0]
    if not shutil.which("npm"):
        return None
    print(f"installing deno@{DENO_VERSION} into {DENO_DIR.relative_to(ROOT)} (once) ...", flush=True)
    DENO_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(DENO_DIR),
            "--no-audit",
            "--no-fund",
            "--loglevel",
            "error",
            f"deno@{DENO_VERSION}",
        ],
        check=True,
        timeout=600,
    )
    found = list(DENO_DIR.glob("node_modules/@deno/*/deno"))
    return found[0] if found else None


def run_kernel(kernel: str, cells: list[str], probes: int = 0) -> dict[str, Any]:
    """Run ``cells`` one by one; the last ``probes`` of them after a pause (untimed): tslab answers "abort" to a
    request that comes right after an error, even with stop_on_error=False."""
    from jupyter_client.manager import start_new_kernel

    t0 = time.perf_counter()
    km, kc = start_new_kernel(kernel_name=kernel, startup_timeout=60, cwd=str(NOTEBOOK.parent))
    out: dict[str, Any] = {"start": time.perf_counter() - t0, "cells": []}
    try:
        for i, src in enumerate(cells):
            if i >= len(cells) - probes:
                time.sleep(0.5)
            t = time.perf_counter()
            # stop_on_error=False: each cell runs whatever happened before (a probe fails on purpose)
            mid = kc.execute(src, stop_on_error=False)
            res: dict[str, Any] = {"text": "", "error": None}
            while True:
                m = kc.get_iopub_msg(timeout=120)
                if m["parent_header"].get("msg_id") != mid:
                    continue
                kind = m["msg_type"]
                if kind == "stream":
                    res["text"] += m["content"]["text"]
                elif kind in ("execute_result", "display_data"):
                    res["text"] += m["content"]["data"].get("text/plain", "") + "\n"
                elif kind == "error":
                    res["error"] = f"{m['content']['ename']}: {m['content']['evalue']}"
                elif kind == "status" and m["content"]["execution_state"] == "idle":
                    break
            while True:
                reply = kc.get_shell_msg(timeout=30)
                if reply["parent_header"].get("msg_id") == mid:
                    break
            res["status"] = reply["content"]["status"]
            res["seconds"] = time.perf_counter() - t
            out["cells"].append(res)
    finally:
        t = time.perf_counter()
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        out["stop"] = time.perf_counter() - t
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    info = machine()
    import nbformat

    from helpers.mock import DEMO_KEY, MockServer
    from helpers.offline import offline_env

    deno = ensure_deno()
    if deno is None:
        sys.exit("deno could not be installed (npm missing?)")
    kernels_dir = Path(tempfile.mkdtemp(prefix="bench-js-kernels-"))
    (kernels_dir / "kernels" / "deno").mkdir(parents=True)
    (kernels_dir / "kernels" / "deno" / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(deno), "jupyter", "--kernel", "--conn", "{connection_file}"],
                "display_name": "Deno",
                "language": "typescript",
            }
        )
    )
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(kernels_dir), os.environ.get("JUPYTER_PATH")]))
    deno_version = subprocess.run([str(deno), "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    tslab_version = json.loads((ROOT / "node_modules" / "tslab" / "package.json").read_text())["version"]

    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    server = MockServer(key=DEMO_KEY).start()
    for name in [k for k in os.environ if k.startswith("AZURE_INFERENCE")]:
        del os.environ[name]
    os.environ.update(offline_env(server.env()))
    # "jslab (no cache)": the same kernel with its compile cache off (COOKBOOK_JSLAB_CACHE=0), as on a first run.
    runs: dict[str, list[dict[str, Any]]] = {"jslab": [], "jslab (no cache)": [], "deno": []}
    try:
        for r in range(args.rounds):
            for kernel in list(runs) if r % 2 == 0 else list(runs)[::-1]:
                os.environ["COOKBOOK_JSLAB_CACHE"] = "0" if kernel == "jslab (no cache)" else "1"
                res = run_kernel(kernel.split()[0], cells + list(PROBES.values()), probes=len(PROBES))
                runs[kernel].append(res)
                print(
                    f"round {r + 1} {kernel:6} start {res['start']:.2f} s, notebook cells "
                    f"{sum(c['seconds'] for c in res['cells'][: len(cells)]):.2f} s",
                    flush=True,
                )
    finally:
        os.environ.pop("COOKBOOK_JSLAB_CACHE", None)
        server.stop()
        shutil.rmtree(kernels_dir, ignore_errors=True)

    n = len(cells)

    def stat(kernel: str, fn) -> float:
        return median([fn(run) for run in runs[kernel]])

    rows = []
    for kernel, label in (
        (
            "jslab",
            f"tslab {tslab_version} (`jslab`, Node.js "
            f"{subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()})",
        ),
        (
            "jslab (no cache)",
            "the same, its compile cache off (`COOKBOOK_JSLAB_CACHE=0`: every cell compiled, as on a first run)",
        ),
        ("deno", f"Deno's kernel (`deno jupyter`, {deno_version})"),
    ):
        cell_s = lambda run: [c["seconds"] for c in run["cells"][:n]]  # noqa: E731
        rows.append(
            [
                label,
                fmt(stat(kernel, lambda run: run["start"]), 2),
                fmt(stat(kernel, lambda run: sum(cell_s(run))), 2),
                fmt(stat(kernel, lambda run: median(cell_s(run))) * 1000, 0),
                fmt(stat(kernel, lambda run: max(cell_s(run))), 2),
                fmt(stat(kernel, lambda run: run["start"] + sum(cell_s(run)) + run["stop"]), 2),
                sum(1 for c in runs[kernel][-1]["cells"][:n] if c["error"] or c["status"] != "ok"),
            ]
        )
    last = {k: runs[k][-1]["cells"] for k in ("jslab", "deno")}
    differ = [
        i + 1
        for i in range(n)
        if last["jslab"][i]["text"] != last["deno"][i]["text"] or last["jslab"][i]["error"] != last["deno"][i]["error"]
    ]
    probe_rows = []
    for j, name in enumerate(PROBES):
        cells_ = {k: last[k][n + j] for k in last}

        def show(c):
            return (
                f"error `{c['error'][:110]}`"
                if c["error"]
                else (f"status {c['status']}; " if c["status"] != "ok" else "")
                + (f"output `{c['text'].strip()[:110]}`" if c["text"].strip() else "no output")
            )

        probe_rows.append([name, f"`{PROBES[name]}`", show(cells_["jslab"]), show(cells_["deno"])])
    detail = []
    for i in differ:
        a, b = last["jslab"][i - 1], last["deno"][i - 1]
        detail.append(
            f"- code cell {i}: tslab `{(a['error'] or a['text']).strip()[:140]!s}` / Deno "
            f"`{(b['error'] or b['text']).strip()[:140]!s}`"
        )
    body = "\n".join(
        [
            f"notebooks/06_javascript_rest.ipynb ({n} code cells) against the replay server, medians of {args.rounds} "
            "round(s), alternating which kernel goes first:",
            "",
            table(
                [
                    "kernel",
                    "start s",
                    "all cells s",
                    "median cell ms",
                    "slowest cell s",
                    "start + cells + stop s",
                    "cells failing",
                ],
                rows,
                "lrrrrrr",
            ),
            "",
            "How each reports mistakes and output (probe cells run after the notebook, last round):",
            "",
            table(["probe", "cell", "tslab", "Deno"], probe_rows),
            "",
            f"Code cells whose output differs between the two (last round): {', '.join(map(str, differ)) or 'none'}.",
            "",
            *detail,
        ]
    )
    write_result("js_kernels", "JavaScript kernels on notebook 06: tslab and Deno", body, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
