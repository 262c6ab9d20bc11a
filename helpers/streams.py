"""``print_stream``: print a streamed chat completion as it arrives, from any of the five paths.

It accepts what each library yields:

- azure-ai-inference ``StreamingChatCompletionsUpdate``, openai ``ChatCompletionChunk`` and
  LiteLLM ``ModelResponseStream``: objects with ``choices[0].delta.content`` and maybe ``usage``
- LangChain ``AIMessageChunk``: ``content`` and ``usage_metadata``
- raw server-sent-event lines from ``requests.iter_lines()`` or ``httpx.iter_lines()``:
  ``data: {json}``, blank lines, and ``data: [DONE]``
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, AsyncIterable, Iterable

from .display import Usage, usage_of


@dataclass
class StreamResult:
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


def _text_and_usage(item: Any) -> tuple[str, Usage | None] | None:
    """The text delta and usage in one streamed item, or ``None`` if it carries nothing."""
    if isinstance(item, (str, bytes)):
        item = parse_sse_line(item)
        if item is None:
            return None
    if isinstance(item, dict):  # raw JSON chunk
        choices = item.get("choices") or []
        text = (choices[0].get("delta") or {}).get("content") or "" if choices else ""
        return text, usage_of(item.get("usage"))
    if hasattr(item, "usage_metadata"):  # LangChain message chunk
        content = item.content if isinstance(item.content, str) else "".join(
            part.get("text", "") for part in item.content if isinstance(part, dict))
        return content, usage_of(item.usage_metadata)
    choices = getattr(item, "choices", None) or []
    text = ""
    if choices:
        delta = getattr(choices[0], "delta", None)
        text = getattr(delta, "content", None) or ""
    return text, usage_of(getattr(item, "usage", None))


def _consume(item: Any, parts: list[str], result: StreamResult) -> None:
    got = _text_and_usage(item)
    if got is None:
        return
    text, usage = got
    result.chunks += 1
    if text:
        parts.append(text)
        print(text, end="", flush=True)
    if usage is not None:
        result.usage = usage


def print_stream(stream: Iterable[Any]) -> StreamResult:
    """Print text as it arrives; return the full text, the usage (if the stream sent it) and the chunk count."""
    parts: list[str] = []
    result = StreamResult("")
    for item in stream:
        _consume(item, parts, result)
    print()
    result.text = "".join(parts)
    return result


async def aprint_stream(stream: AsyncIterable[Any]) -> StreamResult:
    """``print_stream`` for async streams (``async for``)."""
    parts: list[str] = []
    result = StreamResult("")
    async for item in stream:
        _consume(item, parts, result)
    print()
    result.text = "".join(parts)
    return result
