"""Quota emulation (requests and tokens per minute, per deployment) and fault injection."""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class Quota:
    """A sliding one-minute window per deployment. ``0`` turns a limit off.

    The defaults are the documented quota of a serverless deployment: 1,000 requests and
    200,000 tokens per minute. A request is counted when admitted; its tokens (from the
    recording's usage block) are counted when it is answered.
    """

    rpm: int = 1000
    tpm: int = 200_000
    window_seconds: float = 60.0
    clock: callable = time.monotonic  # type: ignore[valid-type]
    _requests: dict[str, deque[float]] = field(default_factory=dict)
    _tokens: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)

    def _trim(self, deployment: str, now: float) -> tuple[deque[float], deque[tuple[float, int]]]:
        reqs = self._requests.setdefault(deployment, deque())
        toks = self._tokens.setdefault(deployment, deque())
        horizon = now - self.window_seconds
        while reqs and reqs[0] <= horizon:
            reqs.popleft()
        while toks and toks[0][0] <= horizon:
            toks.popleft()
        return reqs, toks

    def admit(self, deployment: str) -> float | None:
        """Count a request; return ``None`` if admitted, else seconds until the window has room."""
        now = self.clock()
        reqs, toks = self._trim(deployment, now)
        if self.rpm and len(reqs) >= self.rpm:
            return reqs[0] + self.window_seconds - now
        if self.tpm and sum(n for _, n in toks) >= self.tpm:
            return toks[0][0] + self.window_seconds - now
        reqs.append(now)
        return None

    def spend(self, deployment: str, tokens: int) -> None:
        if tokens:
            self._tokens.setdefault(deployment, deque()).append((self.clock(), tokens))


@dataclass
class Faults:
    """Injected failures: a share of requests answered with one of ``statuses``, added latency, cut streams."""

    rate: float = 0.0
    statuses: tuple[int, ...] = (429, 500, 503)
    latency_ms: float = 0.0
    cut_stream_after: int = 0
    seed: int | None = None
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def pick(self) -> int | None:
        """The status to inject for this request, or ``None``."""
        if self.rate and self._rng.random() < self.rate:
            return self._rng.choice(self.statuses)
        return None
