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
        proxy_settings = MockSettings(
            upstreams={DEPLOYMENT: (upstream.endpoint(DEPLOYMENT), UPSTREAM_KEY)}, recordings_dir=recorded
        )
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
                    with requests.post(
                        url, headers=headers, json={**body, "stream": True, **STREAM_PARAMS}, stream=True, timeout=5
                    ) as r:
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
            assert (
                requests.post(
                    url, headers={"api-key": UPSTREAM_KEY}, json={"messages": MESSAGES}, timeout=5
                ).status_code
                == 401
            )
    assert not (tmp_path / "rec").exists() or not list((tmp_path / "rec").rglob("*.json"))


def test_record_mode_sends_the_live_deployment_name_and_keeps_a_404_out_of_recordings(tmp_path, upstream_dir):
    """The managed endpoint gets the live deployment's name, not the replay server's; its 404 (a name it does not
    have) reaches the client but says nothing about the model, so nothing is written."""
    managed = "Llama-3.2-3B-Instruct-managed"
    recorded = tmp_path / "recorded"
    with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir) as upstream:
        settings = MockSettings(
            upstreams={managed: (upstream.endpoint(managed), UPSTREAM_KEY)},
            upstream_deployments={managed: "live-deployment-7"},
            recordings_dir=recorded,
        )
        with MockServer(settings) as proxy:
            offline_name = proxy.replay.deployments[managed].azureml_deployment
            reply = requests.post(
                proxy.endpoint(managed) + "/chat/completions",
                json={"messages": MESSAGES},
                timeout=5,
                headers={"api-key": DEMO_KEY, "azureml-model-deployment": offline_name},
            )
    assert reply.status_code == 404
    assert "live-deployment-7" in reply.json()["error"]["message"], "the upstream saw the live deployment's name"
    assert not list(recorded.rglob("*.json")), "a 404 was recorded"


# -- malformed requests, answers the service would never send, and extra parameters ---------------


def test_recording_filename_takes_any_body():
    from helpers.mock.proxy import recording_filename

    for body in (
        {},
        {"messages": {"a": 1}},
        {"messages": 5},
        {"messages": []},
        {"messages": ["hi"]},
        {"messages": [{"role": "user", "content": 5}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": None}]}]},
    ):
        assert re.fullmatch(r"request-json-[0-9a-f]{8}\.json", recording_filename(body)), body
    mixed = [{"type": "text", "text": "Hello, world"}, {"type": "text", "text": None}, "stray", {"type": "image_url"}]
    assert recording_filename({"messages": [{"role": "user", "content": mixed}], "stream": True}).startswith(
        "hello-world-stream-"
    )


def test_record_mode_passes_on_the_live_answer_to_malformed_requests_never_a_500(tmp_path, upstream_dir):
    bodies = [
        {"messages": {"a": 1}},
        {"messages": 5},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": None}]}]},
    ]
    with MockServer(key=UPSTREAM_KEY, recordings_dir=upstream_dir) as upstream:
        upstreams = {DEPLOYMENT: (upstream.endpoint(DEPLOYMENT), UPSTREAM_KEY)}
        with MockServer(MockSettings(upstreams=upstreams, recordings_dir=tmp_path / "rec")) as proxy:
            for body in bodies:
                r = requests.post(
                    proxy.endpoint(DEPLOYMENT) + "/chat/completions",
                    json=body,
                    headers={"api-key": DEMO_KEY},
                    timeout=10,
                )
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
            assert (
                requests.post(
                    proxy.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers=drop, timeout=10
                ).status_code
                == 200
            )
    [path] = (recorded / DEPLOYMENT).glob("*.json")
    assert json.loads(path.read_text(encoding="utf-8"))["request"]["body"] == {"messages": MESSAGES}
    with MockServer(recordings_dir=recorded) as replay:
        r = requests.post(replay.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers=drop, timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["x-replay-recording"] == f"{DEPLOYMENT}/{path.stem}"


CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": DEPLOYMENT,
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}],
}


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
    "json-200-echoing-the-key": (
        200,
        "application/json",
        json.dumps(
            {
                **CHUNK,
                "object": "chat.completion",
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "key {key}"}}
                ],
            }
        ).encode(),
    ),
    "html-503-echoing-the-key": (503, "text/html", b"<html><body>Upstream rejected api-key {key}</body></html>"),
    "json-500": (
        500,
        "application/json",
        json.dumps({"error": {"code": "InternalServerError", "message": "oops"}}).encode(),
    ),
    "json-401": (
        401,
        "application/json",
        json.dumps({"error": {"code": "Unauthorized", "message": "bad key"}}).encode(),
    ),
}


