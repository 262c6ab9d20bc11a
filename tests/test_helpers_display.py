"""helpers.show_usage / usage_of on every shape a library hands back (the live ones are covered in
test_helpers_clients.py; these are the edge cases), and service_error on hand-made error responses."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
import pytest

import helpers
from helpers.auth import ENTRA_SCOPE, StandInEntraCredential
from helpers.mock import STAND_IN_ENTRA_TOKEN


@pytest.mark.parametrize(
    "obj, usage",
    [
        ({"usage": {"prompt_tokens": 19, "completion_tokens": 72, "total_tokens": 91}}, (19, 72, 91)),  # raw JSON
        ({"prompt_tokens": 1, "completion_tokens": 2}, (1, 2, 3)),  # no total: the sum
        (
            SimpleNamespace(usage=SimpleNamespace(prompt_tokens=5, completion_tokens=6, total_tokens=11)),
            (5, 6, 11),
        ),  # SDK objects
        (
            SimpleNamespace(usage_metadata={"input_tokens": 4, "output_tokens": 2, "total_tokens": 6}),
            (4, 2, 6),
        ),  # LangChain
        ({"input_tokens": 4, "output_tokens": 2}, (4, 2, 6)),  # LangChain's usage_metadata itself
    ],
)
def test_usage_of_each_shape(obj, usage, capsys):
    assert helpers.show_usage(obj) == helpers.Usage(*usage)
    assert capsys.readouterr().out == f"Usage: {usage[0]} prompt + {usage[1]} completion = {usage[2]} tokens\n"


@pytest.mark.parametrize("obj", [None, {}, {"usage": None}, SimpleNamespace(usage=None, choices=[])])
def test_usage_not_reported(obj, capsys):
    assert helpers.show_usage(obj) is None
    assert capsys.readouterr().out == "Usage: not reported\n"


def _http_error(status: int, **response: object) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "https://example.invalid/chat/completions")
    return httpx.HTTPStatusError("error", request=request, response=httpx.Response(status, request=request, **response))


def test_service_error_on_a_detail_only_body():
    err = helpers.service_error(_http_error(422, json={"detail": {"loc": ["body", "temperature"], "input": 3}}))
    assert (err.kind, err.status, err.code) == ("invalid_value", 422, None)
    assert '"temperature"' in err.message


def test_service_error_on_a_plain_text_body():
    err = helpers.service_error(_http_error(503, text="upstream unavailable"))
    assert (err.kind, err.status, err.message) == ("server_error", 503, "upstream unavailable")


def test_service_error_retry_after_as_http_date():
    err = helpers.service_error(
        _http_error(
            429,
            json={"error": {"code": "429", "message": "slow down"}},
            headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
        )
    )
    assert (err.kind, err.retry_after, err.message) == ("rate_limited", 0.0, "slow down")


def test_stand_in_credential_works_as_an_async_credential_too():
    async def run() -> str:
        async with StandInEntraCredential() as credential:
            token = credential.get_token(ENTRA_SCOPE).token
            await credential.close()
            return token

    assert asyncio.run(run()) == STAND_IN_ENTRA_TOKEN
