"""Who may do what: the one ownership check, for the socket and for HTTP.

Ownership without sign-up: the creator's browser holds a capability token in
the ``flint_owner`` cookie (persistence/ownership.py); a signed-in account that
claimed the playground owns it too. Every mutating request is authorised when
it arrives, not only when a socket connects, so a capability revoked or a
playground claimed meanwhile takes effect at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction

from playground.models import Playground
from playground.persistence.ownership import owner_hash_matches, owner_token_from
from playground.persistence.retry import once_more_on_lost_connection
from playground.registry import PerLoop, redis_retry


@dataclass(frozen=True)
class Access:
    """A playground as one requester sees it: its version, whether they own it, and the
    model chosen for it (persistence/choice.py; "" = the server's default)."""

    version: int
    owner: bool
    model: str = ""
    model_endpoint: str = ""


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
        .values("owner_hash", "owner_user_id", "version", "model", "model_endpoint")
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
    return Access(
        row["version"],
        by_account or owner_hash_matches(row["owner_hash"], token),
        row["model"],
        row["model_endpoint"],
    )


# The socket's and the async HTTP endpoint's way in: one thread hop, one query.
# A read: after a broken connection (a database restart) it is simply made again.
access_check = database_sync_to_async(once_more_on_lost_connection(access_of))


def scope_owner_token(scope: dict[str, Any]) -> str | None:
    """The owner token a socket's handshake carried in its cookies."""
    return owner_token_from(scope.get("cookies", {}))


# --- ownership stamps: what lets a socket cache its owner check ------------------------
#
# A counter per playground, bumped after every committed change of who owns it (a
# claim; a revoked capability). A socket keeps the answer of its last check with the
# stamp it read *before* that check, and asks the database again only when the stamp
# has moved: so a change takes effect on the very next write, and a write that
# changes nothing costs a dict lookup (one Redis GET with REDIS_URL, where the stamp
# is shared by every process) instead of a thread hop and a query. Anything that
# changes ``owner_hash`` or ``owner_user`` must call ``ownership_changed``; as a
# safety net for changes made behind Flint's back (an admin's SQL), a cached answer
# is also re-checked after OWNER_RECHECK seconds.

OWNER_RECHECK = 60.0
_STAMP_KEY = "flint:owner-stamp:"
_stamps: dict[str, int] = {}
_stamps_lock = threading.Lock()
_sync_redis: dict[str, redis.Redis] = {}


def _bump(playground_id: str) -> None:
    with _stamps_lock:
        _stamps[playground_id] = _stamps.get(playground_id, 0) + 1
    url = settings.FLINT_REDIS_URL
    if url:
        client = _sync_redis.get(url)
        if client is None:
            client = _sync_redis[url] = redis.Redis.from_url(url)
        client.incr(_STAMP_KEY + playground_id)


def ownership_changed(playground_id: str) -> None:
    """Say that who owns the playground changed: cached owner checks are re-made.

    Call it from the code that made the change (sync, inside or outside a transaction:
    the stamp moves once the change is committed, so no check can cache the old row
    under the new stamp).
    """
    transaction.on_commit(lambda: _bump(playground_id))


def _redis_client(url: str) -> aioredis.Redis:
    return aioredis.Redis.from_url(url, retry=redis_retry())


async def _close_redis(client: aioredis.Redis) -> None:
    await client.aclose()


_async_redis: PerLoop[aioredis.Redis] = PerLoop(
    "ownership stamps", _redis_client, settings=("FLINT_REDIS_URL",), close=_close_redis
)


async def ownership_stamp(playground_id: str) -> object:
    """The playground's ownership stamp now (compare with ``==`` only)."""
    local = _stamps.get(playground_id, 0)
    url = settings.FLINT_REDIS_URL
    if not url:
        return local
    shared = await _async_redis.get(url).get(_STAMP_KEY + playground_id)
    return (local, shared)


class OwnerCheck:
    """One socket's "may this browser write here?", cached until ownership changes."""

    __slots__ = ("_at", "_owner", "_stamp", "access", "playground_id", "token")

    def __init__(self, playground_id: str, token: str | None) -> None:
        self.playground_id = playground_id
        self.token = token
        self._owner: bool | None = None
        self._stamp: object = None
        self._at = 0.0
        # The row as last read: its model choice too, so a choice made on another
        # server process (which moves the stamp: persistence/choice.py) is seen here
        # by the next write, with no query of its own.
        self.access: Access | None = None

    async def owner(self) -> bool:
        stamp = await ownership_stamp(self.playground_id)  # before the check, not after
        now = time.monotonic()
        if self._owner is not None and stamp == self._stamp and now - self._at < OWNER_RECHECK:
            return self._owner
        state = await access_check(self.playground_id, self.token)
        self._owner, self._stamp, self._at = bool(state and state.owner), stamp, now
        self.access = state
        return self._owner
