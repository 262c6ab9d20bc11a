"""Streams cut on purpose (fault injection, or a live stream that broke off in record mode), and keeping them out of
uvicorn's error log."""

from __future__ import annotations

import logging


class StreamCut(Exception):
    """Raised inside a streamed answer to drop the connection mid-stream (fault injection).

    Raising is the only way an ASGI app can make the server close a connection whose response
    has started; the client then sees an incomplete stream. uvicorn would log the exception with
    a traceback, so ``_QuietStreamCuts`` drops exactly those records: a cut is intended, not a bug.
    """


def _is_stream_cut(exc: BaseException | None) -> bool:
    if isinstance(exc, StreamCut):
        return True
    inner = getattr(exc, "exceptions", None)  # an exception group holding only cuts
    return bool(inner) and all(_is_stream_cut(e) for e in inner)


class _QuietStreamCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _is_stream_cut(record.exc_info[1]))


def quiet_stream_cuts() -> None:
    """Keep intended stream cuts out of uvicorn's error log (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietStreamCuts) for f in logger.filters):
        logger.addFilter(_QuietStreamCuts())
