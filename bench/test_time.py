"""How long ``make test`` takes after setup, and where: the unit and client tests (tests/) and the notebooks, apart.

    python bench/test_time.py                # the whole make test command, then tests/ and notebooks/ alone
    python bench/test_time.py --rounds 2

Each round runs, one after the other, the command ``make test`` runs once the .venv is set up
(``python -m pytest -n 2 --dist loadfile``: every test, both cores), then the same on ``tests/`` alone (with
``--durations``: the slowest tests and what they are) and on ``notebooks/`` alone (nbval). Wall time per run;
the medians over the rounds go to ``bench/results/test_time.md``.

Goal (issue 20): ``make test`` in at most 60 s on 2 cores after setup, without dropping a test.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

from _common import ROOT, fmt, machine, median, python, table, write_result

GOAL_SECONDS = 60.0
DURATIONS = 25
RUNS = {
    "make test (`python -m pytest -n 2 --dist loadfile`)": [],
    "tests/ alone": ["tests/", f"--durations={DURATIONS}", "--durations-min=0.5"],
    "notebooks/ alone (nbval)": ["notebooks/"],
}


def pytest(args: list[str]) -> tuple[float, str]:
    cmd = [python(), "-m", "pytest", "-n", "2", "--dist", "loadfile", "-q", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_INFERENCE")}
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return seconds, done.stdout + done.stderr


def summary(out: str) -> str:
    lines = [ln.strip("= ") for ln in out.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    return lines[-1] if lines else "no summary line"


def slowest(out: str) -> list[list[str]]:
    rows = []
    for m in re.finditer(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)$", out, re.M):
        rows.append([fmt(float(m.group(1)), 2), m.group(2), f"`{m.group(3)}`"])
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=1, help="rounds (default 1)")
    args = p.parse_args(argv)
    info = machine()
    walls: dict[str, list[float]] = {label: [] for label in RUNS}
    outs: dict[str, str] = {}
    for r in range(args.rounds):
        for label, extra in RUNS.items():
            seconds, out = pytest(extra)
            walls[label].append(seconds)
            outs[label] = out
            print(f"round {r + 1} {label:55} {seconds:6.1f} s  {summary(out)}", flush=True)
    label_all = next(iter(RUNS))
    total = median(walls[label_all])
    failed = [label for label in RUNS if re.search(r"\d+ (failed|error)", summary(outs[label]))]
    verdict = "met" if total <= GOAL_SECONDS and not failed else "MISSED"
    load_after = os.getloadavg()
    rows = [[label, fmt(median(w)), " / ".join(f"{x:.1f}" for x in w), summary(outs[label])] for label, w in walls.items()]
    body = [
        f"Goal: `make test` in at most {GOAL_SECONDS:.0f} s on 2 cores after setup, no test dropped -> **{verdict}**: "
        f"{total:.1f} s (tests/ alone {median(walls['tests/ alone']):.1f} s, notebooks alone "
        f"{median(walls['notebooks/ alone (nbval)']):.1f} s)." + (f" Failures in: {', '.join(failed)}." if failed else ""),
        "",
        table(["run", "seconds", "each round", "result"], rows, "lrll"),
        "",
        f"Medians of {args.rounds} round(s), run one after the other (load average at the end: "
        f"{load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f}). The whole command runs both parts on the same two "
        "workers, so it takes less than their sum: each part alone leaves a worker idle at its end.",
        "",
    ]
    rows = slowest(outs["tests/ alone"])
    if rows:
        body += [f"The slowest tests in tests/ (pytest `--durations={DURATIONS}`, 0.5 s or more; each on one of the two workers):", "",
                 table(["seconds", "phase", "test"], rows, "rll"), ""]
    write_result("test_time", "Test time: make test, tests/ and notebooks apart", "\n".join(body), info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
