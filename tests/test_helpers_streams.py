"""helpers.print_stream / aprint_stream: every path's stream, printed as it arrives, with usage when sent."""

from __future__ import annotations

import asyncio
import json

import pytest

import helpers
from helpers.streams import parse_sse_line
from tests.test_helpers_clients import (
    ASEND,
    MESSAGES,
    PASS_THROUGH,
    SEND,
    STREAM_PARAMS,
    documented_answer,
    key_settings,
)

USAGE = helpers.Usage(19, 72, 91)

# Each path's streamed request; LangChain turns max_tokens into max_completion_tokens, an extra
# parameter, so it needs the pass-through header. LiteLLM reports usage only when asked for it.
SYNC_STREAMS = {
    "azure-ai-inference": ("azure-ai-inference", {}),
    "openai": ("openai", {}),
    "langchain": ("langchain", {"headers": PASS_THROUGH}),
    "litellm": ("litellm", {"stream_options": {"include_usage": True}}),
    "requests": ("requests", {}),
    "httpx": ("httpx", {}),
}


@pytest.mark.parametrize("path", SYNC_STREAMS)
def test_print_stream_for_each_path(mock_server, path, capsys):
    name, extra = SYNC_STREAMS[path]
    stream = SEND[name](key_settings(mock_server), stream=True, **STREAM_PARAMS, **extra)
    result = helpers.print_stream(stream)
    assert result.text == documented_answer()
    assert result.usage == USAGE
    assert result.chunks >= 50  # the documented stream comes in many small pieces
    assert capsys.readouterr().out == documented_answer() + "\n"


def test_litellm_stream_without_usage_reports_none(mock_server, capsys):
    result = helpers.print_stream(SEND["litellm"](key_settings(mock_server), stream=True, **STREAM_PARAMS))
    assert result.text == documented_answer() and result.usage is None


@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "str"])
def test_print_stream_takes_requests_lines_as_bytes_or_str(mock_server, decode, capsys):
    import requests

    s = key_settings(mock_server)
    with requests.post(
        helpers.rest_url(s),
        headers=helpers.rest_headers(s),
        stream=True,
        timeout=10,
        json={"messages": MESSAGES, "stream": True, **STREAM_PARAMS},
    ) as r:
        lines = list(r.iter_lines(decode_unicode=decode))
    assert all(isinstance(line, str if decode else bytes) for line in lines)
    result = helpers.print_stream(lines)
    assert (result.text, result.usage) == (documented_answer(), USAGE)


ASYNC_STREAMS = {
    "azure-ai-inference aio": ("azure-ai-inference aio", {}),
    "openai async": ("openai async", {}),
    "langchain astream": ("langchain async", {"headers": PASS_THROUGH}),
    "litellm async": ("litellm async", {"stream_options": {"include_usage": True}}),
    "httpx async": ("httpx async", {}),
}


@pytest.mark.parametrize("path", ASYNC_STREAMS)
def test_aprint_stream_for_each_async_path(mock_server, path, capsys):
    name, extra = ASYNC_STREAMS[path]

    async def run() -> helpers.StreamResult:
        stream = await ASEND[name](key_settings(mock_server), stream=True, **STREAM_PARAMS, **extra)
        return await helpers.aprint_stream(stream)

    result = asyncio.run(run())
    assert (result.text, result.usage) == (documented_answer(), USAGE)
    assert capsys.readouterr().out == documented_answer() + "\n"


# -- behaviour on hand-made input ----------------------------------------------------------------------


def _event(text: str | None = None, usage: dict | None = None) -> str:
    chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text} if text else {}}]}
    if usage:
        chunk["usage"] = usage
    return "data: " + json.dumps(chunk)


def test_text_is_printed_as_it_arrives(capsys):
    def stream():
        yield _event("Hello")
        assert capsys.readouterr().out == "Hello"  # printed before the next chunk is even produced
        yield _event(", world")
        assert capsys.readouterr().out == ", world"

    assert helpers.print_stream(stream()).text == "Hello, world"


def test_raw_sse_blank_lines_comments_done_and_multi_line_chunks(capsys):
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    lines = [
        ": keep-alive",
        "",
        _event("a"),
        b"",
        _event("b").encode(),
        f"{_event('c')}\n\n{_event(usage=usage)}\n\n".encode(),
        "data: [DONE]",
    ]
    result = helpers.print_stream(lines)
    assert (result.text, result.usage, result.chunks) == ("abc", helpers.Usage(1, 2, 3), 4)
    assert capsys.readouterr().out == "abc\n"


def test_the_last_usage_block_of_a_stream_wins(capsys):
    """A stream may carry usage more than once (a running count, then the total): the last one is the answer's."""
    first = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    last = {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6}
    lines = [_event("a", usage=first), _event("b"), _event(usage=last), _event("c"), "data: [DONE]"]
    assert helpers.print_stream(lines).usage == helpers.Usage(1, 5, 6)

    async def chunks():
        for line in lines:
            yield line

    assert asyncio.run(helpers.aprint_stream(chunks())).usage == helpers.Usage(1, 5, 6)


def test_stream_without_usage_returns_none(capsys):
    assert helpers.print_stream([_event("x"), "data: [DONE]"]).usage is None


def test_langchain_chunks_with_list_content(capsys):
    from langchain_core.messages import AIMessageChunk

    chunks = [
        AIMessageChunk(content=[{"type": "text", "text": "Hi"}, {"type": "text", "text": "!"}]),
        AIMessageChunk(content="", usage_metadata={"input_tokens": 4, "output_tokens": 2, "total_tokens": 6}),
    ]
    result = helpers.print_stream(chunks)
    assert (result.text, result.usage) == ("Hi!", helpers.Usage(4, 2, 6))


def test_parse_sse_line():
    assert parse_sse_line(b'data: {"a": 1}') == {"a": 1}
    assert parse_sse_line('data:{"a": 1}') == {"a": 1}
    assert parse_sse_line("data: [DONE]") is None
    assert parse_sse_line("") is None
    assert parse_sse_line("event: ping") is None


def test_sync_and_async_mixups_say_what_to_use(capsys):
    async def agen():
        yield _event("x")

    with pytest.raises(TypeError, match="aprint_stream"):
        helpers.print_stream(agen())
    with pytest.raises(TypeError, match="print_stream"):
        asyncio.run(helpers.aprint_stream([_event("x")]))


def test_a_complete_answer_or_an_error_is_refused_not_printed_as_an_empty_stream():
    import pytest

    from helpers.streams import print_stream

    complete = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}]}
    with pytest.raises(TypeError, match="stream=True"):
        print_stream(complete)
    with pytest.raises(TypeError, match="stream=True"):
        print_stream([complete])
    with pytest.raises(ValueError, match="error instead of a stream"):
        print_stream(['data: {"error": {"code": "429", "message": "slow down"}}'])
    with pytest.raises(ValueError, match="JSON instead of events"):
        print_stream([b'{"error": {"code": "content_filter"}}'])


def test_chunks_that_also_carry_a_message_or_a_null_error_are_still_a_stream(capsys):
    from helpers.streams import print_stream

    chunk = {
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "message": {"role": "assistant", "content": "Hi"}}],
        "error": None,
    }
    assert print_stream([chunk]).text == "Hi"
    with __import__("pytest").raises(TypeError, match='"stream": true'):
        print_stream(['{"choices": [{"message": {"role": "assistant", "content": "Hi"}}]}'])
