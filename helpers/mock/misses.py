"""What the replay server says when no recording answers a request: how it differs from the closest recording,
and the questions that are recorded, as text to paste.

A workshop attendee who changes the question, a parameter or the stream flag should learn what changed and what
would work offline, not read a list of file names.
"""

from __future__ import annotations

import json
from typing import Any

from .recordings import Recording, RecordingStore, normalize_body

MAX_QUESTIONS = 10
MAX_TEXT = 90


def _short(value: Any) -> str:
    """A value as JSON would show it (a string quoted), cut to ``MAX_TEXT`` characters."""
    if not isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."
    return repr(value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 3] + "...")


def _text(content: Any) -> str:
    """A message's text: the string, or its text items joined (images are named, not shown)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            item.get("text", "") if item.get("type") == "text" else "[image]"
            for item in content
            if isinstance(item, dict)
        ]
        return " ".join(p for p in parts if p)
    return "" if content is None else repr(content)


def question(body: dict[str, Any]) -> str | None:
    """The last user message's text: what an attendee thinks of as "the question"."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text(message.get("content"))
    return None


def differences(request: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    """How a request differs from a recorded one, in the terms the match uses (``recordings.normalize_body``)."""
    asked, known = normalize_body(request), normalize_body(recorded)
    out: list[str] = []
    asked_messages, known_messages = asked.get("messages") or [], known.get("messages") or []
    if question(asked) != question(known):
        out.append(f"the question: {_short(question(asked))} instead of {_short(question(known))}")
    elif asked_messages != known_messages:
        if len(asked_messages) != len(known_messages):
            out.append(f"the conversation: {len(asked_messages)} messages instead of {len(known_messages)}")
        else:
            roles = sorted({m.get("role", "?") for m, k in zip(asked_messages, known_messages) if m != k})
            out.append(f"the {', '.join(roles)} message(s) of the conversation")
    if bool(asked.get("stream")) != bool(known.get("stream")):
        out.append(f"the stream flag: {bool(asked.get('stream'))} instead of {bool(known.get('stream'))}")
    for name in sorted((set(asked) | set(known)) - {"messages", "stream"}):
        if asked.get(name) != known.get(name):
            mine = _short(asked[name]) if name in asked else "not sent"
            theirs = _short(known[name]) if name in known else "not sent"
            out.append(f"{name}: {mine} instead of {theirs}")
    return out


def recorded_questions(recordings: list[Recording]) -> list[str]:
    """The distinct questions recorded for a deployment, shortest first (the easiest to paste)."""
    found = {q for rec in recordings if rec.status == 200 and (q := question(rec.request_body))}
    return sorted(found, key=lambda q: (len(q), q))[:MAX_QUESTIONS]


def explain_miss(store: RecordingStore, deployment: str, body: dict[str, Any], closest: list[str]) -> str:
    """The 404's message: what differs from the closest recording, and what is recorded."""
    nearest = store.named(closest[0]) if closest else None
    parts = ["The replay server has no recording for this request."]
    if nearest is not None:
        found = differences(body, nearest.request_body)
        if found:
            parts.append(f"Closest recording: {nearest.name}; this request differs in " + "; ".join(found) + ".")
    questions = recorded_questions(store.of(deployment))
    if questions:
        listed = " | ".join(_short(q) for q in questions)
        parts.append(f"Offline, only recorded requests have answers. The questions on {deployment}: {listed}.")
    parts.append(
        "Under make lab (python -m helpers.mock serve --local-model) a small local stand-in model answers other "
        "questions, labelled as such; against a live endpoint any question works (README, 'Offline or live')."
    )
    return " ".join(parts)
