"""make lab (scripts/lab.py): what it decides before JupyterLab starts (JupyterLab itself is replaced here)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("lab", ROOT / "scripts" / "lab.py")
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)


@pytest.fixture
def started(live_setup, monkeypatch):
    """No AZURE_INFERENCE_* variables, an empty working folder, and a stand-in for JupyterLab that records what it saw."""
    seen: list[dict] = []
    monkeypatch.setattr(lab, "jupyter_lab", lambda extra: seen.append({"extra": extra, "endpoint": os.environ.get("AZURE_INFERENCE_ENDPOINT")}) or 0)
    return seen


def test_offline_it_starts_the_replay_server_and_passes_other_options_to_jupyter(started):
    assert lab.main(["--replay-port", "0", "--no-browser"]) == 0
    assert started[0]["extra"] == ["--no-browser"]
    assert started[0]["endpoint"].startswith("http://127.0.0.1:")


def test_a_taken_port_gets_one_clear_message(started, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert lab.main(["--replay-port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and f"make lab PORT={port + 1}" in err
    assert not started, "JupyterLab started anyway"


def test_an_unedited_dotenv_stops_before_jupyter_starts(started, tmp_path, capsys):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    assert lab.main([]) == 2
    assert "AZURE_INFERENCE_ENDPOINT still holds a placeholder" in capsys.readouterr().err
    assert not started


def test_ctrl_c_stops_jupyter_with_sigterm_so_it_shuts_its_kernels_down(monkeypatch):
    """Killing JupyterLab outright would orphan its kernels; SIGTERM makes it stop them first."""
    calls: list[str] = []

    class FakeLab:
        def __init__(self, command):
            self.waits = 0

        def wait(self, timeout=None):
            self.waits += 1
            if self.waits == 1:
                raise KeyboardInterrupt  # Ctrl+C while JupyterLab runs
            calls.append(f"wait {timeout}")
            return -15

        def terminate(self):
            calls.append("terminate")

        def kill(self):
            calls.append("kill")

    monkeypatch.setattr(lab.subprocess, "Popen", FakeLab)
    assert lab.jupyter_lab([]) == 0
    assert calls == ["terminate", "wait 30"]


def test_a_second_ctrl_c_while_jupyter_shuts_down_kills_it(monkeypatch):
    calls: list[str] = []

    class SlowLab:
        def __init__(self, command):
            self.waits = 0

        def wait(self, timeout=None):
            self.waits += 1
            calls.append(f"wait {timeout}")
            if self.waits <= 2:
                raise KeyboardInterrupt  # Ctrl+C, then Ctrl+C again while it shuts its kernels down
            return -9

        def terminate(self):
            calls.append("terminate")

        def kill(self):
            calls.append("kill")

    monkeypatch.setattr(lab.subprocess, "Popen", SlowLab)
    assert lab.jupyter_lab([]) == 0
    assert calls == ["wait None", "terminate", "wait 30", "kill", "wait None"]


def test_a_port_out_of_range_is_an_argument_error(started, capsys):
    with pytest.raises(SystemExit):
        lab.main(["--replay-port", "99999"])
    assert "99999 is not a port number (0-65535)" in capsys.readouterr().err
    assert not started
