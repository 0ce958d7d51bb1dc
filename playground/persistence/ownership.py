"""Ownership without sign-up: the creator's browser holds a capability token.

The token lives only in the ``flint_owner`` cookie; the database keeps its
SHA-256, so a leaked database does not hand out write access. One token per
browser owns every playground that browser creates, forks or imports.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse

OWNER_COOKIE = "flint_owner"
OWNER_COOKIE_MAX_AGE = 365 * 24 * 3600  # one year
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")


def new_owner_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def hash_owner_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def owner_hash_matches(stored_hash: str, token: str | None) -> bool:
    """Constant-time comparison; an empty stored hash (no owner) never matches."""
    if not stored_hash or not token or not _TOKEN_SHAPE.fullmatch(token):
        return False
    return hmac.compare_digest(stored_hash, hash_owner_token(token))


def owner_token_from(cookies: Mapping[str, object]) -> str | None:
    """The owner token in these cookies, if it looks like one of ours."""
    token = cookies.get(OWNER_COOKIE)
    return token if isinstance(token, str) and _TOKEN_SHAPE.fullmatch(token) else None


def request_owner_token(request: HttpRequest) -> str | None:
    """The owner token the request carries (HTTP; the socket reads its scope's cookies)."""
    return owner_token_from(request.COOKIES)


def ensure_owner_token(request: HttpRequest) -> tuple[str, bool]:
    """The request's token, or a new one; the flag says it must be set on the response."""
    token = request_owner_token(request)
    return (token, False) if token else (new_owner_token(), True)


def set_owner_cookie(request: HttpRequest, response: HttpResponse, token: str) -> None:
    response.set_cookie(
        OWNER_COOKIE,
        token,
        max_age=OWNER_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
