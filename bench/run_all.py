"""Run every benchmark, one after the other, and collect their reports in ``bench/results/latest.md``.

    python bench/run_all.py            # or: make bench   (about eight minutes on 2 cores)
    python bench/run_all.py --quick    # fewer requests and rounds (about five minutes)
    python bench/run_all.py --only server_load stream_fidelity

Each benchmark is its own script and process and writes ``bench/results/<name>.md``; this one runs
them in turn and writes ``latest.md``: the machine, the goals and whether they were met, then every
report in full. A benchmark that fails is reported as failed and the others still run.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

from _common import BENCH, RESULTS, ROOT, machine, machine_lines, python

BENCHMARKS = {
    "server_load": ("Replay server under load", [], ["--quick"]),
    "stream_fidelity": ("Streaming fidelity", [], ["--runs", "3", "--concurrent", "5"]),
    "memory": ("Replay server memory", [], []),
    "notebook_suite": (
        "Notebook suite",
        [],
        ["--rounds", "1"],
    ),  # full: 3 rounds of the nbval command (the median counts)
    "test_time": ("Test time", [], []),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer requests and rounds")
    p.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    args = p.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    info = machine()
    outcomes: dict[str, tuple[int, float]] = {}
    for name in names:
        title, full, quick = BENCHMARKS[name]
        cmd = [python(), str(BENCH / f"{name}.py"), *(quick if args.quick else full)]
        print(f"\n=== {title}: python bench/{name}.py {' '.join(cmd[2:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.run(cmd, cwd=ROOT).returncode
        outcomes[name] = (code, time.perf_counter() - start)

    lines = [
        "# Benchmark results",
        "",
        "Machine (at the start of `bench/run_all.py`):",
        "",
        *machine_lines(info),
        "",
        "Command: `python "
        f"bench/run_all.py{' --quick' if args.quick else ''}{' --only ' + ' '.join(args.only) if args.only else ''}`"
        + ("" if args.quick or args.only else " (`make bench`)")
        + ".",
        "",
        "## Summary",
        "",
    ]
    reports = []
    for name in names:
        code, seconds = outcomes[name]
        path = RESULTS / f"{name}.md"
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if code != 0:
            lines.append(
                f"- `{name}`: **failed** (exit {code}) after {seconds:.0f} s; its last results file, if any, follows."
            )
        goals = re.findall(r"^Goal.*$", text, re.M)
        for goal in goals:
            lines.append(f"- {BENCHMARKS[name][0]}, goal{goal[len('Goal') :]}")
        if not goals and text:
            first = next((ln for ln in text.splitlines() if ln.startswith("- ") and "recordings add" in ln), "")
            if first:
                lines.append(f"- {BENCHMARKS[name][0]}: {first[2:]}")
        reports.append("#" + text if text.startswith("## ") else text)  # one level down under latest.md's title
    body = "\n".join(lines) + "\n\n" + "\n\n".join(r.strip() for r in reports if r) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(body, encoding="utf-8")
    print(f"\nwritten: {(RESULTS / 'latest.md').relative_to(ROOT)}")
    for name in names:
        code, seconds = outcomes[name]
        print(f"  {name:16} {'ok' if code == 0 else f'FAILED ({code})':10} {seconds:6.0f} s")
    return 0 if all(code == 0 for code, _ in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
