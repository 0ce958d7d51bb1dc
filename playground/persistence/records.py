"""Generation records: what was asked, what was answered, how it ended."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from playground.errors import NotFoundError
from playground.models import GenerationRecord
from playground.persistence.playgrounds import ID_SHAPE, plain_text


class GenerationNotFoundError(NotFoundError):
    code = "gen.unknown"


# How a generation ended (its outcome's reason) -> the record's status.
_STATUS = {"stop": "done", "length": "done", "stopped": "stopped", "abandoned": "stopped"}


def generation_begin(playground_id: str, gen_id: str, instruction: str) -> GenerationRecord:
    return GenerationRecord.objects.create(
        id=gen_id, playground_id=playground_id, instruction=plain_text(instruction)
    )


def generation_finish(gen_id: str, answer: str, status: str, stats: dict[str, Any]) -> None:
    """Record how a generation ended; ``status`` is "done", "stopped" or "error"."""
    if status not in GenerationRecord.Status.values or status == "running":
        raise ValueError(
            f"A finished generation's status is done, stopped or error, not {status!r}."
        )
    updated = GenerationRecord.objects.filter(id=gen_id).update(
        answer=plain_text(answer), status=status, stats=stats, finished_at=timezone.now()
    )
    if not updated:
        raise GenerationNotFoundError(f"No generation record has the id {gen_id!r}.")


def generation_playground(gen_id: str) -> str | None:
    """The playground a recorded generation belongs to; None if there is no record."""
    if not ID_SHAPE.fullmatch(gen_id):
        return None  # cannot name a row (a NUL byte would even fail the query)
    row = GenerationRecord.objects.filter(id=gen_id).values_list("playground_id", flat=True)
    return row.first()


generation_playground_async = database_sync_to_async(generation_playground)


@database_sync_to_async
def record_start(playground_id: str, gen_id: str, instruction: str) -> None:
    generation_begin(playground_id, gen_id, instruction)


@database_sync_to_async
def record_finish(gen_id: str, answer: str, reason: str, stats: dict[str, Any]) -> None:
    generation_finish(gen_id, answer, _STATUS.get(reason, "error"), stats)
