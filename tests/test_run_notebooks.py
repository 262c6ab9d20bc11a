"""The main job (scripts/run_notebooks.py): what it does before it starts any kernel."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import nbformat

import helpers.config
from helpers.pytest_plugin import offline_env

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)


FAKE_KEY = "abcdefghijklmnopqrstuvwxyz012345"  # 32 characters, not a real key


def test_a_notebook_needing_an_unset_deployment_is_skipped_against_live_endpoints(live_setup, monkeypatch, capsys):
    monkeypatch.setattr(helpers.config, "endpoint_problem", lambda settings: None)  # as if example.invalid answered
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", "https://example.invalid")  # "live": no replay server started
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", FAKE_KEY)
    code = run_notebooks.main([str(ROOT / "notebooks" / "07_vision.ipynb"), "--build-dir", str(live_setup / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Running against the live endpoint: https://example.invalid (serverless, live endpoint)" in out
    assert "skipped" in out and "set AZURE_INFERENCE_VISION_ENDPOINT" in out
    assert FAKE_KEY not in out


def test_a_live_endpoint_in_dotenv_is_used_as_the_readme_says(live_setup, monkeypatch, capsys):
    monkeypatch.setattr(helpers.config, "endpoint_problem", lambda settings: None)  # as if example.invalid answered
    (live_setup / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT=https://example.invalid\nAZURE_INFERENCE_CREDENTIAL={FAKE_KEY}\n"
    )
    code = run_notebooks.main([str(ROOT / "notebooks" / "07_vision.ipynb"), "--build-dir", str(live_setup / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Running against the live endpoint (from .env and the environment): https://example.invalid" in out
    assert "replay server" not in out and "skipped" in out


def test_an_endpoint_that_does_not_answer_stops_the_run_before_any_notebook(live_setup, monkeypatch, capsys):
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", "https://example.invalid")  # .invalid never resolves
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", FAKE_KEY)
    code = run_notebooks.main(
        [str(ROOT / "notebooks" / "12_interactive_chat_widget.ipynb"), "--build-dir", str(live_setup / "out")]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "Cannot run against the live endpoint: cannot reach https://example.invalid" in captured.err
    assert "leave AZURE_INFERENCE_ENDPOINT unset" in captured.err
    assert FAKE_KEY not in captured.out + captured.err
    assert not (live_setup / "out").exists()  # no notebook ran


def test_an_unedited_dotenv_stops_the_run_with_one_clear_error(live_setup, capsys):
    shutil.copy(ROOT / ".env.example", live_setup / ".env")
    code = run_notebooks.main(
        [str(ROOT / "notebooks" / "12_interactive_chat_widget.ipynb"), "--build-dir", str(live_setup / "out")]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "AZURE_INFERENCE_ENDPOINT still holds a placeholder from .env.example" in captured.err
    assert not (live_setup / "out").exists()  # no notebook ran


def test_a_placeholder_left_in_another_deployments_block_stops_the_run_once(live_setup, monkeypatch, capsys):
    monkeypatch.setattr(helpers.config, "endpoint_problem", lambda settings: None)  # as if every endpoint answered
    (live_setup / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT=https://example.invalid\nAZURE_INFERENCE_CREDENTIAL={FAKE_KEY}\n"
        "AZURE_INFERENCE_MANAGED_ENDPOINT=https://<your-endpoint>.<region>.inference.ml.azure.com\n"
    )
    code = run_notebooks.main(
        [str(ROOT / "notebooks" / "12_interactive_chat_widget.ipynb"), "--build-dir", str(live_setup / "out")]
    )
    assert code == 2
    assert "AZURE_INFERENCE_MANAGED_ENDPOINT still holds a placeholder" in capsys.readouterr().err
    assert not (live_setup / "out").exists()  # no notebook ran


def test_another_deployment_that_does_not_answer_stops_the_run_once(live_setup, monkeypatch, capsys):
    small = "https://small.example.invalid"
    monkeypatch.setattr(
        helpers.config, "endpoint_problem", lambda s: f"cannot reach {s.endpoint}" if s.endpoint == small else None
    )
    for prefix, url in (("AZURE_INFERENCE", "https://example.invalid"), ("AZURE_INFERENCE_SMALL", small)):
        monkeypatch.setenv(f"{prefix}_ENDPOINT", url)
        monkeypatch.setenv(f"{prefix}_CREDENTIAL", FAKE_KEY)
    code = run_notebooks.main(
        [str(ROOT / "notebooks" / "12_interactive_chat_widget.ipynb"), "--build-dir", str(live_setup / "out")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot reach {small}" in err and "unset AZURE_INFERENCE_SMALL_ENDPOINT" in err
    assert not (live_setup / "out").exists()


def test_a_recording_that_does_not_load_stops_the_run_with_one_message(live_setup, monkeypatch, tmp_path, capsys):
    broken = tmp_path / "recordings" / "Meta-Llama-3.1-405B-Instruct" / "edited-by-hand.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"request": {')
    real = run_notebooks.MockServer
    monkeypatch.setattr(run_notebooks, "MockServer", lambda **kw: real(recordings_dir=tmp_path / "recordings", **kw))
    code = run_notebooks.main(
        [str(ROOT / "notebooks" / "12_interactive_chat_widget.ipynb"), "--build-dir", str(live_setup / "out")]
    )
    err = capsys.readouterr().err
    assert (
        code == 2 and "Cannot start the replay server" in err and "edited-by-hand.json: not a readable JSON file" in err
    )


def test_required_deployments_are_read_from_the_notebook_metadata(monkeypatch):
    nb = nbformat.v4.new_notebook(
        metadata={"cookbook": {"requires": ["AZURE_INFERENCE_GUARD", "AZURE_INFERENCE_SMALL"]}}
    )
    monkeypatch.delenv("AZURE_INFERENCE_GUARD_ENDPOINT", raising=False)
    monkeypatch.setenv("AZURE_INFERENCE_SMALL_ENDPOINT", "https://example.invalid")
    assert run_notebooks.missing_deployments(nb) == ["AZURE_INFERENCE_GUARD_ENDPOINT"]
    assert run_notebooks.missing_deployments(nbformat.v4.new_notebook()) == []


def test_every_notebook_that_reads_another_deployment_either_declares_it_or_handles_its_absence():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        declared = set(nb.metadata.get("cookbook", {}).get("requires", []))
        for prefix in (
            "AZURE_INFERENCE_VISION",
            "AZURE_INFERENCE_SMALL",
            "AZURE_INFERENCE_GUARD",
            "AZURE_INFERENCE_MANAGED",
        ):
            if f'"{prefix}"' in code and prefix not in declared:
                # every read of that deployment's settings must allow its absence (the notebook then skips a section
                # or uses the main deployment): optional_settings in Python, loadSettings only behind a check of the
                # endpoint variable in JavaScript
                calls = re.findall(r'(\w+)\(\s*"' + prefix + '"', code)
                optional = [c for c in calls if c == "optional_settings"]
                guarded_js = re.findall(
                    r"\(process\.env\."
                    + prefix
                    + r'_ENDPOINT \?\? ""\)\.trim\(\) \? loadSettings\("'
                    + prefix
                    + r'"\)',
                    code,
                )
                assert calls and len(optional) + len(guarded_js) == len(calls), (
                    f"{path.name} reads {prefix} without a fallback: {calls}"
                )


def test_a_run_shows_no_kernel_log_lines(tmp_path):
    """ipykernel's start-up warnings would cut through the progress bar; the table and the result still show."""
    import subprocess
    import sys

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print(6 * 7)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), str(path), "--build-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "tiny.ipynb" in done.stdout and " ok " in done.stdout
    assert "IPKernelApp" not in done.stderr, done.stderr
    executed = nbformat.read(tmp_path / "out" / "tiny.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"


ONE_DEPLOYMENT_NOTEBOOKS = [
    "09_cost_and_quota_tracking.ipynb",
    "11_managed_compute_entra_id.ipynb",
    "13_moderation_llama_guard.ipynb",
]


def test_with_only_the_main_deployment_notebooks_say_what_to_set_and_run_to_the_end(
    live_setup, monkeypatch, mock_server, capsys
):
    """A live user with one deployment: sections that need another one print 'skipped: set ...', and nothing fails.

    The replay server stands in for the live endpoint; every other deployment's variables are set empty, so that a
    .env file in the project cannot fill them in."""
    for name, value in offline_env(mock_server).items():
        # another deployment's variable (AZURE_INFERENCE_SMALL_ENDPOINT, not AZURE_INFERENCE_ENDPOINT): set empty;
        # the rest (the main deployment's, NO_PROXY, the offline switches) as the offline environment has them
        other_deployment = name.startswith("AZURE_INFERENCE_") and name.rsplit("_", 1)[0] != "AZURE_INFERENCE"
        monkeypatch.setenv(name, "" if other_deployment else value)
    out_dir = live_setup / "out"
    code = run_notebooks.main(
        [str(ROOT / "notebooks" / name) for name in ONE_DEPLOYMENT_NOTEBOOKS] + ["--build-dir", str(out_dir)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    table = {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if line.split()[:1] and line.split()[0] in ONE_DEPLOYMENT_NOTEBOOKS
    }
    assert table == {name: "ok" for name in ONE_DEPLOYMENT_NOTEBOOKS}, out
    for name in ONE_DEPLOYMENT_NOTEBOOKS:
        executed = nbformat.read(out_dir / name, as_version=4)
        printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
        assert "skipped: set AZURE_INFERENCE_" in printed, f"{name} did not say which deployment to set"


def test_for_commit_leaves_out_what_changes_from_run_to_run():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell("print(endpoint)", metadata={"execution": {"shell.execute_reply": "2026-11-27T05:20:09Z"}})
    cell.outputs = [
        new_output("stream", name="stdout", text="http://127.0.0.1:41234/Meta-Llama-3.1-405B-Instruct\n"),
        new_output("stream", name="stdout", text="second print\n"),
        new_output("stream", name="stderr", text="a warning\n"),
        new_output("execute_result", data={"text/plain": "'http://127.0.0.1:41234'"}, execution_count=1),
    ]
    committed = run_notebooks.for_commit(new_notebook(cells=[cell]), port=41234)
    outputs = committed.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "stream", "execute_result"]
    assert outputs[0].text == "http://127.0.0.1:8000/Meta-Llama-3.1-405B-Instruct\nsecond print\n"
    assert outputs[2].data["text/plain"] == "'http://127.0.0.1:8000'"
    assert "execution" not in committed.cells[0].metadata
    assert cell.outputs[0].text.startswith("http://127.0.0.1:41234"), "the executed copy must stay as it ran"


def test_a_failed_notebook_is_summed_up_in_one_readable_line():
    from nbclient.exceptions import CellExecutionError

    exc = CellExecutionError("traceback", "HTTPError", "\x1b[31m502 Server Error: Bad Gateway\x1b[39m\nmore detail")
    assert run_notebooks.failure_summary(exc) == "HTTPError: 502 Server Error: Bad Gateway"
