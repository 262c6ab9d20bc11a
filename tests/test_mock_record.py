"""Record mode, end to end, without the internet.

A local replay server with its own key and a copy of ``data/recordings`` plays the live endpoint
("upstream"); a second server in record mode proxies to it. Every client path sends its requests,
plain and streamed, through the proxy. The recordings written must say ``recorded-live`` and hold no
credential; a fresh replay server on them must then give every client the same answers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests

from helpers.mock import DEMO_KEY, MockServer, MockSettings
from helpers.mock.recordings import PROVENANCES, load_recording
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
        assert raw["provenance"]["source"] in PROVENANCES
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
            assert len(list((recorded / DEPLOYMENT).glob("*.json"))) == 1, "the 429 was recorded"

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
