"""The jslab kernel's compile cache (scripts/jslab_compile_cache.js): a cell compiled once is reused by the next
kernel, with the same output and the same type errors; an edited cell is compiled afresh.

The cache's own rules run as Node's built-in tests (tests/js/jslab_compile_cache.test.js); the test below runs the
real kernel twice on the same cells.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "node_modules" / ".cache" / "jslab"
SETUP_HINT = "run 'make test' (it runs 'npm ci' and installs the jslab kernelspec into .venv)"


def test_cache_rules_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not on PATH")
    done = subprocess.run(
        [node, "--test", "tests/js/jslab_compile_cache.test.js"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, done.stdout[-2000:]


def run_cells(cells: list[str]) -> list[str]:
    """Each cell's output text (stdout and stderr, in order), on a fresh jslab kernel in notebooks/."""
    manager, client = start_new_kernel(kernel_name="jslab", startup_timeout=60, cwd=str(ROOT / "notebooks"))
    try:
        outputs = []
        for cell in cells:
            msg_id = client.execute(cell)
            texts = []
            while True:
                msg = client.get_iopub_msg(timeout=60)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    texts.append(msg["content"]["text"])
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            outputs.append("".join(texts))
        return outputs
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_second_kernel_reuses_compiled_cells_errors_included() -> None:
    try:
        KernelSpecManager().get_kernel_spec("jslab")
    except NoSuchKernel:
        pytest.skip(SETUP_HINT)
    nonce = uuid.uuid4().hex  # cells no other run has compiled
    cells = [
        f'// {nonce}\nconst greeting = "compiled";',
        f"// {nonce}\nconsole.log(greeting);",
        f'// {nonce}\n"abc".toFixed(1);',  # a type error, found by the compiler before the cell runs
    ]
    before = set(CACHE.glob("*.json")) if CACHE.exists() else set()
    try:
        first = run_cells(cells)
        assert first[1] == "compiled\n"
        assert "Property 'toFixed' does not exist" in first[2]
        written = set(CACHE.glob("*.json")) - before
        assert len(written) == 3, f"expected one cache file per cell, found {len(written)}"

        # Proof that the second kernel reads the cache rather than compiling again: change what the cache says the
        # second cell compiles to, and that is what runs.
        for path in written:
            result = json.loads(path.read_text(encoding="utf-8"))
            if "console.log(exports.greeting)" in (result.get("output") or ""):  # tslab's JavaScript for cell 2
                result["output"] = result["output"].replace("exports.greeting", '"from the cache"')
                path.write_text(json.dumps(result), encoding="utf-8")
        second = run_cells(cells)
        assert second[0] == first[0] and second[2] == first[2], "the same cells must give the same output and errors"
        assert second[1] == "from the cache\n"
        assert set(CACHE.glob("*.json")) - before == written, "a cached cell was compiled and written again"

        edited = run_cells([cells[0], cells[1] + " // edited"])
        assert edited[1] == "compiled\n", "an edited cell is compiled afresh"
    finally:
        for path in set(CACHE.glob("*.json")) - before:
            path.unlink()
