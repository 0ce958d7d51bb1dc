"""The socket's cached owner check: one database read, until ownership changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import override_settings

from playground import persistence
from playground.models import Playground
from playground.persistence import access
from tests.socket.test_consumer import OWNER, connect

pytestmark = [pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The database owner checks made (playground ids), in order."""
    made: list[str] = []
    real = access.access_check

    async def counted(playground_id: str, token: str | None, user: Any = None) -> Any:
        made.append(playground_id)
        return await real(playground_id, token, user)

    monkeypatch.setattr(access, "access_check", counted)
    return made


async def write(comm: Any) -> str:
    """A write that changes nothing (stop with nothing running): the error code it gets."""
    await comm.send_json_to({"type": "gen.stop"})
    return str((await comm.receive_json_from(timeout=5))["code"])


async def test_repeated_writes_check_the_database_once(checks: list[str]) -> None:
    comm = await connect()
    for _ in range(5):
        assert await write(comm) == "gen.not_running"
    await comm.disconnect()
    assert len(checks) == 1


async def test_a_revoked_capability_takes_effect_on_the_next_write(checks: list[str]) -> None:
    comm = await connect()
    assert await write(comm) == "gen.not_running"
    pid = comm.ready["playground"]  # type: ignore[attr-defined]

    @database_sync_to_async
    def revoke() -> None:
        Playground.objects.filter(id=pid).update(owner_hash="")
        persistence.ownership_changed(pid)

    await revoke()
    assert await write(comm) == "auth.forbidden"
    assert await write(comm) == "auth.forbidden"
    await comm.disconnect()
    assert len(checks) == 2


async def test_a_claim_makes_the_next_write_check_again(checks: list[str]) -> None:
    comm = await connect()
    assert await write(comm) == "gen.not_running"
    pid = comm.ready["playground"]  # type: ignore[attr-defined]

    @database_sync_to_async
    def claim() -> None:
        user = get_user_model().objects.create_user("ada", password="x")
        persistence.playground_claim(pid, OWNER, user)

    await claim()
    assert await write(comm) == "gen.not_running"  # the cookie still owns it
    await comm.disconnect()
    assert len(checks) == 2, "the claim did not invalidate the cached answer"


async def test_a_change_inside_a_transaction_moves_the_stamp_after_commit() -> None:
    comm = await connect()
    pid = comm.ready["playground"]  # type: ignore[attr-defined]
    seen: list[object] = []

    @database_sync_to_async
    def change() -> None:
        from django.db import transaction

        with transaction.atomic():
            Playground.objects.filter(id=pid).update(owner_hash="")
            persistence.ownership_changed(pid)
            seen.append(access._stamps.get(pid, 0))  # not moved before the commit
        seen.append(access._stamps.get(pid, 0))

    await change()
    await comm.disconnect()
    assert seen[1] != seen[0]


async def test_a_cached_answer_is_checked_again_after_the_recheck_interval(
    checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    comm = await connect()
    assert await write(comm) == "gen.not_running"
    monkeypatch.setattr(access, "OWNER_RECHECK", 0.0)
    assert await write(comm) == "gen.not_running"
    await comm.disconnect()
    assert len(checks) == 2


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client.flushdb()
    with override_settings(FLINT_REDIS_URL=REDIS_URL):
        yield client
    client.flushdb()
    client.close()


async def test_with_redis_a_change_on_another_process_takes_effect(
    checks: list[str], redis_db: redis.Redis
) -> None:
    comm = await connect()
    assert await write(comm) == "gen.not_running"
    assert await write(comm) == "gen.not_running"
    assert len(checks) == 1
    pid = comm.ready["playground"]  # type: ignore[attr-defined]

    @database_sync_to_async
    def revoke_elsewhere() -> None:
        Playground.objects.filter(id=pid).update(owner_hash="")
        # What ownership_changed does on another process: only the shared stamp moves.
        redis_db.incr(access._STAMP_KEY + pid)

    await revoke_elsewhere()
    assert await write(comm) == "auth.forbidden"
    await comm.disconnect()
