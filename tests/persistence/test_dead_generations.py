"""Records left running by a dead process are closed at start-up, live ones are not (#12)."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.test import override_settings
from django.utils import timezone

from flint.serving import close_dead_generations
from playground import persistence
from playground.hub.redis import claim_key
from playground.models import GenerationRecord

pytestmark = [pytest.mark.django_db]
REDIS_URL = "redis://127.0.0.1:6379/12"  # never flushed: keys named by random ids


def running(pid: str) -> str:
    gen = "g_" + uuid.uuid4().hex
    persistence.generation_begin(pid, gen, "go")
    return gen


def test_on_the_memory_hub_every_record_running_at_start_up_is_dead() -> None:
    pid = persistence.playground_create("web").id
    a, b = running(pid), running(pid)
    assert close_dead_generations() == 2
    for gen in (a, b):
        record = GenerationRecord.objects.get(id=gen)
        assert record.status == "error" and record.stats["ended"] == "server_restart"
        assert record.finished_at is not None
    assert persistence.generation_died_in_restart(a)


def test_with_redis_a_record_another_process_still_claims_is_left_running() -> None:
    pid_live, pid_dead = (persistence.playground_create("web").id for _ in range(2))
    live, dead = running(pid_live), running(pid_dead)
    client = redis.Redis.from_url(REDIS_URL)
    client.set(claim_key(pid_live), live, ex=60)
    try:
        hub = {"BACKEND": "playground.hub.redis.RedisHub", "URL": REDIS_URL, "TTL": 600}
        with override_settings(FLINT_HUB=hub):
            assert close_dead_generations() == 1
    finally:
        client.delete(claim_key(pid_live))
        client.close()
    assert GenerationRecord.objects.get(id=live).status == "running"
    assert GenerationRecord.objects.get(id=dead).status == "error"


def test_records_begun_after_start_up_are_not_touched() -> None:
    pid = persistence.playground_create("web").id
    before = timezone.now()
    gen = running(pid)
    assert persistence.generations_close_dead(before) == 0
    assert GenerationRecord.objects.get(id=gen).status == "running"
