"""The hub contract (playground/hub/base.py), held to MemoryHub and, when Redis answers, RedisHub.

Each behaviour runs against three set-ups:

* ``memory``: one MemoryHub, the single-process default;
* ``redis``: one RedisHub, whose own watchers read the in-process log;
* ``redis-remote``: two RedisHubs on the same Redis, as two server processes: the
  generation runs on the first, the watcher (follow, control, a rival claim) is
  on the second, so everything it sees went through Redis.

Redis is database 13 on 127.0.0.1:6379, flushed before each test; never another.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from playground.hub import GenerationUnknownError, Hub
from playground.hub.memory import MemoryHub
from playground.hub.redis import CONTROL_CHANNEL, RedisHub

REDIS_URL = "redis://127.0.0.1:6379/13"
TTL = 1.0  # s a finished log is kept (short, so expiry is quick to see)
WAIT = 10  # s before a test gives up on an event that should come


def _redis_reachable() -> str | None:
    """None if Redis answers on db 13, else why not."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"Redis is not reachable at {REDIS_URL}: {exc}"
    return None


def _flush_db_13() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert client.connection_pool.connection_kwargs["db"] == 13
        client.flushdb()
    finally:
        client.close()


class Pair:
    """Where the generation runs (``owner``) and where someone watches it (``watcher``)."""

    def __init__(self, kind: str, owner: Hub, watcher: Hub) -> None:
        self.kind = kind
        self.owner = owner
        self.watcher = watcher

    @property
    def remote(self) -> bool:
        return self.owner is not self.watcher


