"""Recordings: load them from ``data/recordings``, and find the one a request matches.

A recording is one JSON file holding one interaction::

    {
      "provenance": {"source": "documented-example" | "authored" | "recorded-live", "note": "...", ...},
      "request":  {"body": {...the chat completions request...}},
      "response": {"status": 200, "body": {...}}                       # non-streamed
             or:  {"status": 200, "stream": [{"delay_ms": 35, "data": {...chunk...}}, ...]}
    }

Matching ignores what the service ignores. Two requests match when their *match keys* are equal;
``match_key`` below is the whole definition, and the README explains it in words.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

# Where a recording's answer came from, in order of precedence when two recordings answer the same request.
PROVENANCES = ("recorded-live", "documented-example", "authored")

# Fields that never change what the model generates, so they never change the match.
IGNORED_FIELDS = {"model", "stream_options", "user"}
# Explicit defaults: sending them is the same as leaving them out.
DEFAULTS = {"stream": False, "n": 1, "response_format": {"type": "text"}}
# Same meaning, other spelling (LangChain sends max_completion_tokens for max_tokens).
ALIASES = {"max_completion_tokens": "max_tokens"}


def _normalize_content(content: Any) -> Any:
    """A string and a list holding one text item are the same content."""
    if isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict):
        item = content[0]
        if item.get("type") == "text" and set(item) <= {"type", "text"}:
            return item.get("text")
    return content


def _normalize_message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    out = {k: v for k, v in message.items() if v not in (None, "") or k == "content"}
    if "content" in out:
        out["content"] = _normalize_content(out["content"])
    return out


def _numbers_as_float(value: Any) -> Any:
    """``0`` and ``0.0`` are the same temperature.

    Recursive: the server refuses bodies nested deeper than ``bodies.MAX_JSON_DEPTH`` before matching.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # a seed of 400 digits has no float twin: it stays an int, and matches only itself
            return value
    if isinstance(value, dict):
        return {k: _numbers_as_float(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_float(v) for v in value]
    return value


def normalize_body(body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a chat completions request body that decide which recording answers it."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in ALIASES and ALIASES[key] in body and body[ALIASES[key]] is not None:
            continue  # both spellings sent: the API's own name decides, whatever the order of the keys
        key = ALIASES.get(key, key)
        if key in IGNORED_FIELDS or value is None:
            continue
        if key in DEFAULTS and value == DEFAULTS[key]:
            continue
        if key == "messages" and isinstance(value, list):
            value = [_normalize_message(m) for m in value]
        out[key] = _numbers_as_float(value)
    return out


def match_key(body: dict[str, Any]) -> str:
    """A canonical string: equal for requests the service would treat as the same."""
    return json.dumps(normalize_body(body), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Recording:
    """One recorded interaction, as loaded from its file."""

    path: Path
    deployment: str
    request_body: dict[str, Any]
    status: int
    body: Any = None
    stream: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def encoded_events(self) -> list[bytes]:
        """The stream's server-sent events as sent on the wire, encoded on first use and kept."""
        out = []
        for event in self.stream or []:
            data = event["data"]
            payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            out.append(f"data: {payload}\n\n".encode())
        return out

    @property
    def name(self) -> str:
        return f"{self.deployment}/{self.path.stem}"

    @property
    def total_tokens(self) -> int:
        """Tokens this interaction used, from its usage block (0 when it has none)."""
        usage = None
        if isinstance(self.body, dict):
            usage = self.body.get("usage")
        elif self.stream:
            for event in self.stream:
                data = event.get("data")
                if isinstance(data, dict) and data.get("usage"):
                    usage = data["usage"]
        return int((usage or {}).get("total_tokens") or 0)


def load_recording(path: Path, deployment: str) -> Recording:
    """Read one recording file, checking the fields the server relies on; ``ValueError`` names the file and the problem
    (a file edited by hand, say, with a comma too many)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a recording is a JSON object with provenance, request and response")
    provenance = raw.get("provenance") or {}
    if not isinstance(provenance, dict) or provenance.get("source") not in PROVENANCES:
        raise ValueError(f"{path}: provenance.source must be one of {PROVENANCES}")
    request, response = raw.get("request"), raw.get("response")
    if not isinstance(request, dict) or not isinstance(request.get("body"), dict) or not isinstance(response, dict):
        raise ValueError(
            f"{path}: needs request.body (the request's JSON body) and response (its status and body or stream)"
        )
    status = response.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise ValueError(f"{path}: response.status must be an HTTP status from 200 to 599, not {status!r}")
    stream = response.get("stream")
    if stream is not None and not (isinstance(stream, list) and all(_is_event(event) for event in stream)):
        raise ValueError(
            f"{path}: response.stream must be a list of events, each {{'data': <a JSON object or "
            "'[DONE]'>}, with an optional 'delay_ms' (a number >= 0)"
        )
    headers = response.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ValueError(f"{path}: response.headers must map header names to strings")
    return Recording(
        path=path,
        deployment=deployment,
        request_body=request["body"],
        status=status,
        body=response.get("body"),
        stream=stream,
        headers=headers,
        provenance=provenance,
    )


def _is_event(event: Any) -> bool:
    """One recorded server-sent event: its data, and how long after the one before it came."""
    if not isinstance(event, dict) or not isinstance(event.get("data"), (str, dict)):
        return False
    delay = event.get("delay_ms", 0)
    return not isinstance(delay, bool) and isinstance(delay, (int, float)) and math.isfinite(delay) and delay >= 0


SIMILARITY_WINDOW = 1000
# The closest-recording search of the last misses, by match key: a client retrying the same miss costs a lookup.
CLOSEST_CACHE_SIZE = 256


def _window(key: str) -> str:
    return key if len(key) <= 2 * SIMILARITY_WINDOW else key[:SIMILARITY_WINDOW] + key[-SIMILARITY_WINDOW:]


def _precedence(rec: Recording) -> int:
    """When two files answer the same request, the one whose source comes first in PROVENANCES wins (a live recording
    made with `make record` beats the documentation's example, which beats an answer written by this project);
    between two of the same kind, the later file name."""
    return -PROVENANCES.index(rec.provenance.get("source"))


class RecordingStore:
    """All recordings of all deployments, indexed by match key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._index: dict[tuple[str, str], Recording] = {}
        # (deployment, sha256 of the match key, limit) -> the closest recordings' names (see closest)
        self._closest_cache: OrderedDict[tuple[str, str, int], list[str]] = OrderedDict()
        self._closest_lock = threading.Lock()
        self._generation = 0  # counts changes to the recordings, so that a search that overlapped one is not kept
        self._closest_limiter: Any = None  # one worker thread for every miss, created on first use
        self.reload()

    def reload(self) -> None:
        index: dict[tuple[str, str], Recording] = {}
        if self.root.is_dir():
            for path in sorted(self.root.glob("*/*.json")):
                rec = load_recording(path, path.parent.name)
                key = (rec.deployment, match_key(rec.request_body))
                if key not in index or _precedence(rec) >= _precedence(index[key]):
                    index[key] = rec
        self._index = index
        self._forget_closest()

    def __len__(self) -> int:
        return len(self._index)

    def add(self, rec: Recording) -> None:
        self._index[(rec.deployment, match_key(rec.request_body))] = rec
        self._forget_closest()  # a new recording may be closer to a cached miss

    def _forget_closest(self) -> None:
        with self._closest_lock:
            self._generation += 1
            self._closest_cache.clear()

    def find(self, deployment: str, body: dict[str, Any]) -> Recording | None:
        return self._index.get((deployment, match_key(body)))

    def of(self, deployment: str) -> list[Recording]:
        """The recordings of one deployment, in file-name order."""
        return sorted((rec for (dep, _), rec in list(self._index.items()) if dep == deployment), key=lambda r: r.name)

    def named(self, name: str) -> Recording | None:
        """The recording called ``<deployment>/<file stem>`` (``Recording.name``), if it is loaded."""
        return next((rec for rec in list(self._index.values()) if rec.name == name), None)

    def deployments_with(self, body: dict[str, Any]) -> list[str]:
        """The deployments that have a recording of this very request."""
        key = match_key(body)
        return [dep for (dep, other_key) in list(self._index) if other_key == key]  # a copy: record mode adds meanwhile

    async def closest_async(self, deployment: str, body: dict[str, Any], limit: int = 3) -> list[str]:
        """``closest``, for the server's miss path, in a worker thread so that the event loop stays free: one thread
        for all misses, which queue for it. (With Starlette's ``run_in_threadpool``, anyio's default limiter of 40
        threads, a burst of misses grew 40 threads and their memory.)"""
        import anyio.to_thread  # here: the recordings module is also used without a server

        if self._closest_limiter is None:
            self._closest_limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(self.closest, deployment, body, limit, limiter=self._closest_limiter)

    def closest(self, deployment: str, body: dict[str, Any], limit: int = 3) -> list[str]:
        """Names of the recordings whose match keys look most like this request's.

        Keys are compared by their first and last ``SIMILARITY_WINDOW`` characters only: difflib is
        quadratic, and a long prompt must get its 404 in milliseconds, not minutes. The answers for the last
        ``CLOSEST_CACHE_SIZE`` match keys are kept (a client retrying the same miss costs a lookup), until a
        recording is added or the recordings are reloaded.
        """
        cache_key = (deployment, hashlib.sha256(match_key(body).encode()).hexdigest(), limit)
        with self._closest_lock:
            if cache_key in self._closest_cache:
                self._closest_cache.move_to_end(cache_key)
                return list(self._closest_cache[cache_key])
            generation = self._generation
        names = self._closest_now(deployment, body, limit)
        with self._closest_lock:
            if generation == self._generation:  # not if a recording came meanwhile: it may be closer
                self._closest_cache[cache_key] = names
                while len(self._closest_cache) > CLOSEST_CACHE_SIZE:
                    self._closest_cache.popitem(last=False)
        return list(names)

    def _closest_now(self, deployment: str, body: dict[str, Any], limit: int) -> list[str]:
        key = _window(match_key(body))
        candidates = [
            (_window(other_key), rec) for (dep, other_key), rec in list(self._index.items()) if dep == deployment
        ]
        # quick_ratio is a cheap upper bound; compute the real ratio (most of the work) for the best few only.
        candidates.sort(key=lambda kr: difflib.SequenceMatcher(None, key, kr[0]).quick_ratio(), reverse=True)
        best = candidates[: limit * 2]
        best.sort(key=lambda kr: difflib.SequenceMatcher(None, key, kr[0], autojunk=False).ratio(), reverse=True)
        return [rec.name for _, rec in best[:limit]]
