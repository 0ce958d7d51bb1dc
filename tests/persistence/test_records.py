"""Generation records: instruction, answer and outcome."""

from __future__ import annotations

import pytest

from playground import persistence
from playground.models import GenerationRecord, Playground
from playground.persistence.ownership import new_owner_token

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def token() -> str:
    return new_owner_token()


@pytest.fixture
def pg(token: str) -> Playground:
    return persistence.playground_create("python", owner_token=token)


def test_generation_records_keep_the_instruction_answer_and_outcome(pg: Playground) -> None:
    persistence.generation_begin(pg.id, "g_abc", "make it blue")
    assert GenerationRecord.objects.get(id="g_abc").status == "running"
    persistence.generation_finish("g_abc", "Done: blue.", "stopped", {"tokens": 12})
    record = GenerationRecord.objects.get(id="g_abc")
    assert (record.answer, record.status, record.stats) == (
        "Done: blue.",
        "stopped",
        {"tokens": 12},
    )
    assert record.finished_at is not None and record.playground_id == pg.id
    with pytest.raises(ValueError, match="done, stopped or error"):
        persistence.generation_finish("g_abc", "", "running", {})
    with pytest.raises(persistence.GenerationNotFoundError):
        persistence.generation_finish("g_missing", "", "done", {})
