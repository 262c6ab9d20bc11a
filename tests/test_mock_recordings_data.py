"""The recordings in ``data/recordings``: no credentials, a valid provenance, and loadable by the server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.mock import DEMO_KEY, STAND_IN_ENTRA_TOKEN
from helpers.mock.deployments import load_deployments
from helpers.mock.recordings import PROVENANCES, RecordingStore, load_recording, match_key
from helpers.mock.rules import check_request
from tests.test_no_secrets import BARE_KEY, _real_looking_key, find_secrets

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "data" / "recordings"
FILES = sorted(RECORDINGS.glob("*/*.json"))
DEPLOYMENTS = load_deployments(ROOT / "data" / "deployments.json")

# Words a recording has no reason to contain at all: auth header names, a bearer value. Key-shaped values
# (api-key: <32 characters>, AzureKeyCredential(...), ;Key=, sig=, JWTs, ...) are found by find_secrets, the
# patterns test_no_secrets.py checks every committed file and the history with.
SUSPICIOUS = [
    re.compile(r"authorization", re.I),
    re.compile(r"api-key", re.I),
    re.compile(r"\bbearer\s+\S+", re.I),
    re.compile(r"ocp-apim-subscription-key", re.I),
]
# Headers that carry or set a credential; a recording keeps none of them.
CREDENTIAL_HEADERS = {
    "authorization",
    "proxy-authorization",
    "api-key",
    "x-api-key",
    "ocp-apim-subscription-key",
    "cookie",
    "set-cookie",
}


def _strings(value, name: str = ""):
    """(field name, string) for every string in a parsed recording, however deeply nested."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, name)
    elif isinstance(value, str):
        yield name, value


def credentials_in(path: Path) -> list[str]:
    """Everything in a recording that looks like a credential. The whole file is read as text, so request and
    response headers and bodies, stream events and provenance are all covered; header names are checked too."""
    text = path.read_text(encoding="utf-8")
    found = [f"matches {pattern.pattern!r}" for pattern in SUSPICIOUS if pattern.search(text)]
    found += [
        f"holds {name}"
        for name, value in (("the demo key", DEMO_KEY), ("the stand-in Entra ID token", STAND_IN_ENTRA_TOKEN))
        if value in text
    ]
    found += find_secrets(text, path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name)
    raw = json.loads(text)
    for part in ("request", "response"):
        headers = raw.get(part, {}).get("headers") or {}
        found += [f"a {part} header {name}" for name in headers if name.lower() in CREDENTIAL_HEADERS]
    # A key with no telling name beside it (BARE_KEY); the service's completion ids have that shape too, so an "id"
    # field is the one place such a value may sit.
    found += [
        f"a bare key-shaped value in {name!r}"
        for name, string in _strings(raw)
        if name != "id" and BARE_KEY.search(string)
    ]
    return found


def test_there_are_recordings():
    assert FILES, "data/recordings is empty"
    assert {f.parent.name for f in FILES} <= set(DEPLOYMENTS), "a folder that is not a deployment"


@pytest.mark.parametrize("path", FILES, ids=[f"{f.parent.name}/{f.name}" for f in FILES])
def test_recording_holds_no_credential(path):
    assert credentials_in(path) == [], f"{path.name} holds what looks like a credential"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert set(raw["request"]) == {"body"}, "requests are stored as a body only, never headers"


# Each part of a recording, with a real-looking key (or a credential header) where it must never be.
LEAKS = {
    "a key in the provenance note": lambda raw, key: raw["provenance"].update(
        note=f"recorded with AZURE_INFERENCE_CREDENTIAL={key}"
    ),
    "a key with no name in the provenance": lambda raw, key: raw["provenance"].update(
        **{"from": f"our endpoint, key {key}"}
    ),
    "a key with no name in an answer": lambda raw, key: raw["response"]["body"]["choices"][0]["message"].update(
        content=key
    ),
    "a key-named field in the response body": lambda raw, key: raw["response"]["body"].update(api_key=key),
    "a token among the response headers": lambda raw, key: raw["response"].update(headers={"x-upstream-token": key}),
    "a response header that sets a cookie": lambda raw, key: raw["response"].update(
        headers={"Set-Cookie": "session=1"}
    ),
    "a secret among the request headers": lambda raw, key: raw["request"].update(headers={"x-ms-secret": key}),
    "a token in a stream event": lambda raw, key: raw["response"].update(
        stream=[{"data": {"token": key}}, {"data": "[DONE]"}]
    ),
    "a key in a message's text": lambda raw, key: raw["request"]["body"]["messages"].append(
        {"role": "user", "content": f'my key="{key}"'}
    ),
}


@pytest.mark.parametrize("leak", LEAKS)
def test_the_credential_check_finds(leak, tmp_path):
    # Guard against test_recording_holds_no_credential passing because it looks at nothing.
    raw = json.loads(
        (RECORDINGS / "Meta-Llama-3.1-405B-Instruct" / "how-many-languages.json").read_text(encoding="utf-8")
    )
    original = json.dumps(raw)
    for hexadecimal in (True, False):  # Azure keys come as hex and as mixed-case letters and digits
        raw = json.loads(original)
        LEAKS[leak](raw, _real_looking_key(hexadecimal))
        path = tmp_path / "leaky.json"
        path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
        assert credentials_in(path), f"{leak} went unnoticed (hexadecimal={hexadecimal})"


def test_the_server_accepts_exactly_the_three_provenances_the_readme_explains():
    assert set(PROVENANCES) == {"recorded-live", "documented-example", "authored"}


@pytest.mark.parametrize("path", FILES, ids=[f"{f.parent.name}/{f.name}" for f in FILES])
def test_recording_has_a_valid_provenance_and_shape(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    provenance = raw["provenance"]
    assert provenance["source"] in {"recorded-live", "documented-example", "authored"}  # the three the README explains
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
    (folder / "bad.json").write_text(
        json.dumps({"request": {"body": {"messages": []}}, "response": {"status": 200, "body": {}}})
    )
    with pytest.raises(ValueError, match="provenance"):
        RecordingStore(tmp_path)


def test_a_live_recording_of_the_same_request_wins_over_the_documented_and_the_authored_one(tmp_path):
    """`make record` writes next to the old files under new names; whatever their names sort like, the live answer
    is replayed, and an authored answer never hides a documented one."""
    documented = RECORDINGS / "Meta-Llama-3.1-405B-Instruct" / "how-many-languages.json"
    folder = tmp_path / "Meta-Llama-3.1-405B-Instruct"
    folder.mkdir()
    raw = json.loads(documented.read_text(encoding="utf-8"))
    (folder / documented.name).write_text(json.dumps(raw), encoding="utf-8")
    authored = {**raw, "provenance": {"source": "authored", "note": "a test's copy"}}
    (folder / "zzz-authored.json").write_text(json.dumps(authored), encoding="utf-8")  # sorts last
    store = RecordingStore(tmp_path)
    assert store.find("Meta-Llama-3.1-405B-Instruct", raw["request"]["body"]).name.endswith("/how-many-languages")
    live = {**raw, "provenance": {"source": "recorded-live", "recorded_at": "2026-11-27", "note": "a test's copy"}}
    (folder / "aaa-live.json").write_text(json.dumps(live), encoding="utf-8")  # sorts first
    store.reload()
    assert store.find("Meta-Llama-3.1-405B-Instruct", raw["request"]["body"]).name.endswith("/aaa-live")
