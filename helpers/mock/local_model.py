"""A small model on this computer that answers the chat requests no recording matches (``serve --local-model``).

Off by default, and never on under ``make test``, nbval or pytest: there a request without a recording gets the
replay server's 404, so runs stay strict and repeatable. ``make lab`` turns it on (``make lab ARGS=--no-local-model``
turns it off), so that a workshop attendee who edits a prompt still gets an answer.

Its answers are never Llama's. The model is SmolLM2-135M-Instruct (Hugging Face, Apache-2.0; a Llama-architecture
model of 135 million parameters, about 500 times smaller than Llama-3.3-70B-Instruct), quantized to Q4_1 GGUF, run by
llama.cpp through the ``xllamacpp`` bindings (prebuilt wheels, no compiler). ``scripts/fetch_local_model.py`` (run by
``make setup``) puts the file in ``<venv>/local-model/``. Each answer says what it is: the header
``x-replay-provenance: local-model``, ``x-replay-recording: local-model/<model file>``, and the body's ``model``
``SmolLM2-135M-Instruct (local stand-in)``; ``helpers.answered_by`` prints that in words.

One job: turn a chat request that passed the service's rules into the service's answer shapes, a completion or a
stream of chunks (the last one carrying ``finish_reason`` and ``usage``, then ``[DONE]``), with the model's own
chat template. ``max_tokens`` (default 512 here), ``temperature``, ``top_p``, ``stop``, ``seed`` and the two penalties
go to the sampler; usage counts come from the model's tokenizer. Images become a one-line note in the text (the
model cannot see them); tools are not offered to it. Generation runs in a worker thread (llama.cpp releases the GIL),
and stream chunks reach the event loop through an asyncio queue. The model loads on the first request that needs it,
once.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import secrets
import sys
import threading
from pathlib import Path
from typing import Any, AsyncIterator, Callable

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"  # scripts/fetch_local_model.py pins its hash
MODEL_LABEL = "SmolLM2-135M-Instruct (local stand-in)"
PROVENANCE = "local-model"
RECORDING = f"local-model/{GGUF_NAME}"
HEADERS = {"x-replay-provenance": PROVENANCE, "x-replay-recording": RECORDING}
DEFAULT_MAX_TOKENS = 512  # when the request sets none: a small model left alone can ramble to the end of its context
CONTEXT_TOKENS = 4096  # shared by the parallel slots (a unified KV cache): about 100 MB
PARALLEL = 4  # requests decoded together (continuous batching); more wait their turn inside llama.cpp
SAMPLER_FIELDS = ("temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty")
IMAGE_NOTE = "[an image: the local stand-in model cannot see images]"


def default_path() -> Path:
    """``<venv>/local-model/<file>``: this interpreter's environment, else the repository's ``.venv``."""
    candidates = [
        Path(sys.prefix) / "local-model" / GGUF_NAME,
        Path(__file__).resolve().parents[2] / ".venv" / "local-model" / GGUF_NAME,
    ]
    return next((path for path in candidates if path.is_file()), candidates[0])


def unavailable_reason(path: Path | None = None) -> str | None:
    """Why the local model cannot run here (no runtime, no model file), or None. Loads nothing."""
    if importlib.util.find_spec("xllamacpp") is None:
        return (
            "its runtime, xllamacpp, is not installed (make setup installs it; it has prebuilt wheels for Linux "
            "x86_64, macOS and Windows x86_64)"
        )
    path = path or default_path()
    if not path.is_file():
        return f"no model file at {path}: make setup fetches it (or .venv/bin/python scripts/fetch_local_model.py)"
    return None


def cpu_threads() -> int:
    """Threads for one decode: the CPUs this process may use, at most 4 (a 135M model gains little beyond)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, available))


