"""``print_stream``: print a streamed chat completion as it arrives, from any of the five paths.

It accepts what each library yields:

- azure-ai-inference ``StreamingChatCompletionsUpdate``, openai ``ChatCompletionChunk`` and
  LiteLLM ``ModelResponseStream``: objects with ``choices[0].delta.content`` and maybe ``usage``
- LangChain ``AIMessageChunk``: ``content`` and ``usage_metadata``
- raw server-sent-event lines from ``requests.iter_lines()`` (bytes, or str with ``decode_unicode=True``)
  or ``httpx``'s ``iter_lines()``: ``data: {json}``, blank lines, and ``data: [DONE]``. A chunk holding
  several whole lines is fine too; a chunk cut in the middle of a line is not, so use ``iter_lines()``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, AsyncIterable, Iterable

from .display import LOCAL_STAND_IN_NOTE, Usage, is_local_stand_in, usage_of


@dataclass
class StreamResult:
    """The whole answer, its token usage (if the stream carried it) and how many chunks arrived."""

    text: str
    usage: Usage | None = None
    chunks: int = 0


def parse_sse_line(line: str | bytes) -> dict[str, Any] | None:
    """One SSE line to its JSON payload; ``None`` for blank lines, comments and ``[DONE]``."""
    if isinstance(line, bytes):
        line = line.decode("utf-8")
    line = line.strip()
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    return None if payload == "[DONE]" else json.loads(payload)


def _text_and_usage(item: Any) -> tuple[str, Usage | None]:
    """The text delta and usage in one streamed object (SDK chunk, LangChain chunk or parsed JSON)."""
    if isinstance(item, dict):  # raw JSON chunk
        choices = item.get("choices") or [{}]
        delta = choices[0].get("delta") or {}
        return delta.get("content") or "", usage_of(item.get("usage"))
    if hasattr(item, "usage_metadata"):  # LangChain message chunk
        content = (
            item.content
            if isinstance(item.content, str)
            else "".join(part.get("text", "") for part in item.content if isinstance(part, dict))
        )
        return content, usage_of(item.usage_metadata)
    choices = getattr(item, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    return getattr(delta, "content", None) or "", usage_of(getattr(item, "usage", None))


def _items(item: Any) -> list[Any]:
    """Raw SSE text becomes its JSON payloads (none for blank lines and ``[DONE]``); anything else stays."""
    if not isinstance(item, (str, bytes)):
        return [item]
    text = item.decode("utf-8") if isinstance(item, bytes) else item
    return [payload for line in text.splitlines() if (payload := parse_sse_line(line)) is not None]


COMPLETE_ANSWER = (
    "this is a complete answer, not a stream: pass stream=True (LangChain: call .stream(...) instead of .invoke(...))"
)


def _not_a_stream(item: Any) -> str | None:
    """Why ``item`` cannot be part of a stream: a complete answer (``stream=True`` forgotten), or an error body.
    A chunk has a ``delta``; a complete answer has a ``message`` and no ``delta`` (some servers send both in chunks)."""
    if isinstance(item, dict) and item.get("error"):
        return f"the service answered with an error instead of a stream: {json.dumps(item['error'])[:300]}"
    choices = item.get("choices") if isinstance(item, dict) else getattr(item, "choices", None)
    first = choices[0] if isinstance(choices, list) and choices else None
    field = first.get if isinstance(first, dict) else (lambda name: getattr(first, name, None))
    if (first is not None and field("message") is not None and field("delta") is None) or type(
        item
    ).__name__ == "AIMessage":
        return COMPLETE_ANSWER
    return None


def _consume(item: Any, parts: list[str], result: StreamResult) -> None:
    if isinstance(item, (str, bytes)) and (
        text := item.decode("utf-8") if isinstance(item, bytes) else item
    ).lstrip().startswith("{"):
        if '"choices"' in text:  # a whole answer read line by line: "stream": true was left out of the body
            raise TypeError(COMPLETE_ANSWER.replace("pass stream=True", 'put "stream": true in the body'))
        raise ValueError(
            f"the service answered with JSON instead of events (an error? check the status first): {text[:300]}"
        )
    for chunk in _items(item):
        if (problem := _not_a_stream(chunk)) is not None:
            raise TypeError(problem) if problem == COMPLETE_ANSWER else ValueError(problem)
        text, usage = _text_and_usage(chunk)
        if result.chunks == 0 and is_local_stand_in(chunk):  # make lab: no recording matched; say so before the text
            print(f"[{LOCAL_STAND_IN_NOTE}]")
        result.chunks += 1
        if text:
            parts.append(text)
            print(text, end="", flush=True)
        if usage is not None:
            result.usage = usage


def print_stream(stream: Iterable[Any]) -> StreamResult:
    """Print text as it arrives; return the full text, the usage (if the stream sent it) and the chunk count."""
    if not hasattr(stream, "__iter__") and hasattr(stream, "__aiter__"):
        raise TypeError("This is an async stream: use 'await helpers.aprint_stream(stream)'.")
    if (problem := _not_a_stream(stream)) is not None:
        raise TypeError(problem) if problem == COMPLETE_ANSWER else ValueError(problem)
    parts: list[str] = []
    result = StreamResult("")
    for item in stream:
        _consume(item, parts, result)
    print()
    result.text = "".join(parts)
    return result


async def aprint_stream(stream: AsyncIterable[Any]) -> StreamResult:
    """``print_stream`` for async streams (``async for``): azure-ai-inference aio, AsyncOpenAI, LangChain
    ``astream``."""
    if not hasattr(stream, "__aiter__"):
        raise TypeError("This is not an async stream: use 'helpers.print_stream(stream)' (no await).")
    parts: list[str] = []
    result = StreamResult("")
    async for item in stream:
        _consume(item, parts, result)
    print()
    result.text = "".join(parts)
    return result
