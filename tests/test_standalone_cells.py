"""Each path notebook's "Quick start" cell (tagged ``standalone``) runs pasted into an empty script: ``python file.py``,
or ``node file.mjs`` for JavaScript, with only the environment variables, against the replay server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.javascript import javascript_unavailable
from helpers.offline import offline_env

ROOT = Path(__file__).resolve().parents[1]
PATH_NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[1-6]_*.ipynb"))
ANSWER = "7,000 languages"  # the recorded answer to the quick starts' question


def standalone_cells(path: Path) -> list[str]:
    cells = nbformat.read(path, as_version=4).cells
    return [cell.source for cell in cells if cell.cell_type == "code" and "standalone" in cell.metadata.get("tags", [])]


def script_env(mock_server) -> dict[str, str]:
    """Only what a reader's shell would have: the variables, PATH and HOME; nothing of this test process."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "SYSTEMROOT") if name in os.environ}
    return {**keep, **offline_env(mock_server.env())}


@pytest.mark.parametrize("path", PATH_NOTEBOOKS, ids=lambda p: p.name)
def test_every_path_notebook_has_one_standalone_quick_start(path):
    cells = standalone_cells(path)
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged standalone"
    source = cells[0]
    assert not re.search(r"^\s*[!%]", source, re.M), "IPython syntax (! or %) does not run in a script"
    assert not re.search(r"^\s*(from|import)\s+helpers\b", source, re.M), "the quick start must not need helpers"


def assert_prints_the_answer_twice(command: list[str], script: Path, mock_server) -> None:
    """Run the quick start as a script, with only the environment; the whole answer, then the streamed one."""
    done = subprocess.run(
        [*command, str(script)],
        cwd=script.parent,
        env=script_env(mock_server),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count(ANSWER) == 2, done.stdout


@pytest.mark.parametrize("path", [p for p in PATH_NOTEBOOKS if "javascript" not in p.name], ids=lambda p: p.name)
def test_a_python_quick_start_runs_as_a_script_and_prints_an_answer_twice(path, mock_server, tmp_path):
    script = tmp_path / "quick_start.py"
    script.write_text(standalone_cells(path)[0], encoding="utf-8")
    assert_prints_the_answer_twice([sys.executable], script, mock_server)


@pytest.mark.parametrize("path", [p for p in PATH_NOTEBOOKS if "javascript" in p.name], ids=lambda p: p.name)
def test_a_javascript_quick_start_runs_in_plain_node_and_prints_an_answer_twice(path, mock_server):
    if reason := javascript_unavailable():
        pytest.skip(reason)
    folder = ROOT / "build" / "standalone"  # inside the repository, so that node finds node_modules/openai
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"{path.stem}_quick_start.mjs"
    script.write_text(standalone_cells(path)[0], encoding="utf-8")
    assert_prints_the_answer_twice([shutil.which("node")], script, mock_server)
