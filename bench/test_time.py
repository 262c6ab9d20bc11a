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
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from _common import RESULTS, ROOT, fmt, machine, median, python, table, write_result

TEST_SECONDS = RESULTS / "test_seconds.json"

GOAL_SECONDS = 60.0
DURATIONS = 25
RUNS = {
    "make test (`python -m pytest -n 2 --dist loadfile`)": [],
    "tests/ alone": ["tests/", "--durations=0", "--durations-min=0"],
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


def durations(out: str) -> list[tuple[float, str, str]]:
    """pytest's --durations lines: (seconds, phase, test id), slowest first."""
    found = [
        (float(m.group(1)), m.group(2), m.group(3))
        for m in re.finditer(r"^([\d.]+)s (call|setup|teardown)\s+(.+?)\s*$", out, re.M)
    ]
    return sorted(found, key=lambda d: -d[0])


def seconds_per_file(found: list[tuple[float, str, str]]) -> dict[str, float]:
    files: dict[str, float] = {}
    for seconds, _, test in found:
        name = test.split("::", 1)[0]
        files[name] = files.get(name, 0.0) + seconds
    return dict(sorted(files.items(), key=lambda kv: -kv[1]))


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
    rows = [
        [label, fmt(median(w)), " / ".join(f"{x:.1f}" for x in w), summary(outs[label])] for label, w in walls.items()
    ]
    body = [
        f"Goal: `make test` in at most {GOAL_SECONDS:.0f} s on 2 cores after setup, no test dropped -> **{verdict}**: "
        f"{total:.1f} s (tests/ alone {median(walls['tests/ alone']):.1f} s, notebooks alone "
        f"{median(walls['notebooks/ alone (nbval)']):.1f} s)."
        + (f" Failures in: {', '.join(failed)}." if failed else ""),
        "",
        table(["run", "seconds", "each round", "result"], rows, "lrll"),
        "",
        f"Medians of {args.rounds} round(s), run one after the other (load average at the end: {load_after[0]:.2f} / "
        f"{load_after[1]:.2f} / {load_after[2]:.2f}). The whole command runs both parts on the same two workers, so "
        "it takes less than their sum: each part alone leaves a worker idle at its end.",
        "",
    ]
    found = durations(outs["tests/ alone"])
    rows = [[fmt(sec, 2), phase, f"`{test[:150]}`"] for sec, phase, test in found[:DURATIONS] if sec >= 0.5]
    if rows:
        body += [
            f"The slowest tests in tests/ (pytest `--durations`, the {DURATIONS} slowest of 0.5 s or more; each on "
            "one of the two workers):",
            "",
            table(["seconds", "phase", "test"], rows, "rll"),
            "",
        ]
    files = seconds_per_file(found)
    if files:
        body += [
            "Seconds per test file (setup, call and teardown of its tests, summed): "
            + ", ".join(f"`{Path(name).name}` {sec:.1f}" for name, sec in list(files.items())[:10])
            + (
                ". `helpers.pytest_plugin` hands the files out slowest first by `bench/results/test_seconds.json`, "
                "which this run wrote."
            ),
            "",
        ]
        TEST_SECONDS.write_text(
            json.dumps(
                {
                    "about": (
                        "Seconds each test file took in the last run of bench/test_time.py (tests/ alone, 2 workers; "
                        "setup, call and teardown summed). helpers.pytest_plugin hands the slowest files to the "
                        "pytest-xdist workers first."
                    ),
                    "seconds": {Path(name).as_posix(): round(sec, 2) for name, sec in files.items()},
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    write_result("test_time", "Test time: make test, tests/ and notebooks apart", "\n".join(body), info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
