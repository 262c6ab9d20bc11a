"""The JavaScript path's setup: pinned npm packages, and the "jslab" kernel that nbval runs notebook 06 on.

``make`` runs ``npm ci`` and ``node scripts/jslab_kernel.js --install .venv`` before the tests; these checks
say so plainly when that step is missing, instead of letting the notebook fail with an unknown kernel.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "06_javascript_rest.ipynb"
SETUP_HINT = "run 'make test' (it runs 'npm ci' and installs the jslab kernelspec into .venv)"


def printed_text(client, code: str, timeout: float = 60) -> str:
    """Run ``code`` on the kernel behind ``client``; what it printed (stdout and stderr, in order) until idle."""
    msg_id = client.execute(code)
    texts = []
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            texts.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(texts)


def test_npm_dependencies_are_pinned_and_locked() -> None:
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", version), (
            f"{name} is not pinned to one version: {version}"
        )
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, f"package-lock.json disagrees on {name}"


def test_notebook_names_the_jslab_kernel() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata.kernelspec.name == "jslab"
    assert nb.metadata.kernelspec.language == "javascript"


def test_jslab_kernelspec_is_installed_for_this_python() -> None:
    try:
        spec = KernelSpecManager().get_kernel_spec("jslab")
    except NoSuchKernel:
        pytest.fail(f"no 'jslab' kernelspec for {sys.prefix}: {SETUP_HINT}")
    assert spec.argv[1].endswith("jslab_kernel.js") and Path(spec.argv[1]).exists(), spec.argv
    assert (ROOT / "node_modules" / "tslab" / "package.json").exists(), f"node_modules is missing: {SETUP_HINT}"


def test_jslab_kernel_info_reply_has_status() -> None:
    """nbval reads ``status`` from kernel_info_reply; tslab leaves it out, scripts/jslab_kernel.js adds it."""
    try:
        KernelSpecManager().get_kernel_spec("jslab")
    except NoSuchKernel:
        pytest.skip(SETUP_HINT)
    manager, client = start_new_kernel(kernel_name="jslab", startup_timeout=60, cwd=str(NOTEBOOK.parent))
    try:
        reply = client.kernel_info(reply=True, timeout=30)
        assert reply["content"]["status"] == "ok"
        assert reply["content"]["language_info"]["name"] == "javascript"
        printed = printed_text(client, 'console.log(require("@azure-rest/ai-inference/package.json").version)', 30)
        package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
        assert printed.strip() == package["dependencies"]["@azure-rest/ai-inference"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_jslab_kernel_exits_when_the_process_that_started_it_is_gone(tmp_path) -> None:
    """A killed JupyterLab must not leave the JavaScript kernel running (tslab itself never checks its parent)."""
    import os
    import subprocess
    import time

    from jupyter_client.connect import write_connection_file

    connection_file, _ = write_connection_file(str(tmp_path / "kernel.json"))
    kernel = KernelSpecManager().get_kernel_spec("jslab").argv
    command = " ".join(f"'{part}'" for part in kernel).replace("'{connection_file}'", f"'{connection_file}'")
    # A shell starts the kernel in the background, prints its pid, waits until the kernel is surely up, says whether
    # it is still running (it must be: its parent is alive) and exits.
    script = f"{command} >/dev/null 2>&1 & echo $!; sleep 3; kill -0 $! && echo running"
    pid_line, *state = subprocess.run(["sh", "-c", script], capture_output=True, text=True).stdout.split()
    pid = int(pid_line)
    assert state == ["running"], "the jslab kernel stopped while the process that started it was still there"
    deadline = time.monotonic() + 30  # generous: node starts slowly on a busy machine; the check runs every second
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, 9)
    pytest.fail("the jslab kernel was still running 30 s after its parent exited")
