"""Checks for the replay server's settings, shared by ``MockSettings`` and the command line.

Each check returns the value when it is usable, and raises ``ValueError`` (with a message that does not name
the setting: the caller adds ``--rpm`` or ``MockSettings.rpm``) when it would break every request, by a crash,
a hang or a nonsense answer.
"""

from __future__ import annotations

import math
from typing import Any


def count(value: Any) -> int:
    """A whole number >= 0 (for limits where 0 means off)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be a whole number >= 0, not {value!r}")
    return value


def positive_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a whole number >= 1, not {value!r}")
    return value


def port(value: Any) -> int:
    """A TCP port, 0 to 65535 (0: the system picks a free one)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValueError(f"must be a port number from 0 to 65535, not {value!r}")
    return value


def share(value: Any) -> float:
    """A share of requests, from 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"must be a number from 0 to 1, not {value!r}")
    return float(value)


def duration(value: Any, zero_allowed: bool = True) -> float:
    """A finite, non-negative amount of time (or of milliseconds); ``zero_allowed=False``: positive."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not zero_allowed)
    ):
        raise ValueError(f"must be a finite number {'>=' if zero_allowed else '>'} 0, not {value!r}")
    return float(value)


def error_statuses(value: Any) -> tuple[int, ...]:
    """At least one HTTP error status, each from 400 to 599 (the statuses fault injection answers with)."""
    statuses = tuple(value) if isinstance(value, (list, tuple)) else None
    if not statuses:
        raise ValueError("must list at least one HTTP status")
    for status in statuses:
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"must be HTTP error statuses from 400 to 599, not {status!r}")
    return statuses
