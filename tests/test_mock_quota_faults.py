"""Quota (requests and tokens per minute, per deployment), fault injection, latency, chunk timing, cut streams.

Each test runs its own ``MockServer`` with the setting under test and a short quota window. Timing
checks are rough on purpose (generous bounds, comparisons rather than exact values).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import requests

from helpers.mock import DEMO_KEY, MockServer, MockSettings

ROOT = Path(__file__).resolve().parents[1]
BIG = "Meta-Llama-3.1-405B-Instruct"
SMALL = "Meta-Llama-3.1-8B-Instruct"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "How many languages are in the world?"},
]
STREAM_BODY = {"messages": MESSAGES, "stream": True, "temperature": 0, "top_p": 1, "max_tokens": 2048}
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}


def chat(mock, body=None, deployment=BIG, **kwargs) -> requests.Response:
    return requests.post(
        mock.endpoint(deployment) + "/chat/completions",
        json=body or {"messages": MESSAGES},
        headers=AUTH,
        timeout=10,
        **kwargs,
    )


# -- quota -----------------------------------------------------------------------------------------


class FakeClock:
    """Stands in for time.monotonic in the server's quota, so window tests never sleep or race."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute_per_deployment_with_retry_after():
    with MockServer(rpm=2, tpm=0, quota_window_seconds=60) as mock:
        clock = mock.replay.quota.clock = FakeClock()
        assert [chat(mock).status_code for _ in range(2)] == [200, 200]
        clock.now += 10
        limited = chat(mock)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/json"
        assert limited.json()["error"]["code"] == "429"
        assert "2 requests" in limited.json()["error"]["message"]
        assert limited.headers["Retry-After"] == "50"  # until the oldest request leaves the window
        assert limited.headers["retry-after-ms"] == "50000"  # the same wait, to the millisecond
        # The quota is per deployment: another deployment still has room (404: no recording, but admitted).
        assert chat(mock, deployment=SMALL).status_code == 404
        # /info is not a chat request and does not count.
        assert requests.get(mock.endpoint(BIG) + "/info", headers=AUTH, timeout=5).status_code == 200
        clock.now += 50  # the window slides past both requests
        assert chat(mock).status_code == 200


def test_quota_window_in_real_time():
    window = 0.5
    # The second request must get a 429 while the first is still in the window. Only if the two requests took longer
    # than the window (a machine busy enough to stall them) may it be admitted, and that proves nothing: try once
    # more on a fresh server, and fail rather than pass if the window never got to limit anything.
    for _ in range(2):
        with MockServer(rpm=1, tpm=0, quota_window_seconds=window) as mock:
            started = time.monotonic()
            assert chat(mock).status_code == 200
            limited = chat(mock)
            elapsed = time.monotonic() - started
            if limited.status_code == 429:
                assert limited.headers["Retry-After"] == "1"  # whole seconds, rounded up
                assert 1 <= int(limited.headers["retry-after-ms"]) <= 500  # the rest of the half-second window
                time.sleep(window + 0.1)
                assert chat(mock).status_code == 200  # the window has slid past the first request
                return
        assert limited.status_code == 200, limited.text
        assert elapsed >= window, (
            f"a second request {elapsed:.3f} s after the first was admitted inside a {window} s window"
        )
    pytest.fail(
        f"twice the two requests took longer than the {window} s window (last {elapsed:.3f} s): the quota was never "
        "tested"
    )


def test_requests_per_minute_without_retry_after():
    with MockServer(rpm=1, tpm=0, quota_window_seconds=60, retry_after=False) as mock:
        assert chat(mock).status_code == 200
        limited = chat(mock)
        assert limited.status_code == 429
        assert "retry-after" not in limited.headers and "retry-after-ms" not in limited.headers
        assert limited.json()["error"]["message"]


def test_tokens_per_minute():
    # The documented answer costs 91 tokens; 150 tokens per window admit two requests, then 429.
    with MockServer(rpm=0, tpm=150, quota_window_seconds=60) as mock:
        clock = mock.replay.quota.clock = FakeClock()
        assert chat(mock).status_code == 200
        assert chat(mock).status_code == 200
        limited = chat(mock)
        assert limited.status_code == 429 and "150 tokens" in limited.json()["error"]["message"]
        assert limited.headers["Retry-After"] == "60"
        # Unmatched requests cost no tokens, and another deployment has its own budget.
        assert [chat(mock, deployment=SMALL).status_code for _ in range(3)] == [404, 404, 404]
        clock.now += 60
        assert chat(mock).status_code == 200


