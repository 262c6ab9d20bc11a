"""Fixtures shared by the tests of the scripts (run_notebooks.py, lab.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def live_setup(monkeypatch, tmp_path) -> Path:
    """No AZURE_INFERENCE_* variables and an empty working folder (so no .env is found); all restored afterwards,
    including what a .env file loaded by the script under test adds."""
    for name in [n for n in os.environ if n.startswith("AZURE_INFERENCE")] + [
        "AZURE_INFERENCE_ENDPOINT",
        "AZURE_INFERENCE_CREDENTIAL",
    ]:
        monkeypatch.setenv(name, "")  # remembers the session's value (or its absence) for the teardown
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
