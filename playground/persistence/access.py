"""Who may do what: the one ownership check, for the socket and for HTTP.

Ownership without sign-up: the creator's browser holds a capability token in
the ``flint_owner`` cookie (persistence/ownership.py); a signed-in account that
claimed the playground owns it too. Every mutating request is authorised when
it arrives, not only when a socket connects, so a capability revoked or a
playground claimed meanwhile takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from playground.models import Playground
from playground.persistence.ownership import owner_hash_matches, owner_token_from


@dataclass(frozen=True)
class Access:
    """A playground as one requester sees it: its version, and whether they own it."""

    version: int
    owner: bool


def is_owner(playground: Playground, token: str | None, user: Any = None) -> bool:
    """True for the holder of the creator's cookie token, or the claiming account."""
    if (
        user is not None
        and user.is_authenticated
        and playground.owner_user_id is not None
        and playground.owner_user_id == user.pk
    ):
        return True
    return owner_hash_matches(playground.owner_hash, token)


def access_of(playground_id: str, token: str | None, user: Any = None) -> Access | None:
    """How ``token`` (or ``user``) may use the playground; None if there is no such playground."""
    row = (
        Playground.objects.filter(id=playground_id)
        .values("owner_hash", "owner_user_id", "version")
        .first()
    )
    if row is None:
        return None
    by_account = (
        user is not None
        and user.is_authenticated
        and row["owner_user_id"] is not None
        and row["owner_user_id"] == user.pk
    )
    return Access(row["version"], by_account or owner_hash_matches(row["owner_hash"], token))


# The socket's and the async HTTP endpoint's way in: one thread hop, one query.
access_check = database_sync_to_async(access_of)


def scope_owner_token(scope: dict[str, Any]) -> str | None:
    """The owner token a socket's handshake carried in its cookies."""
    return owner_token_from(scope.get("cookies", {}))