def test_large_bodies_in_flight_together_cannot_overspend_the_token_quota():
    """A large body is checked and matched in a worker thread; admitting it and spending its tokens stay one step,
    so eight at once get exactly the two answers 150 tokens pay for (91 tokens each), never eight."""
    from concurrent.futures import ThreadPoolExecutor

    large = {"messages": MESSAGES, "padding": "x" * 20_000}  # over 16 KiB; dropped by the header, then it matches
    with MockServer(rpm=0, tpm=150, quota_window_seconds=60) as mock:
        mock.replay.quota.clock = FakeClock()
        with ThreadPoolExecutor(8) as pool:
            url, headers = mock.endpoint(BIG) + "/chat/completions", {**AUTH, "extra-parameters": "drop"}
            statuses = list(
                pool.map(lambda _: requests.post(url, json=large, headers=headers, timeout=10).status_code, range(8))
            )
    assert sorted(statuses) == [200, 200] + [429] * 6, statuses


def test_streamed_answers_count_their_tokens():
    with MockServer(rpm=0, tpm=100, quota_window_seconds=30) as mock:
        with chat(mock, STREAM_BODY, stream=True) as r:
            assert r.status_code == 200
            r.content
        assert chat(mock, STREAM_BODY).status_code == 200  # 91 < 100: admitted, then 182 spent
        assert chat(mock, STREAM_BODY).status_code == 429


def test_documented_quota_is_the_default():
    settings = MockSettings()
    assert (settings.rpm, settings.tpm, settings.quota_window_seconds, settings.retry_after) == (
        1000,
        200_000,
        60.0,
        True,
    )


# -- fault injection ---------------------------------------------------------------------------------


def _statuses(mock, n: int) -> list[int]:
    return [chat(mock).status_code for _ in range(n)]


def test_faults_at_a_rate_are_repeatable_with_a_seed():
    runs = []
    for _ in range(2):
        with MockServer(fault_rate=0.5, seed=7, rpm=0, tpm=0) as mock:
            runs.append(_statuses(mock, 30))
    assert runs[0] == runs[1], "the same seed must inject the same faults"
    statuses = runs[0]
    assert set(statuses) <= {200, 429, 500, 503}
    faults = [s for s in statuses if s != 200]
    assert 5 <= len(faults) <= 25  # about half
    assert len(set(faults)) >= 2
    with MockServer(fault_rate=0.5, seed=8, rpm=0, tpm=0) as mock:
        assert _statuses(mock, 30) != statuses


def test_injected_faults_are_json_and_honour_retry_after_setting():
    with MockServer(fault_rate=1.0, fault_statuses=(429, 500, 503), seed=1) as mock:
        seen = {}
        for _ in range(30):
            r = chat(mock)
            seen.setdefault(r.status_code, r)
        assert set(seen) == {429, 500, 503}
        assert (seen[429].headers["Retry-After"], seen[429].headers["retry-after-ms"]) == ("1", "1000")
        assert seen[500].json()["error"]["code"] == "InternalServerError"
        assert seen[503].json()["error"]["code"] == "ServiceUnavailable"
        assert all("Injected fault" in r.json()["error"]["message"] for r in seen.values())
    with MockServer(fault_rate=1.0, fault_statuses=(429,), retry_after=False) as mock:
        r = chat(mock)
        assert r.status_code == 429 and "retry-after" not in r.headers and "retry-after-ms" not in r.headers
    with MockServer(fault_rate=1.0, fault_statuses=(429,), fault_retry_after_seconds=0.1) as mock:
        r = chat(mock)
        assert (r.headers["Retry-After"], r.headers["retry-after-ms"]) == ("1", "100")


def test_fault_rate_zero_and_info_are_never_faulted():
    with MockServer(fault_rate=1.0, fault_statuses=(503,)) as mock:
        assert requests.get(mock.endpoint(BIG) + "/info", headers=AUTH, timeout=5).status_code == 200
    with MockServer(fault_rate=0.0, seed=1) as mock:
        assert set(_statuses(mock, 10)) == {200}


# -- latency and chunk timing ------------------------------------------------------------------------


def _timed(fn) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def test_added_latency():
    with MockServer(latency_ms=400) as mock:
        slow = _timed(lambda: chat(mock))
        slow_error = _timed(lambda: chat(mock, {"messages": []}))
    assert slow >= 0.35 and slow_error >= 0.35


def test_added_latency_ends_when_the_client_gives_up(caplog):
    """A client that timed out reads no answer: the server stops waiting for it (else stopping would wait too)."""
    caplog.set_level(logging.INFO, logger="helpers.mock")
    with MockServer(latency_ms=30_000) as mock:
        with pytest.raises(requests.Timeout):
            requests.post(
                mock.endpoint(BIG) + "/chat/completions", json={"messages": MESSAGES}, headers=AUTH, timeout=0.2
            )
        deadline = time.monotonic() + 10  # far less than the 30 s the answer would wait
        while "client gone during the added latency" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "client gone during the added latency" in caplog.text


