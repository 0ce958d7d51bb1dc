"""The socket's side of persistence: ownership checks, saves, generation records.

Every mutating socket message is authorised against the database when it
arrives, not only at connect, so a capability revoked or a playground claimed
meanwhile takes effect at once.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from . import protocol, services
from .models import Playground
from .ownership import owner_hash_matches, owner_token_from

_STATUS = {"stop": "done", "length": "done", "stopped": "stopped", "abandoned": "stopped"}


def owner_token(scope: dict[str, Any]) -> str | None:
    return owner_token_from(scope.get("cookies", {}))


@database_sync_to_async
def playground_state(playground_id: str, token: str | None) -> dict[str, Any] | None:
    """The playground's version and whether ``token`` owns it, or None if it is gone."""
    row = Playground.objects.filter(id=playground_id).values("owner_hash", "version").first()
    if row is None:
        return None
    return {"version": row["version"], "owner": owner_hash_matches(row["owner_hash"], token)}


@database_sync_to_async
def save(playground_id: str, message: protocol.FilesSave) -> dict[str, Any]:
    """Save over the socket; returns the reply message (files.saved or an error)."""
    instruction = ""
    if message.author == "model" and message.gen:
        record = services.GenerationRecord.objects.filter(id=message.gen).first()
        instruction = record.instruction if record else ""
    try:
        result = services.playground_save(
            playground_id,
            message.files,
            base_version=message.base_version,
            author=message.author,
            generation_id=message.gen,
            instruction=instruction,
        )
    except services.SaveConflictError as exc:
        return protocol.error(
            "save.conflict",
            "Someone saved this playground first (another tab?); compare and save again.",
            retryable=False,
            server_version=exc.server_version,
            server_files=exc.server_files,
        )
    except services.FilesError as exc:
        return protocol.error("files.invalid", str(exc))
    return {
        "v": protocol.PROTOCOL_VERSION,
        "type": "files.saved",
        "version": result.version,
        "saved": result.saved,
    }


@database_sync_to_async
def record_start(playground_id: str, gen_id: str, instruction: str) -> None:
    services.generation_begin(playground_id, gen_id, instruction)


@database_sync_to_async
def record_finish(gen_id: str, answer: str, reason: str, stats: dict[str, Any]) -> None:
    services.generation_finish(gen_id, answer, _STATUS.get(reason, "error"), stats)