@pytest.fixture
def fake_live_proxy(tmp_path):
    """A recording proxy whose live endpoint answers ``FAKE_ANSWERS[case]``, the case named in the request's last
    message."""
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        case = json.loads(request.content)["messages"][-1]["content"]
        status, ctype, content = FAKE_ANSWERS[case]
        content = content.replace(b"{key}", request.headers.get("api-key", "").encode())
        return httpx.Response(status, headers={"content-type": ctype}, content=content)

    settings = MockSettings(
        upstreams={DEPLOYMENT: (f"http://live.invalid/{DEPLOYMENT}", UPSTREAM_KEY)}, recordings_dir=tmp_path / "rec"
    )
    proxy = MockServer(settings)
    proxy.replay.recorder.client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    with proxy:
        yield proxy


def _ask(proxy, case: str, stream: bool) -> requests.Response:
    body = {"messages": [{"role": "user", "content": case}], "stream": stream}
    return requests.post(
        proxy.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers={"api-key": DEMO_KEY}, timeout=10
    )


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
    assert answer.status_code == FAKE_ANSWERS[case][0] and answer.json()["error"]["code"] in (
        "InternalServerError",
        "Unauthorized",
    )
    assert _written(fake_live_proxy) == []


# -- a live endpoint on loopback that echoes secrets back ---------------------------------------------


class _EchoingLive:
    """A fake live endpoint on 127.0.0.1 (http.server in a thread) that echoes its key, in every form a service
    or gateway might, and a cookie value, back in error bodies, headers and streamed chunks. It remembers the
    headers of each request it got. The key and cookie values are made up at run time: this file holds none."""

    def __init__(self) -> None:
        import secrets
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.key = secrets.token_hex(16)  # the shape of an Azure key: 32 hex characters
        self.client_cookie = secrets.token_hex(12)  # what the test's client sends the proxy in its Cookie header
        self.live_cookie = secrets.token_hex(12)  # what the live endpoint sets with Set-Cookie
        self.received: list[dict[str, str]] = []
        live = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                live.received.append({k.lower(): v for k, v in self.headers.items()})
                self._send(
                    200, "application/json", json.dumps({"model_name": DEPLOYMENT, "echo": live.key.upper()}).encode()
                )

            def do_POST(self) -> None:
                live.received.append({k.lower(): v for k, v in self.headers.items()})
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                case = body["messages"][-1]["content"]
                status, ctype, content = live.answer(case, self.headers.get("api-key", ""))
                self._send(status, ctype, content)

            def _send(self, status: int, ctype: str, content: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(content)))
                self.send_header("x-ms-error-code", f"KeyRejected-{self.headers.get('api-key', '')}")
                self.send_header("retry-after", self.headers.get("api-key", "").upper())
                self.send_header("set-cookie", f"session={live.live_cookie}; Path=/; HttpOnly")
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{DEPLOYMENT}"

    def forms(self) -> dict[str, str]:
        """Each form of a secret that must reach neither the client nor a file."""
        import base64
        from urllib.parse import quote

        key = self.key
        out = {
            "key": key,
            "KEY": key.upper(),
            "url-encoded :key": quote(f":{key}", safe=""),
            "cookie from the client": self.client_cookie,
            "cookie from Set-Cookie": self.live_cookie,
        }
        for name, raw in (("key", key), (":key", f":{key}"), ("key:", f"{key}:"), ("user:key", f"user:{key}")):
            out[f"base64 of {name}"] = base64.b64encode(raw.encode()).decode()
        return out

    def echoes(self, api_key: str) -> str:
        """Text holding every form of the key and both cookie values."""
        import base64
        from urllib.parse import quote

        return " ".join(
            [
                api_key,
                api_key.upper(),
                base64.b64encode(api_key.encode()).decode(),
                base64.b64encode(f":{api_key}".encode()).decode(),
                base64.b64encode(f"{api_key}:".encode()).decode(),
                base64.b64encode(f"user:{api_key}".encode()).decode(),
                quote(f":{api_key}", safe=""),
                f"cookie {self.client_cookie}",
                f"set-cookie {self.live_cookie}",
            ]
        )

    def answer(self, case: str, api_key: str) -> tuple[int, str, bytes]:
        echoed = self.echoes(api_key)
        chunk = {
            **CHUNK,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": echoed}, "finish_reason": None}],
        }
        if case == "error-400":  # a JSON error answer: recorded (it says something about the request)
            return (
                400,
                "application/json",
                json.dumps({"error": {"code": "BadRequest", "message": f"api-key {echoed}"}}).encode(),
            )
        if case == "error-401":  # passed on, not recorded
            return (
                401,
                "application/json",
                json.dumps({"error": {"code": "Unauthorized", "message": f"bad key {echoed}"}}).encode(),
            )
        if case == "html-503":
            return 503, "text/html", f"<html>upstream rejected {echoed}</html>".encode()
        if case == "answer":
            message = {"role": "assistant", "content": echoed}
            return (
                200,
                "application/json",
                json.dumps(
                    {
                        **CHUNK,
                        "object": "chat.completion",
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    }
                ).encode(),
            )
        if case == "escaped":  # the key JSON-escaped character by character: \u0061\u0062...
            escaped = "".join(f"\\u{ord(c):04x}" for c in api_key.upper())
            return (
                200,
                "application/json",
                (
                    '{"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", '
                    '"message": {"role": "assistant", "content": "' + escaped + '"}}]}'
                ).encode(),
            )
        if case == "stream":  # every chunk echoes; one of them JSON-escaped
            escaped = "".join(f"\\u{ord(c):04x}" for c in api_key)
            lines = [
                json.dumps(chunk),
                json.dumps({**CHUNK, "id": echoed}),
                '{"id": "' + escaped + '", "object": "chat.completion.chunk", "choices": []}',
                "[DONE]",
            ]
            return 200, "text/event-stream", _sse(*lines)
        if case == "stream-broken-line":  # not JSON: relayed as it came (but scrubbed), not recorded
            return 200, "text/event-stream", _sse(json.dumps(chunk), f"not json {echoed}", "[DONE]")
        return 200, "text/event-stream", _sse(json.dumps(CHUNK), "[DONE]")

    def __enter__(self) -> "_EchoingLive":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def echoing_live():
    with _EchoingLive() as live:
        yield live


