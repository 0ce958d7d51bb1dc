"""Generations of this process whose record is not written yet: id -> instruction.

A generation's record is written once, when it ends (records.py). A model save of
its edits (the page sends it on gen.done) may arrive first; it takes the
generation's instruction from here (playgrounds.py). A save that lands on another
process before the record exists gets the instruction when the record is written.
"""

from __future__ import annotations

_unrecorded: dict[str, str] = {}


def expect_generation(gen_id: str, instruction: str) -> None:
    """Note a generation that started: its record is written once, when it ends."""
    _unrecorded[gen_id] = instruction


def unrecorded_instruction(gen_id: str) -> str | None:
    return _unrecorded.get(gen_id)


def forget_generation(gen_id: str) -> None:
    _unrecorded.pop(gen_id, None)
