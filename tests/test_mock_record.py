"""Record mode, end to end, without the internet.

A local replay server with its own key and a copy of ``data/recordings`` plays the live endpoint
("upstream"); a second server in record mode proxies to it. Every client path sends its requests,
plain and streamed, through the proxy. The recordings written must say ``recorded-live`` and hold no
credential; a fresh replay server on them must then give every client the same answers.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import requests

from helpers.mock import DEMO_KEY, MockServer, MockSettings
from helpers.mock.recordings import load_recording
from tests.test_mock_clients import (
    DEPLOYMENT,
    MESSAGES,
    STREAM_PARAMS,
    assert_documented_answers,
    client_matrix,
    local_settings,
)

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_KEY = "upstream-key-used-only-in-tests-01"  # stands in for a live key; must never be written


@pytest.fixture
def upstream_dir(tmp_path: Path) -> Path:
    target = tmp_path / "upstream"
    shutil.copytree(ROOT / "data" / "recordings", target)
    return target


def _assert_no_credentials(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert UPSTREAM_KEY not in text, f"{path} holds the upstream key"
            assert DEMO_KEY not in text, f"{path} holds the proxy's key"
            lowered = text.lower()
            for word in ("authorization", "api-key", "bearer"):
                assert word not in lowered, f"{path} mentions {word!r}"


def test_record_then_replay_round_trip_through_every_client(tmp_path, upstream_dir):
    recorded = tmp_path / "recorded"
    with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir) as upstream:
        proxy_settings = MockSettings(upstreams={DEPLOYMENT: (upstream.endpoint(DEPLOYMENT), UPSTREAM_KEY)}, recordings_dir=recorded)
        with MockServer(proxy_settings) as proxy:
            assert proxy.settings.key == DEMO_KEY  # clients talk to the proxy with the demo key
            results = client_matrix(local_settings(proxy.endpoint(DEPLOYMENT), DEMO_KEY))
            # The proxy answers like the live endpoint; replay headers are not passed through.
            assert_documented_answers(results, None)
            info = requests.get(proxy.endpoint(DEPLOYMENT) + "/info", headers={"api-key": DEMO_KEY}, timeout=5)
            assert info.status_code == 200 and info.json()["model_name"] == DEPLOYMENT

    files = sorted((recorded / DEPLOYMENT).glob("*.json"))
    # Every client's plain request is the same request, and so is every streamed one: two recordings.
    assert len(files) == 2, [f.name for f in files]
    assert {"stream" in f.name for f in files} == {True, False}
    for path in files:
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw["provenance"]["source"] == "recorded-live"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw["provenance"]["recorded_at"]), "a live recording says when"
        assert set(raw["request"]) == {"body"}, "only the request body is written, never headers"
        assert "headers" not in raw["response"]
        rec = load_recording(path, DEPLOYMENT)
        if rec.stream is not None:
            assert rec.stream[-1]["data"] == "[DONE]"
            assert all(isinstance(e["delay_ms"], (int, float)) for e in rec.stream)
    _assert_no_credentials(recorded)

    with MockServer(recordings_dir=recorded) as replay:
        results = client_matrix(local_settings(replay.endpoint(DEPLOYMENT), replay.settings.key))
    names = {("stream" in f.stem): f"{DEPLOYMENT}/{f.stem}" for f in files}
    assert_documented_answers(results, {"plain": names[False], "stream": names[True]})


def test_record_mode_keeps_transient_errors_out_of_recordings(tmp_path, upstream_dir):
    """429s are passed on (with Retry-After) but not written; a broken live stream is not written either."""
    recorded = tmp_path / "recorded"
    headers = {"Authorization": f"Bearer {DEMO_KEY}"}
    body = {"messages": MESSAGES}
    with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir, rpm=1) as upstream:
        upstreams = {DEPLOYMENT: (upstream.endpoint(DEPLOYMENT), UPSTREAM_KEY)}
        with MockServer(MockSettings(upstreams=upstreams, recordings_dir=recorded)) as proxy:
            url = proxy.endpoint(DEPLOYMENT) + "/chat/completions"
            assert requests.post(url, headers=headers, json=body, timeout=5).status_code == 200
            limited = requests.post(url, headers=headers, json=body, timeout=5)
            assert limited.status_code == 429
            assert limited.headers.get("retry-after"), "Retry-After from the live endpoint must reach the client"
            [kept] = (recorded / DEPLOYMENT).glob("*.json")  # the same request: a recorded 429 would have replaced it
            assert json.loads(kept.read_text(encoding="utf-8"))["response"]["status"] == 200, "the 429 was recorded"

            # Now a live endpoint whose stream breaks off after 3 chunks.
            with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir, cut_stream_after=3) as cutting:
                proxy.replay.recorder.upstreams[DEPLOYMENT] = (cutting.endpoint(DEPLOYMENT), UPSTREAM_KEY)
                with pytest.raises(requests.exceptions.ChunkedEncodingError):
                    with requests.post(url, headers=headers, json={**body, "stream": True, **STREAM_PARAMS}, stream=True, timeout=5) as r:
                        assert r.status_code == 200
                        list(r.iter_lines())
            assert len(list((recorded / DEPLOYMENT).glob("*.json"))) == 1, "a broken stream was recorded"
            _assert_no_credentials(recorded)


def test_record_mode_answers_502_json_when_the_live_endpoint_is_unreachable(tmp_path):
    from helpers.mock.server import free_port

    dead = f"http://127.0.0.1:{free_port()}/{DEPLOYMENT}"  # nothing listens there
    with MockServer(MockSettings(upstreams={DEPLOYMENT: (dead, UPSTREAM_KEY)}, recordings_dir=tmp_path)) as proxy:
        headers = {"api-key": DEMO_KEY}
        for body in ({"messages": MESSAGES}, {"messages": MESSAGES, "stream": True}):
            r = requests.post(proxy.endpoint(DEPLOYMENT) + "/chat/completions", headers=headers, json=body, timeout=15)
            assert r.status_code == 502
            assert r.json()["error"]["code"] == "UpstreamUnreachable"
            assert UPSTREAM_KEY not in r.text
        assert requests.get(proxy.endpoint(DEPLOYMENT) + "/info", headers=headers, timeout=15).status_code == 502
    assert not list(tmp_path.rglob("*.json"))


def test_record_mode_needs_the_proxy_key(tmp_path, upstream_dir):
    with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir) as upstream:
        upstreams = {DEPLOYMENT: (upstream.endpoint(DEPLOYMENT), UPSTREAM_KEY)}
        with MockServer(MockSettings(upstreams=upstreams, recordings_dir=tmp_path / "rec")) as proxy:
            url = proxy.endpoint(DEPLOYMENT) + "/chat/completions"
            # The live key does not open the proxy: clients never need (or see) it.
            assert requests.post(url, headers={"api-key": UPSTREAM_KEY}, json={"messages": MESSAGES}, timeout=5).status_code == 401
    assert not (tmp_path / "rec").exists() or not list((tmp_path / "rec").rglob("*.json"))


def test_record_mode_sends_the_live_deployment_name_and_keeps_a_404_out_of_recordings(tmp_path, upstream_dir):
    """The managed endpoint gets the live deployment's name, not the replay server's; its 404 (a name it does not
    have) reaches the client but says nothing about the model, so nothing is written."""
    managed = "Llama-3.2-3B-Instruct-managed"
    recorded = tmp_path / "recorded"
    with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir) as upstream:
        settings = MockSettings(upstreams={managed: (upstream.endpoint(managed), UPSTREAM_KEY)},
                                upstream_deployments={managed: "live-deployment-7"}, recordings_dir=recorded)
        with MockServer(settings) as proxy:
            offline_name = proxy.replay.deployments[managed].azureml_deployment
            reply = requests.post(proxy.endpoint(managed) + "/chat/completions", json={"messages": MESSAGES}, timeout=5,
                                  headers={"api-key": DEMO_KEY, "azureml-model-deployment": offline_name})
    assert reply.status_code == 404
    assert "live-deployment-7" in reply.json()["error"]["message"], "the upstream saw the live deployment's name"
    assert not list(recorded.rglob("*.json")), "a 404 was recorded"


# -- malformed requests, answers the service would never send, and extra parameters ---------------

def test_recording_filename_takes_any_body():
    from helpers.mock.proxy import recording_filename

    for body in ({}, {"messages": {"a": 1}}, {"messages": 5}, {"messages": []}, {"messages": ["hi"]},
                 {"messages": [{"role": "user", "content": 5}]}, {"messages": [{"role": "user", "content": [{"type": "text", "text": None}]}]}):
        assert re.fullmatch(r"request-json-[0-9a-f]{8}\.json", recording_filename(body)), body
    mixed = [{"type": "text", "text": "Hello, world"}, {"type": "text", "text": None}, "stray", {"type": "image_url"}]
    assert recording_filename({"messages": [{"role": "user", "content": mixed}], "stream": True}).startswith("hello-world-stream-")


def test_record_mode_passes_on_the_live_answer_to_malformed_requests_never_a_500(tmp_path, upstream_dir):
    bodies = [{"messages": {"a": 1}}, {"messages": 5}, {"messages": [{"role": "user", "content": [{"type": "text", "text": None}]}]}]
    with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir) as upstream:
        upstreams = {DEPLOYMENT: (upstream.endpoint(DEPLOYMENT), UPSTREAM_KEY)}
        with MockServer(MockSettings(upstreams=upstreams, recordings_dir=tmp_path / "rec")) as proxy:
            for body in bodies:
                r = requests.post(proxy.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers={"api-key": DEMO_KEY}, timeout=10)
                assert r.status_code == 422 and r.json()["code"] == "invalid_value", (body, r.status_code, r.text[:300])
    _assert_no_credentials(tmp_path / "rec")


def test_record_mode_writes_what_replay_matches_with_extra_parameters_drop(tmp_path, upstream_dir):
    """Under ``drop`` the service ignores ``best_of``, and so does matching: the recording must not hold it."""
    recorded = tmp_path / "recorded"
    drop = {"api-key": DEMO_KEY, "extra-parameters": "drop"}
    body = {"messages": MESSAGES, "best_of": 3}
    with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir) as upstream:
        upstreams = {DEPLOYMENT: (upstream.endpoint(DEPLOYMENT), UPSTREAM_KEY)}
        with MockServer(MockSettings(upstreams=upstreams, recordings_dir=recorded)) as proxy:
            assert requests.post(proxy.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers=drop, timeout=10).status_code == 200
    [path] = (recorded / DEPLOYMENT).glob("*.json")
    assert json.loads(path.read_text(encoding="utf-8"))["request"]["body"] == {"messages": MESSAGES}
    with MockServer(recordings_dir=recorded) as replay:
        r = requests.post(replay.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers=drop, timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["x-replay-recording"] == f"{DEPLOYMENT}/{path.stem}"


CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": DEPLOYMENT,
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}]}


def _sse(*payloads: str) -> bytes:
    return "".join(f"data: {p}\n\n" for p in payloads).encode()


# What a fake live endpoint answers, by test case: (status, content type, body).
FAKE_ANSWERS = {
    "html-200": (200, "text/html", b"<html><body>Sign in to continue</body></html>"),
    "html-503": (503, "text/html", b"<html><body>Service Unavailable</body></html>"),
    "stream-without-done": (200, "text/event-stream", _sse(json.dumps(CHUNK))),
    "stream-with-a-malformed-line": (200, "text/event-stream", _sse(json.dumps(CHUNK), "{not json", "[DONE]")),
    "stream-whole": (200, "text/event-stream", _sse(json.dumps(CHUNK), "[DONE]")),
    # Answers that echo the request's api-key header (where {key} stands), as a misbehaving gateway might.
    "json-200-echoing-the-key": (200, "application/json", json.dumps(
        {**CHUNK, "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                                                            "message": {"role": "assistant", "content": "key {key}"}}]}).encode()),
    "html-503-echoing-the-key": (503, "text/html", b"<html><body>Upstream rejected api-key {key}</body></html>"),
    "json-500": (500, "application/json", json.dumps({"error": {"code": "InternalServerError", "message": "oops"}}).encode()),
    "json-401": (401, "application/json", json.dumps({"error": {"code": "Unauthorized", "message": "bad key"}}).encode()),
}


@pytest.fixture
def fake_live_proxy(tmp_path):
    """A recording proxy whose live endpoint answers ``FAKE_ANSWERS[case]``, the case named in the request's last message."""
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        case = json.loads(request.content)["messages"][-1]["content"]
        status, ctype, content = FAKE_ANSWERS[case]
        content = content.replace(b"{key}", request.headers.get("api-key", "").encode())
        return httpx.Response(status, headers={"content-type": ctype}, content=content)

    settings = MockSettings(upstreams={DEPLOYMENT: (f"http://live.invalid/{DEPLOYMENT}", UPSTREAM_KEY)}, recordings_dir=tmp_path / "rec")
    proxy = MockServer(settings)
    proxy.replay.recorder.client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    with proxy:
        yield proxy


