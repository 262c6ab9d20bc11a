"""Short, bounded descriptions of a request body, for log lines and recording file names.

A body may hold anything (a 5 MB prompt, a key inside an extra parameter, values of any type), so what is
taken from it is type-checked and cut short: a preview of the text a user wrote, the values of the known
numeric parameters, and only the *names* of the parameters the service does not know.
"""

from __future__ import annotations

from typing import Any

from .rules import KNOWN_PARAMETERS

PREVIEW_CHARS = 80
NAME_CHARS = 32
VALUE_CHARS = 16
MAX_NAMES = 10


def message_text(message: Any) -> str:
    """The text of one message: its string content, or the text of its text items joined; '' for anything else."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):
        content = " ".join(
            item["text"] for item in content if isinstance(item, dict) and isinstance(item.get("text"), str)
        )
    return content if isinstance(content, str) else ""


def last_message(body: dict[str, Any], role: str | None = None) -> Any:
    """The last message (of ``role``, when given), or None when ``messages`` holds none."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    return next(
        (m for m in reversed(messages) if role is None or (isinstance(m, dict) and m.get("role") == role)), None
    )


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (runs of whitespace and line breaks made one space), cut to ``limit`` characters."""
    text = " ".join(text[: limit * 4].split())  # only the start is kept: no need to split a 5 MB string
    return text if len(text) <= limit else text[: limit - 3] + "..."


def request_summary(body: dict[str, Any]) -> str:
    """For example:

    ``'How many languages are in the world?' (2 messages; max_tokens=2048, stream=True; extra: best_of)``.
    """
    messages = body.get("messages")
    count = len(messages) if isinstance(messages, list) else 0
    parameters, extras = [], []
    for name, value in body.items():
        if name == "messages":
            continue
        if name not in KNOWN_PARAMETERS:
            extras.append(
                one_line(str(name), NAME_CHARS)
            )  # the name only: an unknown parameter's value may be a secret
        elif isinstance(value, (bool, int, float)):
            parameters.append(f"{name}={one_line(repr(value), VALUE_CHARS)}")
        else:
            parameters.append(name)
    details = [f"{count} message{'' if count == 1 else 's'}"]
    if parameters:
        details.append(", ".join(sorted(parameters)))
    if extras:
        shown = sorted(extras)[:MAX_NAMES]
        more = f" and {len(extras) - len(shown)} more" if len(extras) > len(shown) else ""
        details.append(f"extra: {', '.join(shown)}{more}")
    preview = one_line(message_text(last_message(body, role="user")), PREVIEW_CHARS)
    return f"{preview!r} ({'; '.join(details)})"