def _leaks(text: str, live: _EchoingLive) -> list[str]:
    lowered = text.lower()
    return [name for name, form in live.forms().items() if form.lower() in lowered or form in text]


ECHO_CASES = ["error-400", "error-401", "html-503", "answer", "escaped", "stream", "stream-broken-line"]


def test_record_mode_gives_the_client_no_echoed_key_or_cookie_and_writes_none(tmp_path, echoing_live):
    """The live endpoint echoes its key (as is, in upper case, base64, URL-encoded, JSON-escaped) and cookie values
    in bodies, headers and streamed chunks: the client, which holds only the demo key, gets none of them, and no
    file written holds any."""
    live, recorded = echoing_live, tmp_path / "recorded"
    settings = MockSettings(upstreams={DEPLOYMENT: (live.url, live.key)}, recordings_dir=recorded)
    headers = {"api-key": DEMO_KEY, "cookie": f"sid={live.client_cookie}; theme=dark"}
    to_client: dict[str, list[str]] = {}
    with MockServer(settings) as proxy:
        url = proxy.endpoint(DEPLOYMENT) + "/chat/completions"
        for case in ECHO_CASES:
            body = {"messages": [{"role": "user", "content": case}], "stream": case.startswith("stream")}
            r = requests.post(url, json=body, headers=headers, timeout=10)
            seen = f"{r.status_code} {dict(r.headers)} {r.text}"
            to_client[case] = _leaks(seen, live) + ["Set-Cookie header"] * ("set-cookie" in r.headers)
            assert r.status_code == {"error-400": 400, "error-401": 401, "html-503": 503}.get(case, 200), case
        info = requests.get(proxy.endpoint(DEPLOYMENT) + "/info", headers=headers, timeout=10)
        assert info.status_code == 200
        to_client["info"] = _leaks(f"{dict(info.headers)} {info.text}", live) + ["Set-Cookie header"] * (
            "set-cookie" in info.headers
        )
    assert all(h.get("api-key") == live.key for h in live.received), "the live endpoint got its key"
    written = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()}
    assert len(written) == 4, sorted(written)  # error-400, answer, escaped, stream
    in_files = {name: _leaks(text, live) for name, text in written.items()}
    assert not any(to_client.values()) and not any(in_files.values()), (
        f"to the client: {to_client}; in files: {in_files}"
    )
    assert all("<redacted>" in text for text in written.values()), "the echoes were written, scrubbed"
    for text in written.values():
        json.loads(text)  # still valid JSON after scrubbing


