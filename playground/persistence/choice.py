"""A playground's model choice: which model the page chose for it.

Stored on the playground row (``model``, ``model_endpoint``). Changing it moves the
playground's access stamp (persistence/access.py), which every socket's cached owner
check compares before each write: a socket on another server process re-reads the
row, and so the choice, before its next ``gen.start``.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from playground.models import Playground
from playground.persistence.access import ownership_changed


def playground_model_set(playground_id: str, model: str, endpoint: str = "") -> bool:
    """Store the choice; False when there is no such playground."""
    updated = Playground.objects.filter(id=playground_id).update(
        model=model, model_endpoint=endpoint
    )
    if updated:
        ownership_changed(playground_id)  # the access stamp: cached checks re-read the row
    return bool(updated)


playground_model_set_async = database_sync_to_async(playground_model_set)