@pytest.fixture(params=["memory", "redis", "redis-remote"])
async def hubs(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    kind: str = request.param
    if kind == "memory":
        hub = MemoryHub(ttl=TTL)
        yield Pair(kind, hub, hub)
        await hub.aclose()
        return
    reason = _redis_reachable()
    if reason is not None:
        pytest.skip(reason)
    _flush_db_13()
    owner = RedisHub(REDIS_URL, ttl=TTL)
    watcher = RedisHub(REDIS_URL, ttl=TTL) if kind == "redis-remote" else owner
    try:
        yield Pair(kind, owner, watcher)
    finally:
        await owner.aclose()
        if watcher is not owner:
            await watcher.aclose()


def ev(gen: str, seq: int, kind: str = "gen.delta", **fields: Any) -> dict[str, Any]:
    return {"v": 1, "type": kind, "gen": gen, "seq": seq, **fields}


async def nothing(action: str, payload: dict[str, Any]) -> None:
    return None


async def publish_all(hub: Hub, gen: str, seqs: range, *, done: bool = False) -> None:
    for seq in seqs:
        last = done and seq == seqs[-1]
        await hub.publish(gen, ev(gen, seq, "gen.done" if last else "gen.delta", text=str(seq)))


async def follow_all(hub: Hub, gen: str, after: int = 0) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [event async for event in hub.follow(gen, after)]

    return await asyncio.wait_for(run(), WAIT)


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


async def until(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not await predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def control_listening(pair: Pair) -> None:
    """On Redis, wait until the owner's control listener is subscribed."""
    if isinstance(pair.owner, RedisHub):

        async def subscribed() -> bool:
            counts = await pair.owner.redis.pubsub_numsub(CONTROL_CHANNEL)
            return bool(counts and counts[0][1] >= 1)

        await until(subscribed, "the control listener")


# --- claims -----------------------------------------------------------------------------


async def test_nothing_runs_in_a_playground_nobody_claimed(hubs: Pair) -> None:
    assert await hubs.owner.running("pg") is None
    assert await hubs.watcher.running("pg") is None


async def test_a_claim_holds_the_playground_against_a_rival_until_released(hubs: Pair) -> None:
    owner, rival = hubs.owner, hubs.watcher  # on redis-remote: the rival is another process
    assert await owner.claim("pg", "g_1") is None
    await owner.open("g_1", nothing)  # the service claims, then opens the log
    assert await owner.running("pg") == "g_1"
    assert await rival.running("pg") == "g_1"
    assert await rival.claim("pg", "g_2") == "g_1", "the rival learns who holds it"
    assert await owner.running("pg") == "g_1", "a refused claim changes nothing"

    await rival.release("pg", "g_2")  # not the holder: no effect
    assert await owner.running("pg") == "g_1"

    await owner.publish("g_1", ev("g_1", 1, "gen.done"))
    await owner.release("pg", "g_1")
    assert await owner.running("pg") is None
    assert await rival.running("pg") is None
    assert await rival.claim("pg", "g_2") is None
    await rival.open("g_2", nothing)
    assert await owner.running("pg") == "g_2"


async def test_claims_of_different_playgrounds_are_independent(hubs: Pair) -> None:
    for pg, gen in (("pg_a", "g_a"), ("pg_b", "g_b")):
        assert await hubs.owner.claim(pg, gen) is None
        await hubs.owner.open(gen, nothing)
    assert await hubs.watcher.running("pg_a") == "g_a"
    assert await hubs.watcher.running("pg_b") == "g_b"


async def test_refreshing_a_claim_keeps_it(hubs: Pair) -> None:
    assert await hubs.owner.claim("pg", "g_1") is None
    await hubs.owner.open("g_1", nothing)
    await hubs.owner.refresh_claim("pg", "g_1")
    await hubs.owner.refresh_claim("pg", "g_other")  # someone else's: ignored
    assert await hubs.watcher.running("pg") == "g_1"


# --- follow -----------------------------------------------------------------------------


async def test_follow_replays_from_after_then_tails_live_events(hubs: Pair) -> None:
    await hubs.owner.open("g", nothing)
    await publish_all(hubs.owner, "g", range(1, 6))
    follower = asyncio.create_task(follow_all(hubs.watcher, "g", after=2))
    await asyncio.sleep(0.05)
    assert not follower.done(), "a running generation's follow waits for more"
    await publish_all(hubs.owner, "g", range(6, 11), done=True)
    events = await follower
    assert seqs(events) == list(range(3, 11))
    assert [e["text"] for e in events] == [str(n) for n in range(3, 11)]
    assert events[-1]["type"] == "gen.done"


async def test_a_finished_generation_replays_whole_and_the_follow_ends(hubs: Pair) -> None:
    await hubs.owner.open("g", nothing)
    await publish_all(hubs.owner, "g", range(1, 4), done=True)
    assert seqs(await follow_all(hubs.watcher, "g")) == [1, 2, 3]
    assert seqs(await follow_all(hubs.watcher, "g", after=2)) == [3]


async def test_followers_joining_at_random_points_see_no_gap_and_no_duplicate(
    hubs: Pair,
) -> None:
    rng = random.Random(13)
    total = 300
    await hubs.owner.open("g", nothing)
    followers: list[tuple[int, asyncio.Task[list[dict[str, Any]]]]] = []
    for seq in range(1, total + 1):
        kind = "gen.done" if seq == total else "gen.delta"
        await hubs.owner.publish("g", ev("g", seq, kind))
        if seq % 37 == 0:
            after = rng.randint(0, seq)
            followers.append((after, asyncio.create_task(follow_all(hubs.watcher, "g", after))))
        if rng.random() < 0.2:
            await asyncio.sleep(0)
    for after, task in followers:
        assert seqs(await task) == list(range(after + 1, total + 1)), f"after={after}"


async def test_following_an_unknown_generation_raises_gen_unknown(hubs: Pair) -> None:
    with pytest.raises(GenerationUnknownError) as info:
        await follow_all(hubs.watcher, "g_never")
    assert info.value.gen == "g_never" and info.value.code == "gen.unknown"


# --- expiry -----------------------------------------------------------------------------


async def test_a_finished_log_is_kept_for_the_ttl_then_expires(hubs: Pair) -> None:
    await hubs.owner.open("g_old", nothing)
    await publish_all(hubs.owner, "g_old", range(1, 3), done=True)
    assert seqs(await follow_all(hubs.watcher, "g_old")) == [1, 2], "kept right after it ends"
    await asyncio.sleep(TTL + 0.6)
    await hubs.owner.open("g_next", nothing)  # the next generation; memory logs expire here
    with pytest.raises(GenerationUnknownError):
        await follow_all(hubs.watcher, "g_old")


async def test_a_running_log_does_not_expire(hubs: Pair) -> None:
    await hubs.owner.open("g_long", nothing)
    await hubs.owner.publish("g_long", ev("g_long", 1))
    await asyncio.sleep(TTL + 0.6)
    await hubs.owner.open("g_next", nothing)
    follower = asyncio.create_task(follow_all(hubs.watcher, "g_long"))
    await asyncio.sleep(0.05)
    await hubs.owner.publish("g_long", ev("g_long", 2, "gen.done"))
    assert seqs(await follower) == [1, 2]


async def test_a_sub_second_ttl_keeps_a_finished_redis_log_for_that_long(hubs: Pair) -> None:
    if not isinstance(hubs.owner, RedisHub):
        pytest.skip("how Redis expires a stream")
    owner = RedisHub(REDIS_URL, ttl=0.4)
    try:
        await owner.open("g_short", nothing)
        await owner.publish("g_short", ev("g_short", 1, "gen.done"))
        left = await owner.redis.pttl("flint:gen:g_short")
        assert 0 < left <= 400, f"{left} ms left"
        assert seqs(await follow_all(hubs.watcher, "g_short")) == [1]
    finally:
        await owner.aclose()


# --- watched_since ----------------------------------------------------------------------


async def test_watched_since_tells_how_long_nobody_has_watched(hubs: Pair) -> None:
    assert await hubs.owner.watched_since("g_never") is None
    before_open = time.monotonic()
    await hubs.owner.open("g", nothing)
    await hubs.owner.publish("g", ev("g", 1))
    unwatched = await hubs.owner.watched_since("g")
    assert unwatched is not None and before_open <= unwatched <= time.monotonic()
    await asyncio.sleep(0.05)
    assert await hubs.owner.watched_since("g") == unwatched, "nobody watched since"

    follower = asyncio.create_task(follow_all(hubs.watcher, "g"))
    await asyncio.sleep(0.2)  # the follower has read seq 1 and waits for more

    async def watched_now() -> bool:
        since = await hubs.owner.watched_since("g")
        return since is not None and time.monotonic() - since < 0.05

    await until(watched_now, "the follower to count as watching")

    await hubs.owner.publish("g", ev("g", 2, "gen.done"))
    await follower
    stopped = time.monotonic()
    since = await hubs.owner.watched_since("g")
    assert since is not None and since >= unwatched
    if not hubs.remote:
        # A remote watcher's mark lingers up to WATCH_TTL; a local one is exact.
        assert since <= stopped
        await asyncio.sleep(0.05)
        assert await hubs.owner.watched_since("g") == since


# --- control ----------------------------------------------------------------------------


async def test_control_reaches_the_generations_handler(hubs: Pair) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    async def handler(action: str, payload: dict[str, Any]) -> None:
        calls.append((action, payload))

    await hubs.owner.open("g", handler)
    await hubs.owner.publish("g", ev("g", 1, "gen.started"))
    await control_listening(hubs)
    assert await hubs.watcher.control("g", "steer", {"instruction": "use flexbox"}) is True
    assert await hubs.watcher.control("g", "stop", {}) is True

    async def both_arrived() -> bool:
        return len(calls) == 2

    await until(both_arrived, "the handler to be called")
    assert calls == [("steer", {"instruction": "use flexbox"}), ("stop", {})]


async def test_control_of_a_generation_without_a_handler_is_refused(hubs: Pair) -> None:
    await hubs.owner.open("g", nothing)
    await hubs.owner.publish("g", ev("g", 1, "gen.started"))
    await control_listening(hubs)
    assert await hubs.watcher.control("g_never", "stop", {}) is False
    await hubs.owner.publish("g", ev("g", 2, "gen.done"))
    assert await hubs.watcher.control("g", "stop", {}) is False, "a finished one has none"


async def test_concurrent_generations_share_redis_round_trips(hubs: Pair) -> None:
    """Issue #15: frames published while a batch is in flight go out together, in order."""
    if not isinstance(hubs.owner, RedisHub):
        pytest.skip("a Redis batching test")
    owner = hubs.owner
    gens = [f"g_batch{i}" for i in range(20)]
    for gen in gens:
        await owner.open(gen, nothing)
    executes = 0
    pipeline = owner.redis.pipeline

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal executes
        executes += 1
        return pipeline(*args, **kwargs)

    owner.redis.pipeline = counting  # type: ignore[method-assign]
    await asyncio.gather(*(publish_all(owner, g, range(1, 11), done=True) for g in gens))
    assert executes < 20 * 10 / 2, f"{executes} round trips for 200 events"
    remote = RedisHub(REDIS_URL, ttl=TTL)
    try:
        for gen in gens:
            events = [e async for e in remote._follow_remote(gen, 0)]
            assert seqs(events) == list(range(1, 11)) and events[-1]["type"] == "gen.done"
    finally:
        await remote.aclose()