def _ask(proxy, case: str, stream: bool) -> requests.Response:
    body = {"messages": [{"role": "user", "content": case}], "stream": stream}
    return requests.post(proxy.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers={"api-key": DEMO_KEY}, timeout=10)


def _written(proxy) -> list[str]:
    return sorted(p.name for p in proxy.settings.recordings_dir.rglob("*.json"))


@pytest.mark.parametrize("stream", [False, True])
def test_record_mode_passes_on_a_non_json_answer_as_a_json_error_and_writes_nothing(fake_live_proxy, stream):
    ok = _ask(fake_live_proxy, "html-200", stream)
    assert ok.status_code == 502, "a 200 that is not JSON is a broken upstream, not an answer"
    assert ok.headers["content-type"] == "application/json" and ok.json()["error"]["code"] == "NonJsonAnswer"
    assert "Sign in to continue" in ok.json()["error"]["message"]
    failed = _ask(fake_live_proxy, "html-503", stream)
    assert failed.status_code == 503 and failed.json()["error"]["code"] == "NonJsonAnswer"
    assert _written(fake_live_proxy) == []


def test_record_mode_relays_incomplete_or_malformed_streams_but_writes_only_whole_ones(fake_live_proxy):
    without_done = _ask(fake_live_proxy, "stream-without-done", stream=True)
    assert without_done.status_code == 200 and without_done.text == _sse(json.dumps(CHUNK)).decode()
    malformed = _ask(fake_live_proxy, "stream-with-a-malformed-line", stream=True)  # relayed whole, as it came
    assert malformed.status_code == 200 and malformed.text.endswith("data: {not json\n\ndata: [DONE]\n\n")
    assert _written(fake_live_proxy) == []
    whole = _ask(fake_live_proxy, "stream-whole", stream=True)
    assert whole.status_code == 200 and whole.text.endswith("data: [DONE]\n\n")
    [name] = _written(fake_live_proxy)  # the same proxy writes a whole stream: the cases above were refused, not lost
    assert name.startswith("stream-whole-stream-")


def test_record_mode_scrubs_the_live_key_from_what_it_writes_and_from_error_previews(fake_live_proxy):
    echoed = _ask(fake_live_proxy, "json-200-echoing-the-key", stream=False)
    assert echoed.status_code == 200
    [name] = _written(fake_live_proxy)
    text = (fake_live_proxy.settings.recordings_dir / DEPLOYMENT / name).read_text(encoding="utf-8")
    assert UPSTREAM_KEY not in text and "key <redacted>" in text
    failed = _ask(fake_live_proxy, "html-503-echoing-the-key", stream=False)
    assert failed.status_code == 503 and "api-key <redacted>" in failed.json()["error"]["message"]
    assert UPSTREAM_KEY not in failed.text


@pytest.mark.parametrize("case", ["json-500", "json-401"])
def test_record_mode_passes_on_json_5xx_and_401_answers_but_writes_nothing(fake_live_proxy, case):
    answer = _ask(fake_live_proxy, case, stream=False)
    assert answer.status_code == FAKE_ANSWERS[case][0] and answer.json()["error"]["code"] in ("InternalServerError", "Unauthorized")
    assert _written(fake_live_proxy) == []
