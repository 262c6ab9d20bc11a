"""Zero setup (helpers/autostart.py): with nothing configured, the helpers start the bundled replay server themselves,
once per process, and say so; a live-looking setup gets a ConfigError naming what was found instead."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from dotenv import dotenv_values
from nbclient import NotebookClient

from helpers import autostart
from helpers.config import ConfigError, load_settings, optional_settings
from helpers.offline import OFFLINE_ENV

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SAID = "No AZURE_INFERENCE_* variables: started the bundled replay server at http://127.0.0.1:"
# What the test harness adds to the environment; a Jupyter started any other way has none of it.
HARNESS = {
    "PYTEST_CURRENT_TEST",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
    "GITHUB_TOKEN",
    autostart.SWITCH,
    *OFFLINE_ENV,
}


def plain_jupyter_env() -> dict[str, str]:
    """The environment of a kernel started by a Jupyter that knows nothing of this project."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in HARNESS and name not in autostart.live_looking({name: value or "x"})
    }


@pytest.fixture
def nothing_configured(monkeypatch, tmp_path):
    """No AZURE_INFERENCE_* variable, no .env (an empty working folder), autostart on as outside pytest; the
    environment and the module's state restored afterwards (a server started here is stopped)."""
    saved = dict(os.environ)
    for name in autostart.live_looking(os.environ):
        del os.environ[name]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(autostart, "_under_pytest", lambda: False)
    monkeypatch.delenv(autostart.SWITCH, raising=False)
    yield
    if autostart._server is not None:
        autostart._server.stop()
    autostart._server = None
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize("name", ["AZURE_INFERNCE_ENDPOINT", "AZURE_INFERENCE_ENDPIONT", "AZURE_AI_INFERENCE_ENDPOINT"])
def test_a_misspelled_variable_raises_naming_it_and_starts_nothing(nothing_configured, name):
    os.environ[name] = "https://my-resource.openai.azure.com/openai/v1"
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert name in message and "AZURE_INFERENCE_ENDPOINT" in message and "not started" in message
    assert autostart._server is None


def test_a_stray_key_raises_naming_it_without_showing_it(nothing_configured):
    os.environ["AZURE_INFERENCE_CREDENTIAL"] = "k3y-0f-a-live-setup-1234"
    with pytest.raises(ConfigError, match="AZURE_INFERENCE_CREDENTIAL") as raised:
        load_settings()
    assert "k3y-0f-a-live-setup" not in str(raised.value)
    assert autostart._server is None


def test_another_deployments_endpoint_alone_raises_too(nothing_configured):
    os.environ["AZURE_INFERENCE_VISION_ENDPOINT"] = "https://my-resource.openai.azure.com/openai/v1"
    with pytest.raises(ConfigError, match="AZURE_INFERENCE_VISION_ENDPOINT"):
        load_settings()
    assert autostart._server is None


def test_unrelated_azure_variables_do_not_count_as_live():
    assert autostart.live_looking({"AZURE_OPENAI_ENDPOINT": "x", "AZURE_CLIENT_ID": "x", "AZURE_TENANT_ID": "x"}) == []
    assert autostart.live_looking({"AZURE_INFERENCE_ENDPOINT": "  "}) == []  # empty is unset


def test_autostart_happens_once_and_says_so_once(nothing_configured, capsys):
    first = load_settings()
    server = autostart._server
    again = load_settings()
    vision = optional_settings("AZURE_INFERENCE_VISION")
    out = capsys.readouterr().out
    assert out.count(SAID) == 1, out
    assert autostart._server is server and first == again
    assert first.is_local and first.kind == "openai-v1" and first.endpoint == f"{server.base_url}/openai/v1"
    assert vision is not None and vision.is_local
    # every offline variable is in os.environ, for !curl cells and subprocesses
    assert all(os.environ[name] == value for name, value in OFFLINE_ENV.items())


def test_an_optional_deployment_of_a_live_setup_is_still_just_not_set(nothing_configured):
    os.environ["AZURE_INFERENCE_ENDPOINT"] = "https://my-resource.openai.azure.com/openai/v1"
    assert optional_settings("AZURE_INFERENCE_VISION") is None
    assert autostart._server is None


def test_under_pytest_nothing_starts(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AZURE_INFERENCE_ENDPOINT")
    with pytest.raises(ConfigError, match="AZURE_INFERENCE_ENDPOINT is not set"):
        load_settings()
    assert autostart._server is None


@pytest.mark.parametrize("notebook", ["01_azure_ai_inference_sdk", "03_openai_sdk", "05_litellm"])
def test_a_notebook_in_a_plain_jupyter_runs_offline_and_says_so(notebook):
    for folder in [NOTEBOOKS, *NOTEBOOKS.parents]:  # where the kernel's helpers look for a .env file
        if (folder / ".env").is_file() and autostart.live_looking(dotenv_values(folder / ".env")):
            pytest.skip(f"{folder / '.env'} configures a live endpoint: this test needs a machine with nothing set")
    env = plain_jupyter_env()
    nb = nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=env)  # raises CellExecutionError on the first unexpected error
    printed = [
        output.get("text", "")
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    ]
    assert sum(text.count(SAID) for text in printed) == 1, printed[:3]


def test_the_javascript_notebook_in_a_plain_jupyter_runs_offline_and_says_so():
    from helpers.javascript import javascript_unavailable

    if reason := javascript_unavailable():
        pytest.skip(reason)
    for folder in [NOTEBOOKS, *NOTEBOOKS.parents]:
        if (folder / ".env").is_file() and autostart.live_looking(dotenv_values(folder / ".env")):
            pytest.skip(f"{folder / '.env'} configures a live endpoint: this test needs a machine with nothing set")
    nb = nbformat.read(NOTEBOOKS / "06_javascript_rest.ipynb", as_version=4)
    client = NotebookClient(nb, kernel_name="jslab", timeout=120, resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=plain_jupyter_env())  # the kernel starts the replay server itself (scripts/jslab_kernel.js)
    printed = [
        output.get("text", "")
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    ]
    assert sum("the kernel started the bundled replay server at" in text for text in printed) == 1, printed[:4]
