"""The recordings in ``data/recordings``: no credentials, a valid provenance, and loadable by the server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.mock import DEMO_KEY, STAND_IN_ENTRA_TOKEN
from helpers.mock.app import load_deployments
from helpers.mock.recordings import PROVENANCES, RecordingStore, load_recording, match_key
from helpers.mock.rules import check_request

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "data" / "recordings"
FILES = sorted(RECORDINGS.glob("*/*.json"))
DEPLOYMENTS = load_deployments(ROOT / "data" / "deployments.json")

# Credential-looking content: auth header names, bearer tokens, 32-character keys, Azure-ish secrets.
SUSPICIOUS = [
    re.compile(r"authorization", re.I),
    re.compile(r"api-key", re.I),
    re.compile(r"\bbearer\s+\S+", re.I),
    re.compile(r"ocp-apim-subscription-key", re.I),
    re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),  # a JWT (Entra ID token)
]


def test_there_are_recordings():
    assert FILES, "data/recordings is empty"
    assert {f.parent.name for f in FILES} <= set(DEPLOYMENTS), "a folder that is not a deployment"


@pytest.mark.parametrize("path", FILES, ids=[f"{f.parent.name}/{f.name}" for f in FILES])
def test_recording_holds_no_credential(path):
    text = path.read_text(encoding="utf-8")
    for pattern in SUSPICIOUS:
        assert not pattern.search(text), f"{path.name} matches {pattern.pattern!r}"
    assert DEMO_KEY not in text and STAND_IN_ENTRA_TOKEN not in text
    raw = json.loads(text)
    assert set(raw["request"]) == {"body"}, "requests are stored as a body only, never headers"
    headers = {k.lower() for k in (raw["response"].get("headers") or {})}
    assert not headers & {"authorization", "api-key", "set-cookie"}


@pytest.mark.parametrize("path", FILES, ids=[f"{f.parent.name}/{f.name}" for f in FILES])
def test_recording_has_a_valid_provenance_and_shape(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    provenance = raw["provenance"]
    assert provenance["source"] in PROVENANCES
    assert provenance.get("note") or provenance.get("from"), "say where the answer came from"
    if provenance["source"] == "recorded-live":
        assert provenance.get("recorded_at")
    rec = load_recording(path, path.parent.name)
    response = raw["response"]
    assert ("body" in response) != ("stream" in response), "a JSON body or a stream, not both"
    dep = DEPLOYMENTS[rec.deployment]
    if rec.status == 200:
        # A successful answer must be to a request the service's rules let through.
        assert check_request(rec.request_body, dep.model_name) is None
    if rec.stream is not None:
        assert rec.request_body.get("stream") is True
        assert rec.stream[-1]["data"] == "[DONE]"
        chunks = [e["data"] for e in rec.stream[:-1]]
        assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
        assert chunks[-1]["choices"][0]["finish_reason"] is not None
        assert chunks[-1].get("usage")
        assert all(isinstance(e.get("delay_ms", 0), (int, float)) for e in rec.stream)
    elif rec.status == 200:
        assert rec.body["object"] == "chat.completion" and rec.body["usage"]["total_tokens"] > 0


def test_no_two_recordings_answer_the_same_request():
    seen: dict[tuple[str, str], str] = {}
    for path in FILES:
        rec = load_recording(path, path.parent.name)
        key = (rec.deployment, match_key(rec.request_body))
        assert key not in seen, f"{path.name} and {seen[key]} match the same requests"
        seen[key] = path.name
    assert len(RecordingStore(RECORDINGS)) == len(FILES)


def test_a_recording_without_provenance_is_refused(tmp_path):
    folder = tmp_path / "Meta-Llama-3.1-405B-Instruct"
    folder.mkdir()
    (folder / "bad.json").write_text(json.dumps({"request": {"body": {"messages": []}}, "response": {"status": 200, "body": {}}}))
    with pytest.raises(ValueError, match="provenance"):
        RecordingStore(tmp_path)
