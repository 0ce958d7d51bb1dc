"""A turn's record: one write when it ends, begun first only if it runs long (#13, #12)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from playground import persistence
from playground.models import GenerationRecord
from playground.persistence import records

# The record writer has a thread (and a database connection) of its own: it sees
# only committed rows.
pytestmark = [pytest.mark.django_db(transaction=True)]

STATS = {"tokens": 3, "ttft_ms": 1.0}
EVENTS = [{"event": "text", "text": "ok\x00"}, {"event": "done", "reason": "stop"}]


@pytest.fixture
def pid() -> str:
    return persistence.playground_create("python").id


def get(gen: str) -> GenerationRecord | None:
    return GenerationRecord.objects.filter(id=gen).first()


class Spy:
    """The jobs the record writer is handed (still written)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.jobs: list[Any] = []
        submit = records.records.submit

        def spy(job: Any) -> None:
            self.jobs.append(job)
            submit(job)

        monkeypatch.setattr(records.records, "submit", spy)


async def test_a_short_turn_is_one_insert_after_it_ends(
    pid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    turn = persistence.TurnRecord(pid, "g_short", "make it blue")
    await asyncio.sleep(0.01)
    assert spy.jobs == []  # nothing written while it runs
    turn.finish("Done.", "stop", STATS, EVENTS)
    assert await persistence.records_flushed()
    assert [(job.end is not None, job.begun) for job in spy.jobs] == [(True, False)]
    record = await database_sync_to_async(get)("g_short")
    assert record is not None
    assert (record.instruction, record.answer, record.status) == ("make it blue", "Done.", "done")
    assert record.stats == STATS
    assert record.events[0] == {"event": "text", "text": "ok\ufffd"}  # no NUL in jsonb
    assert record.finished_at is not None and record.created_at <= record.finished_at
    await asyncio.sleep(records.BEGIN_AFTER + 0.1)
    assert len(spy.jobs) == 1  # the begin timer was cancelled


async def test_a_long_turn_has_its_record_begun_then_finished(
    pid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "BEGIN_AFTER", 0.05)
    spy = Spy(monkeypatch)
    turn = persistence.TurnRecord(pid, "g_long", "write a lot")
    await asyncio.sleep(0.15)
    assert await persistence.records_flushed()
    record = await database_sync_to_async(get)("g_long")
    assert record is not None and record.status == "running"  # what a crash leaves
    assert await database_sync_to_async(persistence.generation_died_in_restart)("g_long")
    turn.finish("All of it.", "stopped", STATS, EVENTS)
    assert await persistence.records_flushed()
    assert [(job.end is not None, job.begun) for job in spy.jobs] == [(False, False), (True, True)]
    record = await database_sync_to_async(get)("g_long")
    assert record is not None
    assert (record.answer, record.status, record.instruction) == (
        "All of it.",
        "stopped",
        "write a lot",
    )
    assert record.created_at < record.finished_at  # type: ignore[operator]


async def test_a_failed_begin_still_leaves_the_finished_record(pid: str) -> None:
    job = records._Job("p_missing", "g_orphan", "x", records.timezone.now())
    records.records.submit(job)  # its playground does not exist: the write fails, logged
    turn = persistence.TurnRecord(pid, "g_next", "next")
    turn.begun = True  # as if its begin had been lost: the end falls back to an INSERT
    turn.finish("fine", "stop", STATS, EVENTS)
    assert await persistence.records_flushed()
    record = await database_sync_to_async(get)("g_next")
    assert record is not None and record.status == "done"
    assert await database_sync_to_async(get)("g_orphan") is None


async def test_records_that_queue_up_are_written_together(pid: str) -> None:
    turns = [persistence.TurnRecord(pid, f"g_b{i}", f"turn {i}") for i in range(20)]
    for i, turn in enumerate(turns):
        turn.finish(f"answer {i}", "stop", STATS, EVENTS)
    assert await persistence.records_flushed()
    answers = await database_sync_to_async(
        lambda: dict(GenerationRecord.objects.filter(playground_id=pid).values_list("id", "answer"))
    )()
    assert answers == {f"g_b{i}": f"answer {i}" for i in range(20)}


async def test_until_written_a_save_finds_the_instruction(pid: str) -> None:
    turn = persistence.TurnRecord(pid, "g_pending", "the instruction")
    pending = persistence.pending.unrecorded_instruction
    assert pending("g_pending", pid) == "the instruction"
    assert pending("g_pending", "p_other") is None  # only to a save of its own playground
    turn.finish("a", "stop", STATS, EVENTS)
    assert await persistence.records_flushed()
    assert pending("g_pending", pid) is None


def test_on_sqlite_only_the_writers_connection_skips_the_fsync() -> None:
    import threading

    from django.db import connection, connections

    if connection.vendor != "sqlite":
        pytest.skip("a SQLite setting")

    def pragma(name: str) -> Any:
        with connections["default"].cursor() as cursor:
            cursor.execute(f"PRAGMA {name}")
            return cursor.fetchone()[0]

    records.RecordWriter()._tune()  # what the writer's thread does to its connection
    assert pragma("synchronous") == 1  # NORMAL
    assert pragma("journal_mode") == "wal"  # so a commit survives the process dying
    seen: list[Any] = []

    def other() -> None:  # any other thread's connection (a save's) is untouched
        seen.append(pragma("synchronous"))
        connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == [2]  # FULL
