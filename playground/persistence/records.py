"""Generation records: what was asked, what was answered, how it ended."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from playground.errors import NotFoundError
from playground.models import GenerationRecord
from playground.persistence.playgrounds import plain_text


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
            "events": r.events or ([{"event": "text", "text": r.answer}] if r.answer else []),
            "created_at": r.created_at.isoformat(),
        }
        for r in reversed(records)
    ]


async def record_start(playground_id: str, gen_id: str, instruction: str) -> None:
    await database_sync_to_async(generation_begin)(playground_id, gen_id, instruction)


def _record_finish(
    gen_id: str,
    answer: str,
    reason: str,
    stats: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
) -> None:
    generation_finish(gen_id, answer, _STATUS.get(reason, "error"), stats, events)


async def record_finish(
    gen_id: str,
    answer: str,
    reason: str,
    stats: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
) -> None:
    await database_sync_to_async(_record_finish)(gen_id, answer, reason, stats, events)
