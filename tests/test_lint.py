"""ruff, configured in pyproject.toml ([tool.ruff]), passes on the whole repository: code and notebooks' code cells."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")


def ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RUFF), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_ruff_format_check():
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, f"ruff format --check . failed:\n{result.stdout}{result.stderr}"


def test_ruff_check():
    result = ruff("check", ".")
    assert result.returncode == 0, f"ruff check . failed:\n{result.stdout}{result.stderr}"


def test_ruff_check_can_fail(tmp_path):
    """The check above is not vacuous: the repository's configuration reports an unused import."""
    (tmp_path / "unused.py").write_text("import os\n")
    result = ruff("check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), "unused.py", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "F401" in result.stdout, result.stdout + result.stderr
