"""The jslab kernel's compile cache (scripts/jslab_compile_cache.js): a cell compiled once is reused by the next
kernel, with the same output and the same type errors; an edited cell is compiled afresh.

The cache's own rules run as Node's built-in tests (tests/js/jslab_compile_cache.test.js); the test below runs the
real kernel twice on the same cells.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import start_new_kernel

from tests.test_javascript_kernel import SETUP_HINT, printed_text

ROOT = Path(__file__).resolve().parents[1]


def test_cache_rules_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not on PATH")
    done = subprocess.run(
        [node, "--test", "tests/js/jslab_compile_cache.test.js"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, done.stdout[-2000:]


def run_cells(cells: list[str], cache: Path) -> list[str]:
    """Each cell's output text (stdout and stderr, in order), on a fresh jslab kernel in notebooks/ whose compile
    cache is the folder ``cache`` (a private one: other tests' kernels use the project's at the same time)."""
    manager, client = start_new_kernel(
        kernel_name="jslab", startup_timeout=60, cwd=str(ROOT / "notebooks"), env=kernel_env(cache)
    )
    try:
        return [printed_text(client, cell) for cell in cells]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def kernel_env(cache: Path) -> dict[str, str]:
    return {**os.environ, "COOKBOOK_JSLAB_CACHE": "1", "COOKBOOK_JSLAB_CACHE_DIR": str(cache)}


def test_a_second_kernel_reuses_compiled_cells_errors_included(tmp_path: Path) -> None:
    try:
        KernelSpecManager().get_kernel_spec("jslab")
    except NoSuchKernel:
        pytest.skip(SETUP_HINT)
    cache = tmp_path / "jslab-cache"
    cells = [
        'const greeting = "compiled";',
        "console.log(greeting);",
        '"abc".toFixed(1);',  # a type error, found by the compiler before the cell runs
    ]
    first = run_cells(cells, cache)
    assert first[1] == "compiled\n"
    assert "Property 'toFixed' does not exist" in first[2]
    written = {path: path.stat().st_mtime_ns for path in cache.glob("*.json")}
    assert len(written) == 3, f"expected one cache file per cell, found {len(written)}"

    # Proof that the second kernel reads the cache rather than compiling again: change what the cache says the
    # second cell compiles to, and that is what runs.
    for path in written:
        result = json.loads(path.read_text(encoding="utf-8"))
        if "console.log(exports.greeting)" in (result.get("output") or ""):  # tslab's JavaScript for cell 2
            result["output"] = result["output"].replace("exports.greeting", '"from the cache"')
            path.write_text(json.dumps(result), encoding="utf-8")
    written = {path: path.stat().st_mtime_ns for path in cache.glob("*.json")}
    second = run_cells(cells, cache)
    assert second[0] == first[0] and second[2] == first[2], "the same cells must give the same output and errors"
    assert second[1] == "from the cache\n"
    assert {path: path.stat().st_mtime_ns for path in cache.glob("*.json")} == written, (
        "a cached cell was compiled again"
    )

    edited = run_cells([cells[0], cells[1] + " // edited"], cache)
    assert edited[1] == "compiled\n", "an edited cell is compiled afresh"
    assert len(list(cache.glob("*.json"))) == 4
