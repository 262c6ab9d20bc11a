"""The main job: execute every notebook headless, with a progress bar and a summary table.

    python scripts/run_notebooks.py              # all notebooks, executed copies in build/notebooks/
    python scripts/run_notebooks.py notebooks/01_azure_ai_inference_sdk.ipynb
    python scripts/run_notebooks.py --update     # also write the outputs back (refresh committed outputs)
    python scripts/run_notebooks.py --record     # live endpoint behind a recording proxy: re-record data/recordings
    python scripts/run_notebooks.py --endpoint-kind foundry-models   # offline, through another kind of endpoint
    python scripts/run_notebooks.py --jobs 1     # one notebook at a time

Offline, two notebooks run at a time (each on its own fresh kernel, as under ``make test``); against a live endpoint,
and with ``--update`` or ``--record``, one at a time, so that quotas and committed outputs see the requests in order.

With ``AZURE_INFERENCE_ENDPOINT`` unset (in the environment and in ``.env``), the replay server is started (and
stopped) for the run and every deployment's variables point at it. With it set, the notebooks run against your live
endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import re
import sys
import time
from pathlib import Path

sys.modules.setdefault("rfc3987_syntax", None)  # see helpers/pytest_plugin.py: about 1 s at import, unused here

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from tqdm import tqdm

from helpers.config import (
    ConfigError,
    configured_settings,
    endpoint_problem,
    endpoint_problems,
    load_settings,
    read_dotenv,
    unusable_hint,
)
from helpers.javascript import is_javascript_notebook, javascript_unavailable
from helpers.mock import DEMO_KEY, MockServer
from helpers.mock.deployments import DEFAULT_ENDPOINT_KIND, ENDPOINT_KINDS, deployment_prefixes
from helpers.offline import offline_env

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_SECONDS = ROOT / "bench" / "results" / "notebook_seconds.json"


def missing_deployments(nb: nbformat.NotebookNode) -> list[str]:
    """The variables a notebook needs that are not set (its metadata lists them under ``cookbook.requires``).

    Offline the replay server sets every deployment's variables, so this only matters against live endpoints:
    a notebook about, say, vision needs a vision deployment, and is skipped with a note when there is none.
    """
    required = nb.metadata.get("cookbook", {}).get("requires", [])
    return [f"{prefix}_ENDPOINT" for prefix in required if not os.environ.get(f"{prefix}_ENDPOINT")]


# ipykernel 7 logs a warning at every start that its sockets are not encrypted. They listen on 127.0.0.1 only, and
# the line would cut through the progress bar once per notebook: the kernels log errors only (errors still show).
QUIET_PYTHON_KERNEL = ["--IPKernelApp.log_level=ERROR"]


ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")  # the colours of an IPython traceback
COMMITTED_PORT = 8000  # the replay server's port in committed outputs: the one 'make lab' and 'make serve' use


def for_commit(nb: nbformat.NotebookNode, port: int | None) -> nbformat.NotebookNode:
    """The executed notebook as it is committed (--update): without what changes from run to run for no reason.

    No execution timestamps. Consecutive prints to one stream become one output (how a stream was split depends on
    timing; nbval joins them before comparing anyway), and offline, the replay server's port becomes 8000, the one
    ``make lab`` uses. What still changes is what depends on timing (notebook 08's progress bars and measured
    counts) and the port of a replay server a notebook starts itself (notebook 08's stricter one).
    """
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)  # timestamps left by an earlier run with timing on
        merged: list = []
        for output in cell.outputs:
            if (
                output.output_type == "stream"
                and merged
                and merged[-1].output_type == "stream"
                and merged[-1].name == output.name
            ):
                merged[-1].text += output.text
            else:
                merged.append(output)
        cell.outputs = merged
        if port is None:
            continue
        for output in cell.outputs:
            if output.output_type == "stream":
                output.text = output.text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{COMMITTED_PORT}")
            for kind, value in output.get("data", {}).items():
                if isinstance(value, str):
                    output.data[kind] = value.replace(f"127.0.0.1:{port}", f"127.0.0.1:{COMMITTED_PORT}")
    return nb


def failure_summary(exc: CellExecutionError) -> str:
    """One line for the summary table: the error's name and the first line of its message, without colour codes."""
    message = next((line for line in ANSI_CODES.sub("", str(exc.evalue or "")).splitlines() if line.strip(" -")), "")
    return ANSI_CODES.sub("", f"{exc.ename}: {message}" if exc.ename else message or "cell failed")[:160]


def run_one(path: Path, out_dir: Path, update: bool, timeout: int, port: int | None = None) -> tuple[str, float, str]:
    return asyncio.run(run_one_async(path, out_dir, update, timeout, port))


async def run_one_async(
    path: Path, out_dir: Path, update: bool, timeout: int, port: int | None = None
) -> tuple[str, float, str]:
    nb = nbformat.read(path, as_version=4)
    if is_javascript_notebook(path) and (reason := javascript_unavailable()):
        return "skipped", 0.0, reason
    if missing := missing_deployments(nb):
        return "skipped", 0.0, f"set {', '.join(missing)} (and its _CREDENTIAL) to run it"
    # Each notebook runs on its own kernel (python3, or jslab for the JavaScript notebook), as under nbval.
    kernel_name = nb.metadata.get("kernelspec", {}).get("name", "python3")
    # "immediate": kill the kernel when done, as nbval does; the default waits up to 1.5 s for it to tear down its
    # imports.
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        shutdown_kernel="immediate",
        store_widget_state=False,  # widget model ids are random: keep them out of the file
        record_timing=False,  # no execution timestamps in cell metadata: they change every run
        extra_arguments=QUIET_PYTHON_KERNEL if kernel_name == "python3" else [],
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    status, detail = "ok", ""
    try:
        await client.async_execute()
    except CellExecutionError as exc:
        status, detail = "FAILED", failure_summary(exc)
    except Exception as exc:  # noqa: BLE001 - a kernel crash or timeout fails this notebook, not the run
        status, detail = "FAILED", f"{type(exc).__name__}: {exc}"[:120]
    seconds = time.perf_counter() - start
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / path.name)
    if update and status == "ok":
        nbformat.write(for_commit(nb, port), path)
    return status, seconds, detail


