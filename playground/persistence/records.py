"""Generation records: what was asked, what was answered, how it ended."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from playground.errors import NotFoundError
from playground.models import GenerationRecord, Revision
from playground.persistence.pending import forget_generation
from playground.persistence.playgrounds import ID_SHAPE, plain_text


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


generation_playground_async = database_sync_to_async(generation_playground)


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


async def record_start(playground_id: str, gen_id: str, instruction: str) -> None:
    await database_sync_to_async(generation_begin)(playground_id, gen_id, instruction)


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
) -> None:
    """Write a finished generation's record (an UPDATE of the begun one, else an INSERT).

    ``backfill`` (several server processes): a model revision saved on another process
    before the record existed gets its instruction too (a second statement).
    """
    text = plain_text(instruction)
    fields = {
        "instruction": text,
        "answer": plain_text(answer),
        "status": _STATUS.get(reason, "error"),
        "stats": stats,
        "events": events or [],
        "finished_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            GenerationRecord.objects.create(id=gen_id, playground_id=playground_id, **fields)
    except IntegrityError:  # begun with generation_begin: finish it instead
        GenerationRecord.objects.filter(id=gen_id).update(**fields)
    if backfill:
        Revision.objects.filter(
            playground_id=playground_id, generation_id=gen_id, instruction=""
        ).update(instruction=text)
    forget_generation(gen_id)


async def record_generation(
    playground_id: str,
    gen_id: str,
    instruction: str,
    answer: str,
    reason: str,
    stats: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
) -> None:
    try:
        await database_sync_to_async(generation_record)(
            playground_id,
            gen_id,
            instruction,
            answer,
            reason,
            stats,
            events,
            backfill=bool(settings.FLINT_REDIS_URL),  # saves may land on another process
        )
    finally:
        forget_generation(gen_id)
