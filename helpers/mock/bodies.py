"""The request body guard: a chat request's raw bytes become a JSON object, or the service's 400.

Bounded before and after parsing (nesting, number of values, lone surrogates), so that no body can keep the replay
server busy for seconds or fail later where an answer echoes it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import Response

from . import error_bodies

# Matching, error bodies that echo the input and record mode all walk the body recursively, and
# Python's stack holds about 1,000 levels in all: a body nested deeper than this is refused up front.
MAX_JSON_DEPTH = 100
# Every value, key and container counts. The recorded requests hold a few dozen; a body of millions (8 MB of
# "[]") would keep parsing, rules, matching and the closest-recording search busy for seconds: refused up front.
MAX_JSON_NODES = 100_000


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # 1e400 parses to infinity, which no JSON answer can echo back (and the service has no use for it).
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:32]} is out of range")
    return value


def parse_body(raw: bytes) -> dict[str, Any] | Response:
    """The request body as a JSON object, or the service's 400 (not JSON, not an object, too deep, too many values)."""
    # json.loads holds the GIL while it builds millions of lists, so not even a worker thread would keep the event
    # loop free: the arrays, objects, members and elements are bounded before parsing, by their brackets, colons and
    # commas. Those inside strings count too (a prose prompt has commas), but a prompt with that many (about a
    # megabyte of text) is too long for a Llama context window anyway.
    structure = raw.count(b"[") + raw.count(b"{") + raw.count(b":") + raw.count(b",")
    if structure > MAX_JSON_NODES:
        return error_bodies.spec_error(
            400,
            "InvalidJson",
            f"The request body holds more than {MAX_JSON_NODES} '[', '{{', ':' and "
            "',' characters (arrays, objects, members and elements); the replay server does not parse it.",
        )
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return error_bodies.spec_error(400, "InvalidJson", f"The request body is not valid JSON: {exc}.")
    if not isinstance(body, dict):
        return error_bodies.spec_error(400, "InvalidJson", "The request body must be a JSON object.")
    problem = _unechoable(body)
    if problem:
        return error_bodies.spec_error(400, "InvalidJson", f"The request body is not valid JSON: {problem}.")
    return body


def _unechoable(body: Any) -> str | None:
    """Why a parsed body could not be written back as JSON or walked safely (nesting too deep, more than
    ``MAX_JSON_NODES`` values, a lone surrogate), or None.

    JSON's ``\\ud800`` escapes parse to strings that UTF-8 cannot encode, so any answer echoing them
    would fail. Iterative, so that the check itself cannot overflow the stack; values are counted as they
    are queued, so a huge body is refused before it is walked.
    """
    stack = [(body, 1)]
    nodes = 1
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"the string {value[:32]!r} holds a lone surrogate (an unpaired \\ud800-\\udfff escape)"
        elif isinstance(value, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"it is nested more than {MAX_JSON_DEPTH} levels deep"
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            nodes += len(items)
            if nodes > MAX_JSON_NODES:
                return f"it holds more than {MAX_JSON_NODES} values"
            stack.extend((item, depth + 1) for item in items)
    return None
