"""Secrets never land: not in a notebook's outputs, not in the replay server's log, not in a committed file.

(Recordings are checked in test_mock_recordings_data.py, record mode in test_mock_record.py.)
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from pathlib import Path

import pytest
import requests

from helpers.constants import DEMO_KEY, STAND_IN_ENTRA_TOKEN
from helpers.mock import MockServer

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# A bearer value that is not a placeholder such as $AZURE_INFERENCE_CREDENTIAL, <your-key> or {key}.
BEARER_VALUE = re.compile(r"bearer\s+(?![$<{*])[A-Za-z0-9._~+/=-]{12,}", re.I)
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")
KEY_ASSIGNMENT = re.compile(r"(api-key|AZURE_INFERENCE\w*_CREDENTIAL)\s*[:=]\s*[\"']?(?![$<{*])[A-Za-z0-9]{32,}")


def _outputs(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps([cell.get("outputs", []) for cell in nb["cells"]])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_credential_in_a_notebook_output(path):
    text = _outputs(path)
    assert DEMO_KEY not in text, "an output shows the key: print settings.describe(), which masks it"
    assert STAND_IN_ENTRA_TOKEN not in text, "an output shows a bearer token"
    for pattern in (BEARER_VALUE, JWT, KEY_ASSIGNMENT):
        assert not pattern.search(text), f"{path.name}: an output matches {pattern.pattern!r}"


def test_the_patterns_catch_what_they_should():
    # Guard against the check above passing because its patterns match nothing.
    leaked = json.dumps([{"text": f"Authorization: Bearer {DEMO_KEY}\napi-key: {'a1' * 16}"}])
    assert BEARER_VALUE.search(leaked) and KEY_ASSIGNMENT.search(leaked)
    assert not BEARER_VALUE.search("-H 'Authorization: Bearer $AZURE_INFERENCE_CREDENTIAL'")


def test_the_request_log_names_no_credential(caplog, capfd):
    key = "a-key-only-this-test-uses-0123456"
    with caplog.at_level(logging.DEBUG), MockServer(key=key, log_requests=True) as mock:
        url = mock.endpoint("Meta-Llama-3.1-405B-Instruct") + "/chat/completions"
        body = {"messages": [{"role": "user", "content": "Not recorded."}]}
        for headers in ({"Authorization": f"Bearer {key}"}, {"api-key": key}, {"api-key": "a-wrong-key-0000000000000000000"}):
            requests.post(url, json=body, headers=headers, timeout=10)
    logged = caplog.text + "".join(capfd.readouterr())
    assert "Not recorded." in logged or "no recording" in logged  # the log did see the requests
    assert key not in logged and "a-wrong-key" not in logged


def test_no_committed_file_holds_a_key():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert ".env" not in files, ".env holds your key: it is in .gitignore and must never be committed"
    for name in files:
        path = ROOT / name
        if path.suffix in {".png", ".jpg"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not JWT.search(text), f"{name} holds what looks like an Entra ID token"
        assert not KEY_ASSIGNMENT.search(text), f"{name} assigns what looks like a real key"
        assert not BEARER_VALUE.search(text), f"{name} holds a literal bearer value: use a placeholder such as <not-a-key>"
