"""Record mode's scrubbing: the secrets a live endpoint may echo, removed from what reaches the client and the disk.

A service or gateway in front of it may echo the key it was sent (in an error message, a header, a streamed
chunk), in its own spelling: upper case, base64 (as in a Basic ``Authorization`` header, ``:key`` or
``user:key``), URL-encoded or JSON-escaped. It may also echo a cookie. The client of the recording proxy holds
only the demo key, so none of that may reach it, and none may be written to a recording. ``Scrubber.text`` is the
one function that does it; the JSON and header helpers apply it to every string, so relayed answers and written
files are scrubbed the same way.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Iterable, Mapping
from urllib.parse import quote, quote_plus

REDACTED = "<redacted>"
# Shorter cookie values (a "1", a "dark" theme) cannot be told apart from ordinary text, and carry no secret.
MIN_COOKIE_CHARS = 8
# Base64 runs shorter than this (a key of a few characters) would match ordinary text.
MIN_BASE64_CHARS = 8


def _base64_runs(secret: bytes) -> set[str]:
    """The base64 characters that encode ``secret`` whatever comes before or after it (``:key``, ``user:key``,
    ``key:``): for each of the three alignments, the characters whose 6 bits all come from the secret."""
    runs = set()
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + secret).decode("ascii")
            start, end = -(-8 * offset // 6), 8 * (offset + len(secret)) // 6
            if end - start >= MIN_BASE64_CHARS:
                runs.add(encoded[start:end])
    return runs


def spellings(secret: str) -> set[str]:
    """``secret`` as it may be echoed: as is (matched ignoring case), URL-encoded, JSON-escaped and in base64, of
    the secret as given, in upper case and in lower case."""
    out: set[str] = set()
    for variant in {secret, secret.upper(), secret.lower()}:
        out |= {
            variant,
            quote(variant, safe=""),
            quote_plus(variant),
            json.dumps(variant)[1:-1],
            json.dumps(variant, ensure_ascii=False)[1:-1],
            variant.replace("/", "\\/"),
        }
        out |= _base64_runs(variant.encode("utf-8"))
    out.discard("")
    return out


def cookie_values(header: str) -> list[str]:
    """The values in a ``Cookie`` request header (``a=1; sid=...``)."""
    return [part.split("=", 1)[1].strip().strip('"') for part in header.split(";") if "=" in part]


def set_cookie_values(headers: Iterable[str]) -> list[str]:
    """The values set by ``Set-Cookie`` response headers (``sid=...; Path=/; HttpOnly``)."""
    return [value for header in headers for value in cookie_values(header.split(";", 1)[0])]


class Scrubber:
    """Replaces every spelling of the secrets it holds with ``<redacted>``."""

    def __init__(self, key: str = "", cookies: Iterable[str] = ()) -> None:
        self.key = key
        self.cookies = tuple(c for c in cookies if len(c) >= MIN_COOKIE_CHARS)
        forms = set(spellings(key)) if key else set()
        for cookie in self.cookies:
            forms |= spellings(cookie)
        # Longest first, so that a longer spelling is replaced whole before a shorter one inside it.
        alternatives = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE) if alternatives else None

    def with_cookies(self, cookies: Iterable[str]) -> "Scrubber":
        """This scrubber, also scrubbing ``cookies`` (the live endpoint's ``Set-Cookie`` values, once it answered)."""
        more = [c for c in cookies if len(c) >= MIN_COOKIE_CHARS and c not in self.cookies]
        return Scrubber(self.key, (*self.cookies, *more)) if more else self

    def text(self, text: str) -> str:
        """``text`` with every spelling of every secret replaced by ``<redacted>``: the one scrubbing function."""
        return self._pattern.sub(REDACTED, text) if self._pattern else text

    def json(self, value: Any) -> Any:
        """A parsed JSON value with ``text`` applied to every string in it, keys included (so an echo that was
        JSON-escaped character by character, ``\\u0061...``, is caught once decoded)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k): self.json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v) for v in value]
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self.text(value) for name, value in headers.items()}
