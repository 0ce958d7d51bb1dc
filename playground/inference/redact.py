"""Keep credentials out of what Flint shows, logs and stores.

Upstream text (an error message inside the stream, an error body) is written by
someone else and may quote the request back, ``Authorization: Bearer <key>``
included. Before any of it reaches a page, a log line or a stored answer it goes
through ``redact``: the configured key (exactly, wherever it appears) and
anything shaped like a credential are replaced by ``[redacted]``.

The model's answer is code, where ``sk-`` or ``Bearer`` can be legitimate text,
so it is scrubbed of the configured key only, by ``KeyFilter`` (the key may be
split across two network reads). Pure: no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
MAX_UPSTREAM_MESSAGE = 300  # characters of upstream prose quoted to the user

# Credential shapes: a credential header or field and its value (label kept),
# a bearer token (one with a digit in it: prose words have none), OpenAI-style
# keys (sk-…, sk-proj-…) and other providers' prefixed keys.
_SHAPES = re.compile(
    r"(?P<label>(?i:\b(?:proxy-)?authorization|\bx-api-key|\bapi[_-]?key|\baccess[_-]?token)"
    r"[\"']?\s*[:=]\s*[\"']?)(?:(?i:bearer|basic|token)\s+)?[^\s\"',;}]+"
    r"|(?P<scheme>(?i:\bbearer\s+))(?=\S*\d)[A-Za-z0-9._~+/=-]{8,}"
    r"|\bsk-[A-Za-z0-9_-]{6,}"
    r"|\b(?:gsk|xai|csk|hf|ghp|gho|glpat)_[A-Za-z0-9_-]{16,}"
)


def redact(text: str, secrets: Iterable[str] = (), *, limit: int | None = None) -> str:
    """``text`` with every secret and credential-shaped run replaced; cut to ``limit``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _SHAPES.sub(_replacement, text)
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip() + "…"
    return text


def _replacement(match: re.Match[str]) -> str:
    # "Authorization: Bearer sk-…" -> "Authorization: [redacted]": the label
    # stays, so the message still says what was there.
    return (match.group("label") or match.group("scheme") or "") + REDACTED


class KeyFilter:
    """Removes one secret from a stream of text pieces, even when split across them.

    ``feed`` returns what is safe to pass on now and holds back a tail that
    could be the start of the secret; ``flush`` returns the held-back tail at
    the end. With no secret, text passes through untouched (no cost).
    """

    __slots__ = ("_held", "_secret")

    def __init__(self, secret: str) -> None:
        self._secret = secret if len(secret) >= 4 else ""
        self._held = ""

    def feed(self, text: str) -> str:
        if not self._secret:
            return text
        text = (self._held + text).replace(self._secret, REDACTED)
        self._held = ""
        # Hold back the longest tail that is a proper prefix of the secret.
        for n in range(min(len(self._secret) - 1, len(text)), 0, -1):
            if self._secret.startswith(text[-n:]):
                self._held = text[-n:]
                return text[:-n]
        return text

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held
