"""Generations of this process whose record is not written yet: id -> (playground, instruction).

A generation's record is written once, when it ends (records.py), on the record
writer's thread. A model save of its edits (the page sends it on gen.done) may
arrive first; it takes the generation's instruction from here (playgrounds.py),
for a generation of the same playground only. An entry is dropped only after its
record is committed, so a save that finds none here finds the record. A save that
lands on another process before the record exists gets the instruction when the
record is written.
"""

from __future__ import annotations

_unrecorded: dict[str, tuple[str, str]] = {}


def expect_generation(gen_id: str, instruction: str, playground_id: str) -> None:
    """Note a generation that started: its record is written once, when it ends."""
    _unrecorded[gen_id] = (playground_id, instruction)


def unrecorded_instruction(gen_id: str, playground_id: str) -> str | None:
    """The instruction of ``playground_id``'s generation ``gen_id`` while its record is
    not written; None when it is (or the generation is another playground's)."""
    entry = _unrecorded.get(gen_id)
    if entry is None or entry[0] != playground_id:
        return None
    return entry[1]


def forget_generation(gen_id: str) -> None:
    _unrecorded.pop(gen_id, None)
