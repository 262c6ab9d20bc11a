"""The replay server's connections: a request head that never completes is cut off, and load beyond the open-file
limit gets a JSON 503 with Retry-After instead of a dropped connection. Bounds are set small here (1 s, 2
connections) so that every test takes a second or two."""

from __future__ import annotations

import resource
import socket
import time

import pytest
import requests

from helpers.mock import MockServer, MockSettings
from helpers.mock.__main__ import build_parser, settings_from_args

DEPLOYMENT = "Meta-Llama-3.1-405B-Instruct"
HEAD = f"GET /{DEPLOYMENT}/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {'a' * 200}\r\n\r\n".encode()


def _closed_within(sock: socket.socket, seconds: float, dribble: bytes = b"") -> float | None:
    """Send ``dribble`` a byte every 0.1 s until the server closes the connection: how long that took, or None."""
    start = time.monotonic()
    sock.settimeout(0.1)
    for i in range(int(seconds * 10)):
        try:
            if i < len(dribble):
                sock.sendall(dribble[i : i + 1])
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except OSError:  # reset: closed too
            return time.monotonic() - start
    return None


def test_a_head_sent_byte_by_byte_is_cut_off_while_other_requests_are_answered():
    with MockServer(head_timeout_seconds=1.0) as mock:
        dribbling = socket.create_connection(("127.0.0.1", mock.port))
        silent = socket.create_connection(("127.0.0.1", mock.port))  # connected, never sends a byte
        try:
            dribbling.sendall(HEAD[:10])
            # Meanwhile, a normal request is answered at once.
            ok = requests.get(mock.endpoint(DEPLOYMENT) + "/info", headers={"api-key": mock.settings.key}, timeout=2)
            assert ok.status_code == 200
            took = _closed_within(dribbling, 3.0, HEAD[10:])
            assert took is not None and took < 2.0, f"a head dribbled for {took} s was not cut off"
            assert _closed_within(silent, 1.0) is not None, "a connection that never sent a head was not closed"
        finally:
            dribbling.close()
            silent.close()


def test_the_head_timeout_does_not_cut_a_keep_alive_connection_that_sends_whole_requests():
    with MockServer(head_timeout_seconds=1.0) as mock, requests.Session() as session:
        headers = {"api-key": mock.settings.key}
        for _ in range(3):  # the same connection, a request every 0.6 s: 1.8 s in all, each head on time
            assert session.get(mock.endpoint(DEPLOYMENT) + "/info", headers=headers, timeout=2).status_code == 200
            time.sleep(0.6)


def test_the_head_timeout_is_15_seconds_by_default_and_set_by_serve():
    assert MockSettings().head_timeout_seconds == 15.0  # the bound: cut off within 40 s
    args = build_parser().parse_args(["serve", "--head-timeout", "2.5"])
    assert settings_from_args(args).head_timeout_seconds == 2.5
    with pytest.raises(ValueError, match="head_timeout_seconds"):
        MockSettings(head_timeout_seconds=0)


def test_load_past_the_connection_limit_gets_a_json_503_with_retry_after():
    with MockServer(max_connections=2) as mock:
        held = [socket.create_connection(("127.0.0.1", mock.port)) for _ in range(2)]
        try:
            time.sleep(0.1)  # let the server accept them
            refused = requests.get(
                mock.endpoint(DEPLOYMENT) + "/info", headers={"api-key": mock.settings.key}, timeout=2
            )
            assert refused.status_code == 503
            assert refused.headers["content-type"] == "application/json"
            assert int(refused.headers["retry-after"]) >= 1
            error = refused.json()["error"]
            assert error["code"] == "ServiceUnavailable" and "connections" in error["message"]
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.1)
        assert (
            requests.get(
                mock.endpoint(DEPLOYMENT) + "/info", headers={"api-key": mock.settings.key}, timeout=2
            ).status_code
            == 200
        )


def test_the_default_connection_limit_leaves_headroom_below_the_open_file_limit():
    from helpers.mock.connections import connection_limit

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = connection_limit(None)
    assert 1 <= limit and (soft == resource.RLIM_INFINITY or limit <= soft - 32), (limit, soft)
    assert connection_limit(7) == 7
    args = build_parser().parse_args(["serve", "--max-connections", "50"])
    assert settings_from_args(args).max_connections == 50
