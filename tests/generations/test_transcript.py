"""A finished generation's events, compacted for the page's transcript after a reload."""

from __future__ import annotations

import pytest

from playground import persistence
from playground.generations.transcript import MAX_TEXT_CHARS, TranscriptLog, apply_ops


def test_apply_ops_counts_utf16_units() -> None:
    text = "a😀b\nc"  # the emoji is two UTF-16 units
    assert apply_ops(text, [{"from": 3, "to": 4, "insert": "B"}]) == "a😀B\nc"
    assert apply_ops(text, [{"from": 6, "to": 6, "insert": "!"}, {"from": 0, "to": 1}]) == "😀b\nc!"


def test_deltas_merge_and_a_rejection_keeps_the_file_as_the_server_saw_it() -> None:
    log = TranscriptLog({"a.js": "let x = 1;\n", "b.css": "p {}\n"})
    log.add({"type": "gen.started", "gen": "g", "seq": 1})
    log.add({"type": "gen.delta", "seq": 2, "text": "Sure, "})
    log.add({"type": "gen.delta", "seq": 3, "text": "here."})
    ops = [{"from": 8, "to": 9, "insert": "2"}]
    log.add({"type": "gen.edit", "seq": 4, "path": "a.js", "hunk": 1, "kind": "update", "ops": ops})
    bad = [{"from": 8, "to": 9, "insert": "(2"}]
    log.add(
        {
            "type": "gen.edit_rejected",
            "seq": 5,
            "path": "a.js",
            "hunk": 2,
            "reason": "It would add a syntax error.",
            "lines": ["let x = (2;"],
            "snippet": "let x = (2;\n        ^",
            "line": 1,
            "column": 9,
            "ops": bad,
        }
    )
    log.add({"type": "gen.queued", "seq": 6, "position": 1})
    log.add({"type": "gen.done", "seq": 7, "reason": "stop", "partial": False, "stats": {}})
    kinds = [e["event"] for e in log.events]
    assert kinds == ["text", "edit", "rejected", "done"]
    assert log.events[0]["text"] == "Sure, here."
    assert "ops" not in log.events[1]  # applied: the outcome is enough
    rejected = log.events[2]
    assert rejected["base"] == "let x = 2;\n" and rejected["ops"] == bad
    assert rejected["seq"] == 5 and rejected["snippet"].startswith("let x")


def test_moves_deletes_and_adds_follow_the_files() -> None:
    log = TranscriptLog({"a.txt": "A"})
    log.add(
        {"type": "gen.edit", "path": "b.txt", "kind": "add", "ops": [{"from": 0, "insert": "B"}]}
    )
    log.add({"type": "gen.edit", "path": "a.txt", "kind": "move", "new_path": "c.txt", "ops": []})
    log.add({"type": "gen.edit", "path": "b.txt", "kind": "delete", "ops": []})
    assert log.files == {"c.txt": "A"}


def test_the_answer_text_is_capped() -> None:
    log = TranscriptLog({})
    log.add({"type": "gen.delta", "text": "x" * (MAX_TEXT_CHARS + 10)})
    log.add({"type": "gen.delta", "text": "more"})
    assert len(log.events[0]["text"]) == MAX_TEXT_CHARS


@pytest.mark.django_db
def test_records_serve_finished_generations_oldest_first() -> None:
    pg = persistence.playground_create("web", owner_token="t" * 40)
    persistence.generation_begin(pg.id, "g_1", "first")
    persistence.generation_finish(
        "g_1", "hi", "done", {"tokens": 3}, [{"event": "text", "text": "hi\x00"}]
    )
    persistence.generation_begin(pg.id, "g_2", "second, still running")
    persistence.generation_begin(pg.id, "g_3", "old record without events")
    persistence.generation_finish("g_3", "plain answer", "stopped", {})
    records = persistence.transcript_records(pg.id)
    assert [r["gen"] for r in records] == ["g_1", "g_3"]
    assert records[0]["events"] == [{"event": "text", "text": "hi\ufffd"}]  # no NUL in jsonb
    assert records[0]["stats"] == {"tokens": 3}
    assert records[1]["events"] == [{"event": "text", "text": "plain answer"}]
