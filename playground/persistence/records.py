"""Generation records: what was asked, what was answered, how it ended.

A turn writes its record once, when it ends, off the hot path (``TurnRecord``): one
INSERT on the record writer's thread, after ``gen.done`` has gone out. Only a
generation still running ``BEGIN_AFTER`` seconds after it started has its record begun
first (a "running" row, then an UPDATE at the end), so that one that dies with its
process leaves a record the next start-up closes (flint/serving.py, #12). A crash in
a generation's first ``BEGIN_AFTER`` seconds leaves no record: the page is told the
generation is unknown rather than that the server restarted.

On SQLite the writer's own connection commits with ``synchronous=NORMAL`` (the other
connections keep SQLite's FULL): in WAL mode a commit then survives the process
dying, which is what crash recovery needs, but not a power cut, which may lose the
last records written (never corrupt the file). It spares an fsync per record: ~0.1 ms
of CPU, and milliseconds of holding the write lock on a busy disk, that a save of
the user's files would otherwise wait behind.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    close_old_connections,
    connections,
    transaction,
)
from django.utils import timezone

from playground.errors import NotFoundError
from playground.models import GenerationRecord, Revision
from playground.persistence.pending import expect_generation, forget_generation
from playground.persistence.playgrounds import ID_SHAPE, plain_text
from playground.persistence.retry import once_more_on_lost_connection

log = logging.getLogger(__name__)


class GenerationNotFoundError(NotFoundError):
    code = "gen.unknown"


# How a generation ended (its outcome's reason) -> the record's status.
_STATUS = {"stop": "done", "length": "done", "stopped": "stopped", "abandoned": "stopped"}


def generation_begin(playground_id: str, gen_id: str, instruction: str) -> GenerationRecord:
    return GenerationRecord.objects.create(
        id=gen_id, playground_id=playground_id, instruction=plain_text(instruction)
    )


def generation_finish(
    gen_id: str,
    answer: str,
    status: str,
    stats: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
) -> None:
    """Record how a generation ended; ``status`` is "done", "stopped" or "error"."""
    if status not in GenerationRecord.Status.values or status == "running":
        raise ValueError(
            f"A finished generation's status is done, stopped or error, not {status!r}."
        )
    updated = GenerationRecord.objects.filter(id=gen_id).update(
        answer=plain_text(answer),
        status=status,
        stats=stats,
        events=_plain_events(events or []),
        finished_at=timezone.now(),
    )
    if not updated:
        raise GenerationNotFoundError(f"No generation record has the id {gen_id!r}.")


def _plain_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # PostgreSQL's jsonb cannot hold NUL; the files and answers are scrubbed the same way.
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return plain_text(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    return [clean(e) for e in events]


def _events_of_old(record: GenerationRecord) -> list[dict[str, Any]]:
    """Transcript entries for a record kept without them (older, or cut by a restart)."""
    events: list[dict[str, Any]] = []
    if record.answer:
        events.append({"event": "text", "text": record.answer})
    stats = record.stats if isinstance(record.stats, dict) else {}
    if stats.get("ended") == RESTARTED:
        note = str(stats.get("note") or RESTART_NOTE)
        events.append({"event": "error", "code": "server.restarted", "message": note})
    return events


def transcript_records(playground_id: str, limit: int = 30) -> list[dict[str, Any]]:
    """The playground's last finished generations, oldest first, for the page's transcript."""
    records = (
        GenerationRecord.objects.filter(playground_id=playground_id)
        .exclude(status=GenerationRecord.Status.RUNNING)
        .order_by("-created_at")[:limit]
    )
    return [
        {
            "gen": r.id,
            "instruction": r.instruction,
            "status": r.status,
            "stats": r.stats,
            "events": r.events or _events_of_old(r),
            "created_at": r.created_at.isoformat(),
        }
        for r in reversed(records)
    ]


def generation_playground(gen_id: str) -> str | None:
    """The playground a recorded generation belongs to; None if there is no record."""
    if not ID_SHAPE.fullmatch(gen_id):
        return None  # cannot name a row (a NUL byte would even fail the query)
    row = GenerationRecord.objects.filter(id=gen_id).values_list("playground_id", flat=True)
    return row.first()


generation_playground_async = database_sync_to_async(
    once_more_on_lost_connection(generation_playground)
)


# A record still "running" whose process died with it (a crash, a kill, a deploy).
RESTARTED = "server_restart"
RESTART_NOTE = (
    "The server restarted while this answer was being written, so the answer ended there."
)


def generations_close_dead(
    before: datetime, alive: Callable[[str, str], bool] = lambda playground, gen: False
) -> int:
    """Mark as ended every record still running that began before ``before``.

    Called once when a server process starts: a generation runs inside one
    process, so one that began before this process and that no live process
    claims (``alive(playground, gen)``; with the memory hub none can) died with
    its process. Returns how many were closed.
    """
    dead = [
        gen
        for gen, playground in GenerationRecord.objects.filter(
            status=GenerationRecord.Status.RUNNING, created_at__lt=before
        ).values_list("id", "playground_id")
        if not alive(playground, gen)
    ]
    if not dead:
        return 0
    return GenerationRecord.objects.filter(
        id__in=dead, status=GenerationRecord.Status.RUNNING
    ).update(
        status=GenerationRecord.Status.ERROR,
        stats={"ended": RESTARTED, "note": RESTART_NOTE},
        finished_at=timezone.now(),
    )


def generation_close_interrupted(gen_id: str, note: str) -> bool:
    """Close the record of a generation whose process died while it ran (kill -9).

    Called on another process when the generation's log ends with gen.interrupted
    (hub/redis.py), by each of its followers: only a record still "running" is
    changed, so the first one closes it and the others find nothing to do. The
    record then reads as one cut short by a restart (``RESTARTED``, with ``note``),
    at once rather than at the next start-up. True if this call closed it.
    """
    if not ID_SHAPE.fullmatch(gen_id):
        return False
    return bool(
        GenerationRecord.objects.filter(id=gen_id, status=GenerationRecord.Status.RUNNING).update(
            status=GenerationRecord.Status.ERROR,
            stats={"ended": RESTARTED, "note": plain_text(note)},
            finished_at=timezone.now(),
        )
    )


generation_close_interrupted_async = database_sync_to_async(generation_close_interrupted)


def generation_died_in_restart(gen_id: str) -> bool:
    """Whether ``gen_id`` is a recorded generation that ended with a server restart."""
    if not ID_SHAPE.fullmatch(gen_id):
        return False
    record = GenerationRecord.objects.filter(id=gen_id).values("status", "stats").first()
    if record is None:
        return False
    stats = record["stats"] if isinstance(record["stats"], dict) else {}
    # Still "running" with no log anywhere is the same death, not yet swept.
    return record["status"] == "running" or stats.get("ended") == RESTARTED


generation_died_in_restart_async = database_sync_to_async(generation_died_in_restart)


def generation_record(
    playground_id: str,
    gen_id: str,
    instruction: str,
    answer: str,
    reason: str,
    stats: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
    *,
    backfill: bool = False,
    begun: bool | None = None,
    created_at: datetime | None = None,
    plain: bool = False,
) -> None:
    """Write a finished generation's record: an INSERT, or an UPDATE of the begun one.

    ``begun``: whether its record was begun (True: UPDATE, else INSERT). Not begun, the
    INSERT runs in a savepoint and a duplicate id turns it into the UPDATE, unless
    ``plain`` (the record writer's first try): then a duplicate raises. ``backfill``
    (several server processes): a model revision saved on another process before the
    record existed gets its instruction too (a second statement).
    """
    text = plain_text(instruction)
    fields = {
        "instruction": text,
        "answer": plain_text(answer),
        "status": _STATUS.get(reason, "error"),
        "stats": stats,
        "events": _plain_events(events or []),
        "finished_at": timezone.now(),
    }
    if begun:
        updated = GenerationRecord.objects.filter(id=gen_id).update(**fields)
        if not updated:  # its begin write failed: the end still records it
            _insert(gen_id, playground_id, created_at, fields)
    elif plain:
        _insert(gen_id, playground_id, created_at, fields)
    else:
        try:
            with transaction.atomic():
                _insert(gen_id, playground_id, created_at, fields)
        except IntegrityError:  # begun with generation_begin: finish it instead
            GenerationRecord.objects.filter(id=gen_id).update(**fields)
    if backfill:
        Revision.objects.filter(
            playground_id=playground_id, generation_id=gen_id, instruction=""
        ).update(instruction=text)
    # A save asks for the pending instruction first, then the record: the entry may
    # go only once the record is committed (at once outside a transaction).
    transaction.on_commit(lambda: forget_generation(gen_id))


_FIELDS = GenerationRecord._meta.concrete_fields
_INSERT_SQL: dict[str, str] = {}  # by database vendor


def _insert(
    gen_id: str, playground_id: str, created_at: datetime | None, fields: dict[str, Any]
) -> None:
    """One INSERT of a whole record, without building a model instance (half the CPU
    of ``objects.create``); each value is prepared by its field, as the ORM does."""
    conn = connections[DEFAULT_DB_ALIAS]
    row = {
        "id": gen_id,
        "playground_id": playground_id,
        "answer": "",
        "status": GenerationRecord.Status.RUNNING,
        "stats": {},
        "events": [],
        "created_at": created_at or timezone.now(),
        "finished_at": None,
        **fields,
    }
    sql = _INSERT_SQL.get(conn.vendor)
    if sql is None:
        quote = conn.ops.quote_name
        columns = ", ".join(quote(str(f.column)) for f in _FIELDS)
        sql = _INSERT_SQL[conn.vendor] = (
            f"INSERT INTO {quote(GenerationRecord._meta.db_table)} ({columns})"
            f" VALUES ({', '.join(['%s'] * len(_FIELDS))})"
        )
    with conn.cursor() as cursor:
        cursor.execute(sql, [f.get_db_prep_save(row[f.attname], conn) for f in _FIELDS])


# --------------------------------------------------------------------------- the writer

BEGIN_AFTER = 0.5  # s: a generation still running then has its record begun (#12)


class RecordWriter:
    """Writes generation records on a thread of its own, in the order submitted.

    The event loop only puts a job on a queue (no thread hop to wait for, no task):
    the write costs the turn nothing on its way to ``gen.done`` and the next turn's
    first token. Jobs that queue up while a write runs go out together, in one
    transaction (one commit).
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._done = threading.Condition()
        self.submitted = 0
        self.written = 0  # jobs handled (written, or failed and logged)
        self._tuned: Any = None  # the SQLite connection set to synchronous=NORMAL

    def submit(self, job: _Job) -> None:
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="flint-records", daemon=True
                    )
                    self._thread.start()
                    atexit.register(self.flush, 5.0)
        self.submitted += 1  # only the event loop's thread submits
        self._queue.put(job)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every job submitted so far is written; False on timeout."""
        target = self.submitted
        with self._done:
            return self._done.wait_for(lambda: self.written >= target, timeout)

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            while True:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                close_old_connections()  # as Django does around a request
                self._tune()
                _write(jobs)
            except Exception:
                log.exception("could not write %d generation record(s)", len(jobs))
            finally:
                with contextlib.suppress(Exception):
                    close_old_connections()
                with self._done:
                    self.written += len(jobs)
                    self._done.notify_all()

    def _tune(self) -> None:
        conn = connections[DEFAULT_DB_ALIAS]
        if conn.vendor != "sqlite":
            return
        conn.ensure_connection()
        if conn.connection is not self._tuned:
            with conn.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
            self._tuned = conn.connection


class _Job:
    __slots__ = ("begun", "created_at", "end", "gen_id", "instruction", "playground_id")

    def __init__(
        self,
        playground_id: str,
        gen_id: str,
        instruction: str,
        created_at: datetime,
        end: dict[str, Any] | None = None,
        begun: bool = False,
    ) -> None:
        self.playground_id = playground_id
        self.gen_id = gen_id
        self.instruction = instruction
        self.created_at = created_at
        self.end = end  # None: begin the record ("running")
        self.begun = begun

    def write(self, *, plain: bool) -> None:
        if self.end is None:
            fields = {"instruction": plain_text(self.instruction)}
            _insert(self.gen_id, self.playground_id, self.created_at, fields)
            return
        generation_record(
            self.playground_id,
            self.gen_id,
            self.instruction,
            begun=self.begun,
            created_at=self.created_at,
            plain=plain,
            **self.end,
        )


def _write(jobs: list[_Job]) -> None:
    """Write ``jobs`` in order: plain statements, one job in autocommit (its statement
    is its transaction), several in one transaction; if that fails (a duplicate id, a
    playground deleted meanwhile), each job again on its own, the careful way."""
    try:
        if len(jobs) == 1:
            jobs[0].write(plain=True)
        else:
            with transaction.atomic():
                for job in jobs:
                    job.write(plain=True)
        return
    except Exception:
        pass
    for job in jobs:
        try:
            with transaction.atomic():
                job.write(plain=False)
        except Exception:
            log.exception("could not write the record of generation %s", job.gen_id)


records = RecordWriter()


class TurnRecord:
    """One generation's record, from the event loop: written once, when it ends.

    Created as the generation starts; ``finish`` hands the record to the writer. If
    the generation is still running ``BEGIN_AFTER`` seconds in, its record is begun
    then (a "running" row), for crash recovery.
    """

    __slots__ = ("_timer", "begun", "created_at", "gen_id", "instruction", "playground_id")

    def __init__(self, playground_id: str, gen_id: str, instruction: str) -> None:
        self.playground_id = playground_id
        self.gen_id = gen_id
        self.instruction = instruction
        self.created_at = timezone.now()
        self.begun = False
        # Until the record is written, a model save of its edits finds its instruction here.
        expect_generation(gen_id, instruction, playground_id)
        loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = loop.call_later(BEGIN_AFTER, self._begin)

    def _begin(self) -> None:
        self._timer = None
        self.begun = True
        records.submit(_Job(self.playground_id, self.gen_id, self.instruction, self.created_at))

    def finish(
        self,
        answer: str,
        reason: str,
        stats: dict[str, Any],
        events: list[dict[str, Any]],
        *,
        backfill: bool = False,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        end = {
            "answer": answer,
            "reason": reason,
            "stats": stats,
            "events": events,
            "backfill": backfill,
        }
        records.submit(
            _Job(
                self.playground_id,
                self.gen_id,
                self.instruction,
                self.created_at,
                end=end,
                begun=self.begun,
            )
        )


async def records_flushed(limit: float = 10.0) -> bool:
    """Wait (in a thread) until every record submitted so far is written (tests); False
    if that took over ``limit`` seconds."""
    return await asyncio.to_thread(records.flush, limit)