async def run_all(
    paths: list[Path], jobs: int, args: argparse.Namespace, port: int | None
) -> list[tuple[str, str, float, str]]:
    """Every notebook, ``jobs`` at a time, each on its own kernel; the results in the order of ``paths``."""
    gate = asyncio.Semaphore(max(1, jobs))
    bar = tqdm(total=len(paths), unit="notebook")

    async def one(path: Path) -> tuple[str, str, float, str]:
        async with gate:
            bar.set_postfix_str(path.name)
            result = (path.name, *await run_one_async(path, args.build_dir, args.update, args.timeout, port))
            bar.update()
            return result

    # Slowest first by the last benchmark (bench/results/notebook_seconds.json, as under make test): a long notebook
    # started last would keep one kernel busy while the other idles. The table keeps the order of ``paths``.
    try:
        seconds = json.loads(NOTEBOOK_SECONDS.read_text(encoding="utf-8"))["seconds"]
    except (OSError, ValueError, KeyError):
        seconds = {}
    order = sorted(paths, key=lambda path: -float(seconds.get(path.name, 1e9)))
    tasks = {path: asyncio.ensure_future(one(path)) for path in order}
    try:
        return list(await asyncio.gather(*(tasks[path] for path in paths)))
    finally:
        bar.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "notebooks", help="where executed copies go")
    parser.add_argument(
        "--update", action="store_true", help="write outputs back into the notebooks (only those that passed)"
    )
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument(
        "--record",
        action="store_true",
        help="run through a recording proxy in front of the live endpoints, writing data/recordings",
    )
    parser.add_argument(
        "--endpoint-kind",
        choices=ENDPOINT_KINDS,
        default=DEFAULT_ENDPOINT_KIND,
        help="offline: how the notebooks reach the replay server's deployments: openai-v1 (today's "
        "path, default), foundry-models (the retired /models endpoint), serverless (the page's 2024 setup)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="notebooks at a time, each on its own kernel (default: 2 offline, 1 live or with --update or --record)",
    )
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))

    # A .env file counts as much as exported variables (README, 'Against your own endpoint'); exported ones win.
    dotenv_file = read_dotenv()
    mock = None
    if args.record:
        from helpers.mock.__main__ import build_parser, settings_from_args

        settings = settings_from_args(build_parser().parse_args(["record"]))  # upstreams from the live variables
        if os.environ.get("AZURE_INFERENCE_ENDPOINT") and (problem := endpoint_problem(load_settings(dotenv=False))):
            print(f"Cannot record: {problem}.", file=sys.stderr)
            return 2
        mock = MockServer(settings).start()
        os.environ.update(offline_env(mock.env(args.endpoint_kind)))
        print(f"Recording: {', '.join(settings.upstreams)} through the proxy at {mock.base_url}")
        if replayed := [name for name in mock.replay.deployments if name not in settings.upstreams]:
            print(f"Not recorded (no live endpoint and key set; answered from data/recordings): {', '.join(replayed)}")
    elif not os.environ.get("AZURE_INFERENCE_ENDPOINT"):
        try:
            mock = MockServer(key=DEMO_KEY).start()
        except ValueError as exc:  # a recording that does not load (edited by hand?): which file, and why
            print(f"Cannot start the replay server: {exc}", file=sys.stderr)
            return 2
        os.environ.update(offline_env(mock.env(args.endpoint_kind)))
        print(
            f"AZURE_INFERENCE_ENDPOINT is not set: running offline against the replay server, {args.endpoint_kind} "
            f"endpoint {os.environ['AZURE_INFERENCE_ENDPOINT']}"
        )
    else:
        try:  # a typo or a placeholder left in: one clear message now, not one failed notebook after another
            settings = load_settings(dotenv=False)
            # The other deployments set (vision, small, guard, managed): the same checks, so that a placeholder left
            # in an optional block of .env stops the run once instead of failing each notebook that reads it.
            others = configured_settings(p for p in deployment_prefixes() if p != settings.prefix)
        except ConfigError as exc:
            print(f"Cannot run against the live endpoint: {exc}", file=sys.stderr)
            return 2
        source = f" (from {Path(dotenv_file).name} and the environment)" if dotenv_file else ""
        print(f"Running against the live endpoint{source}: {settings.describe()}")
        for other in others:
            print(f"  and {other.prefix}: {other.describe()}")
        if problems := endpoint_problems([settings, *others]):  # one message now, not every notebook failing in turn
            for checked, problem in problems:
                print(f"Cannot run against the live endpoint: {problem}.\n  {unusable_hint(checked)}", file=sys.stderr)
            return 2

    live = mock is None or args.record  # a live endpoint's quota sees the requests one notebook at a time
    jobs = args.jobs or (1 if live or args.update or args.record else min(2, os.cpu_count() or 1))
    try:
        results = asyncio.run(run_all(paths, jobs, args, mock and mock.port))
    finally:
        if mock:
            mock.stop()

    width = max(len(name) for name, *_ in results) if results else 10
    print(f"\n{'notebook':<{width}}  {'status':<7}  {'seconds':>7}")
    for name, status, seconds, detail in results:
        print(f"{name:<{width}}  {status:<7}  {seconds:7.1f}" + (f"  {detail}" if detail else ""))
    print(f"{'total':<{width}}  {'':<7}  {sum(r[2] for r in results):7.1f}")
    print(
        "Executed copies: "
        f"{args.build_dir.relative_to(ROOT) if args.build_dir.is_relative_to(ROOT) else args.build_dir}"
    )
    return 0 if all(r[1] in ("ok", "skipped") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