class LocalModelError(Exception):
    """The model refused the request (say, a prompt longer than its context): the status and message to answer with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _text(content: Any) -> str:
    """Message content as one string: text items joined, each image replaced by a note."""
    if content is None or isinstance(content, str):
        return content or ""
    parts = [
        item.get("text", "") if item.get("type") == "text" else IMAGE_NOTE for item in content if isinstance(item, dict)
    ]
    return "\n".join(parts)


def engine_request(body: dict[str, Any]) -> dict[str, Any]:
    """The llama.cpp request for a checked service request (see the module's docstring for what is kept)."""
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        max_tokens = body.get("max_completion_tokens")
    request: dict[str, Any] = {
        "messages": [{"role": m["role"], "content": _text(m.get("content"))} for m in body["messages"]],
        "max_tokens": int(max_tokens) if max_tokens is not None else DEFAULT_MAX_TOKENS,
        "cache_prompt": False,  # every request evaluated from scratch: temperature 0 gives the same answer every time
    }
    request.update({name: body[name] for name in SAMPLER_FIELDS if body.get(name) is not None})
    if body.get("stream"):
        request["stream"] = True
        request["stream_options"] = {"include_usage": True}
    return request


def _error(answer: Any) -> LocalModelError | None:
    if not isinstance(answer, dict) or "error" not in answer:
        return None
    error = answer["error"] if isinstance(answer["error"], dict) else {"message": str(answer["error"])}
    status = error.get("code") if isinstance(error.get("code"), int) and 400 <= error["code"] < 600 else 500
    code = "context_length_exceeded" if error.get("type") == "exceed_context_size_error" else "LocalModelError"
    return LocalModelError(status, code, f"The local stand-in model refused the request: {error.get('message')}")


def _usage(raw: dict[str, Any]) -> dict[str, int]:
    usage = raw.get("usage") or {}
    prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return {"prompt_tokens": prompt, "total_tokens": prompt + completion, "completion_tokens": completion}


def completion(raw: dict[str, Any]) -> dict[str, Any]:
    """llama.cpp's answer in the service's shape (recorded answers' field order), named as the stand-in it is."""
    choice = (raw.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    return {
        "id": raw.get("id", ""),
        "object": "chat.completion",
        "created": raw.get("created", 0),
        "model": MODEL_LABEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": message.get("content") or "", "tool_calls": None},
                "finish_reason": choice.get("finish_reason") or "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(raw),
    }


def chunk(raw: dict[str, Any], usage: dict[str, int] | None = None) -> dict[str, Any]:
    """One llama.cpp stream chunk in the service's shape; the last one carries ``usage``."""
    choice = (raw.get("choices") or [{}])[0]
    delta = dict(choice.get("delta") or {})
    if "role" in delta and delta.get("content") is None:
        delta["content"] = ""
    out = {
        "id": raw.get("id", ""),
        "object": "chat.completion.chunk",
        "created": raw.get("created", 0),
        "model": MODEL_LABEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": choice.get("finish_reason"), "logprobs": None}],
    }
    if usage is not None:
        out["usage"] = usage
    return out


def _sse(data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


_END = object()


class LocalModel:
    """The model, loaded on first use (once, under a lock), and its answers in the service's shapes."""

    def __init__(self, path: Path | None = None, threads: int | None = None) -> None:
        self.path = path or default_path()
        self.threads = threads or cpu_threads()
        self._engine: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = self._start_engine()
            return self._engine

    def _start_engine(self) -> Any:
        # OpenMP threads that spin while waiting starve each other on a busy 2-core machine (measured: 2-10 tokens/s
        # instead of 60-100). libgomp reads the policy once, when it loads: set it for that moment only.
        before = os.environ.get("OMP_WAIT_POLICY")
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        try:
            import xllamacpp as xlc
        finally:
            if before is None:
                os.environ.pop("OMP_WAIT_POLICY", None)
        params = xlc.CommonParams()
        params.model.path = str(self.path)
        params.n_ctx = CONTEXT_TOKENS
        params.n_parallel = PARALLEL
        params.kv_unified = True  # one request may use the whole context when the others are idle
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = self.threads
        params.verbosity = 0  # llama.cpp's own log lines would flood the terminal of make lab
        # xllamacpp also listens on a loopback port of its own (llama.cpp's HTTP server); a random key nobody
        # knows keeps anything else on this computer from using it. The replay server talks to it in-process.
        params.api_keys = [secrets.token_hex(16)]
        params.endpoint_props = params.endpoint_metrics = params.endpoint_slots = False
        return xlc.Server(params)

    def close(self) -> None:
        with self._lock:
            self._engine = None  # llama.cpp's server stops when the last reference goes (a running stream holds one)

    # -- answers ---------------------------------------------------------------------------
    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """The whole answer (blocking: call it from a worker thread). Raises ``LocalModelError``."""
        raw = self.load().handle_chat_completions(engine_request({**body, "stream": False}))
        if (problem := _error(raw)) is not None:
            raise problem
        return completion(raw)

    async def acomplete(self, body: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(self.complete, body)

    async def open_stream(
        self, body: dict[str, Any], on_usage: Callable[[int], None] | None = None
    ) -> AsyncIterator[bytes]:
        """The answer's server-sent events. Generation starts now, in a thread of its own; a refusal before the first
        chunk raises ``LocalModelError`` here, so that it is answered as an HTTP error, not inside a stream."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()  # set when the client has gone: the next token's callback ends the generation
        request = engine_request({**body, "stream": True})

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone (the server stopped): nobody is listening
                stop.set()

        def on_chunk(raw: Any) -> bool:
            put(raw)
            return stop.is_set()

        def generate() -> None:
            try:
                self.load().handle_chat_completions(request, on_chunk)
            except BaseException as exc:  # noqa: BLE001 (handed to the event loop, which answers with it)
                put(exc)
            finally:
                put(_END)

        threading.Thread(target=generate, name="local-model-stream", daemon=True).start()
        first = await queue.get()
        if isinstance(first, BaseException):
            raise first
        if (problem := _error(first)) is not None:
            raise problem
        return self._events(first, queue, stop, on_usage)

    async def _events(
        self, first: Any, queue: asyncio.Queue[Any], stop: threading.Event, on_usage: Callable[[int], None] | None
    ) -> AsyncIterator[bytes]:
        held = None  # the chunk with finish_reason: sent with the usage that llama.cpp sends right after it
        item = first
        try:
            while item is not _END:
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, dict) and "error" not in item:
                    if item.get("usage") and not item.get("choices"):
                        usage = _usage(item)
                        if on_usage:
                            on_usage(usage["total_tokens"])
                        yield _sse(
                            chunk(
                                held
                                or {
                                    "id": item.get("id"),
                                    "created": item.get("created"),
                                    "choices": [{"delta": {}, "finish_reason": "stop"}],
                                },
                                usage,
                            )
                        )
                        held = None
                    elif (item.get("choices") or [{}])[0].get("finish_reason"):
                        held = item
                    else:
                        yield _sse(chunk(item))
                item = await queue.get()
            if held is not None:
                yield _sse(chunk(held))
            yield _sse("[DONE]")
        finally:
            stop.set()
