"""Token usage, read from whatever a library returns, and printed the same way for every path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def usage_of(obj: Any) -> Usage | None:
    """Usage from a usage block, or from a whole response that carries one; ``None`` if absent.

    Understands ``prompt_tokens``/``completion_tokens`` (the service, azure-ai-inference, openai, LiteLLM)
    and ``input_tokens``/``output_tokens`` (LangChain's ``usage_metadata``).
    """
    if obj is None:
        return None
    for holder in ("usage", "usage_metadata"):
        inner = _get(obj, holder)
        if inner is not None and not isinstance(inner, (int, float)):
            return usage_of(inner)
    prompt = _get(obj, "prompt_tokens")
    if prompt is None:
        prompt = _get(obj, "input_tokens")
    completion = _get(obj, "completion_tokens")
    if completion is None:
        completion = _get(obj, "output_tokens")
    if prompt is None and completion is None:
        return None
    total = _get(obj, "total_tokens")
    prompt, completion = int(prompt or 0), int(completion or 0)
    return Usage(prompt, completion, int(total) if total is not None else prompt + completion)


# The ``model`` the replay server's local stand-in model names in its answers (serve --local-model, make lab).
LOCAL_STAND_IN = "(local stand-in)"
LOCAL_STAND_IN_NOTE = "answered by a small local stand-in model on this computer, not by Llama on Azure"


def is_local_stand_in(obj: Any) -> bool:
    """Whether a response or chunk names the replay server's local stand-in model as its ``model``."""
    meta = getattr(obj, "response_metadata", None)  # LangChain
    model = meta.get("model_name") if isinstance(meta, Mapping) else _get(obj, "model")
    return isinstance(model, str) and model.endswith(LOCAL_STAND_IN)


def show_usage(obj: Any) -> Usage | None:
    """Print prompt, completion and total tokens of a response or usage block."""
    usage = usage_of(obj)
    if usage is None:
        print("Usage: not reported")
        return None
    note = " (the local stand-in model's tokens, not Llama's)" if is_local_stand_in(obj) else ""
    print(
        f"Usage: {usage.prompt_tokens} prompt + {usage.completion_tokens} completion = {usage.total_tokens} "
        f"tokens{note}"
    )
    return usage


def answered_by(source: Any) -> str:
    """Where an answer came from: the replay server names its recording and that recording's provenance in two
    headers (``x-replay-recording``, ``x-replay-provenance``), and labels what it answers by itself (an error from
    its copy of the service's rules) ``x-replay-provenance: replay-server``; a live endpoint sends neither. Under
    ``make lab`` a request no recording matches is answered by a small local model: ``local-model``, never Llama.

    ``source`` is anything holding the HTTP response headers: a headers mapping, an object with ``.headers`` (a
    ``requests``/``httpx`` response, the OpenAI SDK's ``with_raw_response``), or a LangChain message whose
    ``response_metadata`` carries them (``include_response_headers=True``).
    """
    headers = source
    if hasattr(source, "response_metadata"):
        headers = source.response_metadata.get("headers") or {}
    elif hasattr(source, "headers"):
        headers = source.headers
    recording = headers.get("x-replay-recording") if headers is not None else None
    provenance = headers.get("x-replay-provenance") if headers is not None else None
    if provenance == "local-model":  # serve --local-model (make lab): no recording matched, a small model answered
        model = (recording or "").rpartition("/")[2] or "its local model file"
        return LOCAL_STAND_IN_NOTE.replace("this computer", f"this computer ({model})")
    if recording is None:
        if provenance == "replay-server":
            return "answered by the replay server itself (its copy of the service's rules; no recording)"
        return "answered by a live endpoint"
    return f"replayed from {recording} ({provenance})"
