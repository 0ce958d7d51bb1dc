"""Per-user and per-IP limits, over the socket and over HTTP, in memory and in Redis."""

from __future__ import annotations

import orjson
import pytest
from django.test import AsyncClient, override_settings

from playground.generations.quotas import limiters
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.socket.test_consumer import OWNER, connect, start, until_done

pytestmark = [pytest.mark.django_db(transaction=True)]

TIGHT = {
    "generations_user": "2 per minute",
    "generations_ip": "100 per minute",
    "tokens_user": "1000 per hour",
    "tokens_ip": "100000 per hour",
}


@pytest.fixture(params=["memory", "redis"])
def limits_store(request: pytest.FixtureRequest, use_upstream: ScriptedUpstream):
    redis_url = "redis://127.0.0.1:6379/15" if request.param == "redis" else ""
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    limiters.reset()
    with override_settings(FLINT_LIMITS=TIGHT, FLINT_REDIS_URL=redis_url):
        yield request.param


async def test_a_user_over_the_generation_limit_is_refused_with_retry_after(
    limits_store: str, use_upstream: ScriptedUpstream
) -> None:
    comm = await connect()
    for _ in range(2):
        use_upstream.script(Reply(text="ok"))
        await comm.send_json_to(start())
        events = await until_done(comm)
        assert events[-1]["reason"] == "stop"
    await comm.send_json_to(start())
    err = await comm.receive_json_from()
    assert err["code"] == "rate.limited" and err["retryable"] is True
    assert 1 <= err["retry_after"] <= 60
    assert (
        err["detail"] == {"limit": "generations", "scope": "ip"}
        or err["detail"]["limit"] == "generations"
    )
    await comm.disconnect()


async def test_the_remaining_allowance_is_shown_and_tokens_are_charged(
    limits_store: str, use_upstream: ScriptedUpstream
) -> None:
    comm = await connect()
    use_upstream.script(Reply(lorem=300))
    await comm.send_json_to(start())
    events = await until_done(comm)
    assert sum(e.get("tokens", 0) for e in events if e["type"] == "gen.delta") == 300
    await comm.disconnect()
    comm = await connect()
    # connect() read session.ready; a fresh generation ends with the allowance.
    use_upstream.script(Reply(lorem=800))
    await comm.send_json_to(start())
    await until_done(comm)
    await comm.send_json_to(start())
    err = await comm.receive_json_from()
    assert err["code"] == "rate.limited" and err["detail"]["limit"] in ("tokens", "generations")
    await comm.disconnect()


async def test_the_http_endpoint_shares_the_limits(
    limits_store: str, use_upstream: ScriptedUpstream
) -> None:
    from tests.web.test_api import new_playground

    pid = await new_playground()
    body = orjson.dumps({"type": "gen.start", "instruction": "x", "files": {"a.py": "x = 1\n"}})
    client = AsyncClient()
    client.cookies["flint_owner"] = OWNER
    for _ in range(2):
        use_upstream.script(Reply(text="ok"))
        resp = await client.post(f"/api/p/{pid}/generate", body, content_type="application/json")
        assert resp.status_code == 200
        b"".join([c async for c in resp.streaming_content])
    resp = await client.post(f"/api/p/{pid}/generate", body, content_type="application/json")
    assert resp.status_code == 429 and int(resp["Retry-After"]) >= 1
    assert orjson.loads(resp.content)["code"] == "rate.limited"


async def test_hundreds_of_sockets_asking_at_once_wait_for_a_connection_instead_of_failing(
    limits_store: str,
) -> None:
    # Each allowance reads four windows at once; 400 sockets opening together (a class
    # arriving, the scaled benchmark) ran redis-py's pool out of connections, and the
    # error closed their sockets. They now queue for one of a bounded set.
    import asyncio

    from playground.generations.quotas import get_limiter

    limiter = get_limiter()
    answers = await asyncio.gather(
        *(limiter.allowance(f"browser-{i}", f"10.0.{i // 250}.{i % 250}") for i in range(400))
    )
    assert len(answers) == 400 and all(a == answers[0] for a in answers)  # all fresh browsers
