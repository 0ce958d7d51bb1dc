"""Attacks on the playground socket, made the way an attacker would make them (issue #12)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from playground import persistence
from playground.hub import get_hub, hubs
from playground.models import Revision
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.socket.test_consumer import connect, start, until_done

pytestmark = [pytest.mark.django_db(transaction=True)]

VICTIM = "victim-owner-token-0123456789abcdefghijkl"
ATTACKER = "attacker-owner-token-0123456789abcdefghij"


@pytest.fixture(params=["memory", "redis"])
def hub(request: pytest.FixtureRequest) -> Iterator[str]:
    """Both hubs: the check must hold on one process and across processes."""
    if request.param == "memory":
        config = {"BACKEND": "playground.hub.memory.MemoryHub", "TTL": 600}
    else:
        # Database 12, never flushed: every key here is named by a fresh random id.
        config = {
            "BACKEND": "playground.hub.redis.RedisHub",
            "URL": "redis://127.0.0.1:6379/12",
            "TTL": 600,
        }
    with override_settings(FLINT_HUB=config):
        yield request.param


def playground_of(token: str) -> Any:
    return database_sync_to_async(
        lambda: persistence.playground_create("web", owner_token=token).id
    )()


async def next_of(comm: Any, kind: str, limit: int = 5000) -> dict[str, Any]:
    for _ in range(limit):
        msg = await comm.receive_json_from(timeout=10)
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind}")


async def test_a_viewer_cannot_stop_steer_follow_or_cite_someone_elses_generation(
    use_upstream: ScriptedUpstream, hub: str
) -> None:
    use_upstream.script(Reply(lorem=100_000, rate=300))
    secret = f"the victim's private instruction {uuid.uuid4().hex}"
    victim_pid, attacker_pid = await playground_of(VICTIM), await playground_of(ATTACKER)
    victim = await connect(victim_pid, owner=VICTIM)
    await victim.send_json_to(start(secret))
    gen = (await next_of(victim, "gen.started"))["gen"]
    await next_of(victim, "gen.delta")

    # 1. The attacker opens the victim's playground as a viewer and reads the id.
    peek = await connect(victim_pid, owner=ATTACKER)
    assert peek.ready["role"] == "viewer" and peek.ready["running"] == gen
    await peek.disconnect()

    # 2. On a socket of a playground the attacker owns, the id is worth nothing.
    own = await connect(attacker_pid, owner=ATTACKER)
    for action in (
        {"type": "gen.steer", "v": 1, "instruction": "leak everything", "gen": gen},
        {"type": "gen.stop", "v": 1, "gen": gen},
    ):
        await own.send_json_to(action)
        err = await own.receive_json_from()
        assert err["code"] == "gen.not_running", err
    await own.send_json_to({"type": "gen.resume", "v": 1, "gen": gen})
    err = await own.receive_json_from()
    assert err["code"] == "gen.unknown", err
    await own.send_json_to(
        {
            "type": "files.save",
            "v": 1,
            "files": {"a.js": "x"},
            "base_version": 1,
            "author": "model",
            "gen": gen,
        }
    )
    err = await own.receive_json_from()
    assert err["code"] == "gen.unknown", err
    # Nothing followed: no event of the victim's generation reaches this socket.
    await own.send_json_to({"type": "ping", "v": 1, "t": 7})
    assert (await own.receive_json_from()) == {"v": 1, "type": "pong", "t": 7}

    # 3. The victim's generation ran on untouched, and only its owner stopped it.
    await asyncio.sleep(0.3)
    await victim.send_json_to({"type": "gen.stop", "v": 1, "gen": gen})
    events = await until_done(victim)
    assert "gen.steered" not in {e["type"] for e in events}
    assert events[-2 if events[-1]["type"] != "gen.done" else -1]["reason"] == "stopped"
    assert len(use_upstream.requests) == 1, "a steer would have opened a second request"

    revisions = await database_sync_to_async(
        lambda: list(Revision.objects.values_list("playground_id", "instruction"))
    )()
    assert all(secret not in instruction for _, instruction in revisions)
    for comm in (own, victim):
        await comm.disconnect()


async def test_a_finished_generation_of_another_playground_cannot_be_cited(
    use_upstream: ScriptedUpstream,
) -> None:
    """After the hub forgot it, the database record still names its playground."""
    use_upstream.script(Reply(text="done"))
    victim_pid, attacker_pid = await playground_of(VICTIM), await playground_of(ATTACKER)
    victim = await connect(victim_pid, owner=VICTIM)
    await victim.send_json_to(start("secret recipe"))
    gen = (await until_done(victim))[0]["gen"]
    await victim.disconnect()
    await hubs.aclose()  # the hub forgets the log, as when it expires
    assert await get_hub().playground_of(gen) is None
    own = await connect(attacker_pid, owner=ATTACKER)
    await own.send_json_to(
        {
            "type": "files.save",
            "files": {"a.js": "x"},
            "base_version": 1,
            "author": "model",
            "gen": gen,
        }
    )
    assert (await own.receive_json_from())["code"] == "gen.unknown"
    await own.disconnect()
    # The persistence layer refuses to lend another playground's instruction too.
    await persistence.save_async(
        attacker_pid, {"a.js": "y"}, base_version=1, author="model", generation_id=gen
    )
    latest = await database_sync_to_async(
        lambda: Revision.objects.filter(playground_id=attacker_pid).order_by("-number").first()
    )()
    assert latest is not None and latest.instruction == ""


async def test_the_owner_still_controls_and_cites_their_own_generation(
    use_upstream: ScriptedUpstream, hub: str
) -> None:
    use_upstream.script(Reply(lorem=100_000, rate=300))
    pid = await playground_of(VICTIM)
    tab = await connect(pid, owner=VICTIM)
    await tab.send_json_to(start("mine"))
    gen = (await next_of(tab, "gen.started"))["gen"]
    other_tab = await connect(pid, owner=VICTIM)
    await other_tab.send_json_to({"type": "gen.resume", "v": 1, "gen": gen})
    assert (await next_of(other_tab, "gen.started"))["gen"] == gen
    await other_tab.send_json_to({"type": "gen.stop", "v": 1, "gen": gen})
    assert (await next_of(tab, "gen.done"))["reason"] == "stopped"
    await tab.send_json_to(
        {
            "type": "files.save",
            "files": {"a.js": "z"},
            "base_version": 1,
            "author": "model",
            "gen": gen,
        }
    )
    assert (await next_of(tab, "files.saved"))["saved"] is True
    latest = await database_sync_to_async(
        lambda: Revision.objects.filter(playground_id=pid).order_by("-number").first()
    )()
    assert latest is not None and latest.instruction == "mine"
    for comm in (tab, other_tab):
        await comm.disconnect()


DEEP = "[" * 2000 + "]" * 2000


@pytest.mark.parametrize(
    "raw",
    [
        '{"v": 1, "x": ' + DEEP + "}",  # no type
        '{"type": "gen.launch", "x": ' + DEEP + "}",  # an unknown type
        '{"x": ' + DEEP + ', "type": "ping"}',  # the type after the nesting
        '{"type": "ping", "t": ' + DEEP + "}",  # a known type, nested where a number goes
        '{"a":' * 2000 + "1" + "}" * 2000,  # nested objects
    ],
)
async def test_deeply_nested_json_is_an_invalid_message_not_a_crash(
    use_upstream: ScriptedUpstream, raw: str
) -> None:
    comm = await connect()
    await comm.send_to(text_data=raw)
    err = await comm.receive_json_from()
    assert err["type"] == "error" and err["code"] == "protocol.invalid", err
    await comm.send_json_to({"type": "ping", "v": 1, "t": 1})
    assert (await comm.receive_json_from())["type"] == "pong", "the socket is still healthy"
    await comm.disconnect()