def test_the_scrubber_catches_each_spelling_and_leaves_short_cookies_and_other_text_alone():
    import base64
    import secrets
    from urllib.parse import quote

    from helpers.mock.scrub import Scrubber, cookie_values, set_cookie_values

    key, cookie = secrets.token_hex(16), secrets.token_urlsafe(16)
    scrub = Scrubber(key, cookie_values(f"theme=dark; sid={cookie}"))
    for echo in (
        key,
        key.upper(),
        key[:5] + key[5:].upper(),
        quote(f"/{key}", safe=""),
        json.dumps(f'"{key}"'),
        base64.b64encode(key.encode()).decode(),
        base64.b64encode(f":{key}".encode()).decode(),
        base64.b64encode(f"{key}:".encode()).decode(),
        base64.urlsafe_b64encode(f"ab:{key}".encode()).decode(),
        cookie,
        cookie.upper(),
        base64.b64encode(cookie.encode()).decode(),
    ):
        cleaned = scrub.text(f"before {echo} after")
        assert key.lower() not in cleaned.lower() and cookie.lower() not in cleaned.lower(), echo
        assert "<redacted>" in cleaned and cleaned.startswith("before ") and cleaned.endswith(" after"), echo
    assert scrub.text("dark theme, 1 key") == "dark theme, 1 key", "a cookie value as short as 'dark' is left alone"
    assert scrub.json({key: [key.upper()], "n": 1}) == {"<redacted>": ["<redacted>"], "n": 1}
    assert set_cookie_values([f"session={cookie}; Path=/; HttpOnly", "a=b"]) == [cookie, "b"]
    assert scrub.with_cookies(["x" * 12]).text("x" * 12) == "<redacted>"
    assert Scrubber().text(key) == key


def test_record_mode_never_forwards_the_clients_deployment_header_unless_one_is_mapped(tmp_path, echoing_live):
    """The client names the replay server's deployment; the live endpoint has its own names (or routes by its traffic
    rules): without a mapped live name, no azureml-model-deployment header goes upstream."""
    live, managed = echoing_live, "Llama-3.2-3B-Instruct-managed"
    settings = MockSettings(
        upstreams={DEPLOYMENT: (live.url, live.key), managed: (live.url, live.key)}, recordings_dir=tmp_path
    )
    body = {"messages": [{"role": "user", "content": "plain"}], "stream": True}
    with MockServer(settings) as proxy:
        offline_name = proxy.replay.deployments[managed].azureml_deployment
        for name, sent in ((DEPLOYMENT, "some-deployment"), (managed, offline_name)):
            r = requests.post(
                proxy.endpoint(name) + "/chat/completions",
                json=body,
                timeout=10,
                headers={"api-key": DEMO_KEY, "azureml-model-deployment": sent},
            )
            assert r.status_code == 200, r.text[:300]
            assert "azureml-model-deployment" not in live.received[-1], (name, live.received[-1])


def test_record_mode_writes_a_stream_under_extra_parameters_drop_as_the_service_saw_it(tmp_path, echoing_live):
    """Streamed too: the written body leaves out what ``drop`` dropped, so that replaying the same request hits."""
    live, recorded = echoing_live, tmp_path / "recorded"
    drop = {"api-key": DEMO_KEY, "extra-parameters": "drop"}
    body = {"messages": [{"role": "user", "content": "plain"}], "stream": True, "best_of": 3}
    with MockServer(MockSettings(upstreams={DEPLOYMENT: (live.url, live.key)}, recordings_dir=recorded)) as proxy:
        r = requests.post(proxy.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers=drop, timeout=10)
        assert r.status_code == 200 and r.text.endswith("data: [DONE]\n\n")
    [path] = (recorded / DEPLOYMENT).glob("*.json")
    assert json.loads(path.read_text(encoding="utf-8"))["request"]["body"] == {
        "messages": body["messages"],
        "stream": True,
    }
    with MockServer(recordings_dir=recorded) as replay:
        r = requests.post(replay.endpoint(DEPLOYMENT) + "/chat/completions", json=body, headers=drop, timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["x-replay-recording"] == f"{DEPLOYMENT}/{path.stem}"
