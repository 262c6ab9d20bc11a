"""make lab (scripts/lab.py): what it decides before JupyterLab starts (JupyterLab itself is replaced here)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
from pathlib import Path

import pytest

import helpers.config

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("lab", ROOT / "scripts" / "lab.py")
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)


@pytest.fixture
def started(live_setup, monkeypatch):
    """No AZURE_INFERENCE_* variables, an empty working folder, and a stand-in for JupyterLab that records what it
    saw."""
    seen: list[dict] = []
    monkeypatch.setattr(
        lab,
        "jupyter_lab",
        lambda extra: seen.append({"extra": extra, "endpoint": os.environ.get("AZURE_INFERENCE_ENDPOINT")}) or 0,
    )
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


def test_a_placeholder_left_in_another_deployments_block_stops_before_jupyter_starts(
    started, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(helpers.config, "endpoint_problem", lambda settings: None)  # as if the endpoint answered
    (tmp_path / ".env").write_text(
        "AZURE_INFERENCE_ENDPOINT=https://example.invalid\nAZURE_INFERENCE_CREDENTIAL=abcdefghijklmnopqrstuvwxyz012345\n"
        "AZURE_INFERENCE_VISION_ENDPOINT=https://<your-host>.<region>.models.ai.azure.com\n"
    )
    assert lab.main([]) == 2
    assert "AZURE_INFERENCE_VISION_ENDPOINT still holds a placeholder" in capsys.readouterr().err
    assert not started


class FakeLab:
    """Stands in for the JupyterLab process: each wait() raises KeyboardInterrupt (a Ctrl+C) until ``interrupts`` ran
    out."""

    def __init__(self, calls: list[str], interrupts: int) -> None:
        self.calls, self.interrupts = calls, interrupts

    def wait(self, timeout=None):
        self.calls.append(f"wait {timeout}")
        if self.interrupts:
            self.interrupts -= 1
            raise KeyboardInterrupt
        return -15

    def terminate(self):
        self.calls.append("terminate")

    def kill(self):
        self.calls.append("kill")


@pytest.mark.parametrize(
    "interrupts, expected",
    [
        # Ctrl+C: SIGTERM, so that Jupyter shuts its kernels down (killing it outright would orphan them)
        (1, ["wait None", "terminate", "wait 30"]),
        # Ctrl+C, then Ctrl+C again while it shuts its kernels down: killed
        (2, ["wait None", "terminate", "wait 30", "kill", "wait None"]),
    ],
)
def test_ctrl_c_stops_jupyter_with_sigterm_and_a_second_one_kills_it(monkeypatch, interrupts, expected):
    calls: list[str] = []
    monkeypatch.setattr(lab.subprocess, "Popen", lambda command: FakeLab(calls, interrupts))
    assert lab.jupyter_lab([]) == 0
    assert calls == expected


def test_a_port_out_of_range_is_an_argument_error(started, capsys):
    with pytest.raises(SystemExit):
        lab.main(["--replay-port", "99999"])
    assert "99999 is not a port number (0-65535)" in capsys.readouterr().err
    assert not started
