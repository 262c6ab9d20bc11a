"""How long ``make setup`` takes from an empty .venv with a warm package cache: pip against uv.

    python bench/setup_time.py                       # clone into /tmp/setupbench, 2 timed rounds per installer
    python bench/setup_time.py --rounds 3 --uv ~/.local/bin/uv

The work happens in a clone of this repository (``git clone`` of the committed HEAD, into ``--dir``), so the
project's own .venv is never touched. For each installer, one untimed ``make setup`` first fills its cache
(pip's, uv's, npm's); then each timed round deletes the clone's .venv and runs, timed separately:

1. ``make .venv/.installed``: a new venv and the pinned Python set (requirements.txt with constraints.txt),
   with pip (``UV=``) or with ``uv pip install`` (``UV=/path/to/uv``): the only step the installer changes;
2. ``make setup``: what remains (the IPython kernel config, ``npm ci`` and the JavaScript kernelspec).

Rounds alternate which installer goes first. uv does not read pip's configuration: the package sources pip is
configured with on this machine (``pip config list``: extra index URLs, find-links, a constraint file) are handed
to uv through its own variables, so both install the same files from the same places.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, fmt, machine, median, table, write_result


def pip_sources() -> dict[str, str]:
    """pip's configured package sources on this machine, as uv's environment variables."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    conf: dict[str, str] = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        conf[key.split(".", 1)[-1]] = value.strip().strip("'\"")
    for key in ("extra-index-url", "find-links", "constraint"):
        env = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if env:
            conf[key] = env
    env = {}
    if conf.get("extra-index-url"):
        env["UV_EXTRA_INDEX_URL"] = conf["extra-index-url"]
        env["UV_INDEX_STRATEGY"] = "unsafe-best-match"  # pip's behaviour: the best version from any index
    if conf.get("find-links"):
        env["UV_FIND_LINKS"] = ",".join(conf["find-links"].split())
    if conf.get("constraint"):
        env["UV_CONSTRAINT"] = conf["constraint"]
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", default="/tmp/setupbench", help="where the clone goes (default /tmp/setupbench)")
    p.add_argument("--rounds", type=int, default=2, help="timed rounds per installer (default 2)")
    p.add_argument("--uv", default=shutil.which("uv"), help="the uv executable (default: uv on PATH)")
    p.add_argument("--no-warm", action="store_true", help="skip the untimed warm-up installs")
    args = p.parse_args(argv)
    if not args.uv:
        sys.exit("uv not found: pip install uv, or pass --uv PATH")
    info = machine()
    clone = Path(args.dir)
    if not (clone / ".git").exists():
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True
    ).stdout.strip()
    uv_version = subprocess.run([args.uv, "--version"], capture_output=True, text=True).stdout.strip()
    pip_version = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True
    ).stdout.split()[1]
    base = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    envs = {"pip": base, "uv": {**base, **pip_sources()}}
    uv_arg = {"pip": "UV=", "uv": f"UV={args.uv}"}
    results: dict[str, list[tuple[float, float]]] = {"pip": [], "uv": []}

    def one(name: str) -> tuple[float, float]:
        shutil.rmtree(clone / ".venv", ignore_errors=True)
        python_step = run(["make", ".venv/.installed", uv_arg[name]], clone, envs[name])
        rest = run(["make", "setup", uv_arg[name]], clone, envs[name])
        print(f"{name:4} python packages {python_step:6.1f} s, rest of make setup {rest:5.1f} s", flush=True)
        return python_step, rest

    if not args.no_warm:
        for name in ("pip", "uv"):
            print(f"warm-up ({name}, untimed) ...", flush=True)
            one(name)
    for r in range(args.rounds):
        for name in ("pip", "uv") if r % 2 == 0 else ("uv", "pip"):
            results[name].append(one(name))
    shutil.rmtree(clone / ".venv", ignore_errors=True)

    rows = []
    for name in ("pip", "uv"):
        py = [a for a, _ in results[name]]
        rest = [b for _, b in results[name]]
        total = [a + b for a, b in results[name]]
        rows.append(
            [
                f"{name} ({'pip ' + pip_version if name == 'pip' else uv_version})",
                fmt(median(py)),
                fmt(median(rest)),
                fmt(median(total)),
                " / ".join(f"{t:.0f}" for t in total),
            ]
        )
    ratio = median([a for a, _ in results["pip"]]) / median([a for a, _ in results["uv"]])
    body = "\n".join(
        [
            f"`make setup` from an empty .venv, warm caches, in a clone of {head} at {clone}: the Python packages "
            f"with uv take **{fmt(median([a for a, _ in results['uv']]))} s** against "
            f"**{fmt(median([a for a, _ in results['pip']]))} s** with pip ({ratio:.1f}x faster); the whole `make "
            f"setup` {fmt(median([a + b for a, b in results['uv']]))} s against "
            f"{fmt(median([a + b for a, b in results['pip']]))} s.",
            "",
            table(
                ["installer", "Python packages s", "rest of make setup s", "make setup s", "each round, s"],
                rows,
                "lrrrl",
            ),
            "",
            f"Medians of {args.rounds} round(s), alternating which installer goes first, after one untimed `make "
            "setup` with each "
            + ("in an earlier run (`--no-warm`)" if args.no_warm else "")
            + (
                " (caches warm: pip's wheel cache, uv's cache, npm's cache). `Python packages`: `make "
                ".venv/.installed` (a new venv, pip 26.3 and requirements.txt with constraints.txt). `rest of make "
                "setup`: the kernel config, `npm ci` and the JavaScript kernelspec, the same commands for both."
            ),
            "",
            "- uv gets the package sources pip is configured with on this machine: "
            + (", ".join(f"`{k}={v}`" for k, v in pip_sources().items()) or "none (PyPI only)")
            + ".",
            "- The Makefile uses uv when it is on PATH (`UV ?= $(shell command -v uv)`), and pip otherwise; `make "
            "setup UV=` forces pip. uv runs with `--compile-bytecode`: pip writes the .pyc files while it installs, "
            "and without them every kernel start would compile the modules it imports again (where "
            "PYTHONDONTWRITEBYTECODE is set, every time).",
        ]
    )
    write_result("setup_time", "Setup time: make setup with pip and with uv", body, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