@pytest.fixture
def timed_recordings(tmp_path: Path) -> Path:
    """A copy of the stream recording with 5 chunks 150 ms apart (the real one takes about 2 s)."""
    raw = json.loads(
        (ROOT / "data" / "recordings" / BIG / "how-many-languages-stream.json").read_text(encoding="utf-8")
    )
    events = raw["response"]["stream"]
    raw["response"]["stream"] = [dict(e, delay_ms=150.0) for e in events[:3]] + [
        dict(e, delay_ms=150.0) for e in events[-2:]
    ]
    folder = tmp_path / BIG
    folder.mkdir()
    (folder / "timed.json").write_text(json.dumps(raw), encoding="utf-8")
    return tmp_path


def _arrivals(mock) -> list[float]:
    started = time.monotonic()
    arrivals = []
    with chat(mock, STREAM_BODY, stream=True) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                arrivals.append(time.monotonic() - started)
    return arrivals


def test_replay_at_recorded_chunk_timing(timed_recordings):
    with MockServer(recordings_dir=timed_recordings, replay_timing=True) as mock:
        arrivals = _arrivals(mock)
    assert len(arrivals) == 5
    assert arrivals[-1] >= 0.6  # 5 gaps of 150 ms = 750 ms; rough lower bound
    assert arrivals[-1] - arrivals[0] >= 0.4  # spread out, not delivered in one go
    with MockServer(recordings_dir=timed_recordings) as mock:
        unpaced = _arrivals(mock)
    assert unpaced[-1] - unpaced[0] < 0.3  # without replay_timing, no waiting (the paced spread is 600 ms)


# -- cut streams -------------------------------------------------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_cut_stream_client_sees_an_incomplete_stream_and_server_keeps_serving(capfd):
    server = MockServer(cut_stream_after=3)  # configures uvicorn's loggers, so add the handler after this
    uvicorn_errors, ours = Records(), Records()
    logging.getLogger("uvicorn.error").addHandler(uvicorn_errors)  # sees what uvicorn would print
    mock_logger = logging.getLogger("helpers.mock")
    mock_logger.addHandler(ours)
    level, mock_logger.level = mock_logger.level, logging.INFO
    try:
        with server as mock:
            for _ in range(2):
                lines = []
                with pytest.raises(requests.exceptions.ChunkedEncodingError):
                    with chat(mock, STREAM_BODY, stream=True) as r:
                        assert r.status_code == 200
                        for line in r.iter_lines():
                            if line:
                                lines.append(line)
                assert len(lines) == 3
                assert b"[DONE]" not in b"".join(lines)
            assert chat(mock).status_code == 200  # unstreamed answers are not cut
    finally:
        logging.getLogger("uvicorn.error").removeHandler(uvicorn_errors)
        mock_logger.removeHandler(ours)
        mock_logger.setLevel(level)
    # An intended cut is not a crash: no "Exception in ASGI application" traceback, on any stream.
    assert not [r.getMessage() for r in uvicorn_errors.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in capfd.readouterr().err
    assert sum("stream cut after 3 chunks" in r.getMessage() for r in ours.records) == 2


def test_cut_stream_with_the_openai_sdk_raises():
    import httpx
    import openai

    with MockServer(cut_stream_after=5) as mock:
        client = openai.OpenAI(base_url=mock.endpoint(BIG) + "/v1", api_key=DEMO_KEY, max_retries=0)
        text = []
        with pytest.raises((httpx.HTTPError, openai.APIError)):
            for chunk in client.chat.completions.create(
                model=BIG, messages=MESSAGES, stream=True, temperature=0, top_p=1, max_tokens=2048
            ):
                if chunk.choices:
                    text.append(chunk.choices[0].delta.content or "")
        assert 0 < len(text) <= 5
        assert chat(mock).status_code == 200


def test_retry_after_is_whole_seconds_rounded_up_and_retry_after_ms_exact():
    from helpers.mock.error_bodies import rate_limited

    limited = rate_limited("slow down", 1.2)
    assert (limited.headers["retry-after"], limited.headers["retry-after-ms"]) == ("2", "1200")


def test_an_empty_key_setting_lets_no_request_in():
    with MockServer(key="") as mock:
        url = mock.endpoint("Meta-Llama-3.1-405B-Instruct") + "/chat/completions"
        body = {"messages": [{"role": "user", "content": "How many languages are in the world?"}]}
        for headers in ({}, {"api-key": ""}, {"Authorization": "Bearer "}):
            assert requests.post(url, json=body, headers=headers, timeout=5).status_code == 401, headers


def test_a_token_quota_spent_exactly_admits_nothing_more():
    # two documented answers of 91 tokens spend 182 of 182: the window is full, the third request waits
    with MockServer(rpm=0, tpm=182, quota_window_seconds=60) as mock:
        mock.replay.quota.clock = FakeClock()
        assert [chat(mock).status_code for _ in range(3)] == [200, 200, 429]
