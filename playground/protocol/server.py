"""Server → client messages: every one is built here, so their shapes live in one place.

docs/protocol.md documents each message; keep the two in step.
"""

from __future__ import annotations

from typing import Any

import orjson

from playground.edits import EditApplied, EditEvent
from playground.errors import FlintError
from playground.protocol.client import PROTOCOL_VERSION


def dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def error(
    code: str,
    message: str,
    *,
    retryable: bool = False,
    retry_after: float | None = None,
    gen: str | None = None,
    seq: int | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """The one error shape. ``message`` says what was wrong and what to do."""
    out: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "type": "error",
        "code": code,
        "message": message,
        "retryable": retryable,
    }
    if retry_after is not None:
        out["retry_after"] = round(retry_after, 3)
    if gen is not None:
        out["gen"] = gen
        out["seq"] = seq
    if detail:
        out["detail"] = detail
    return out


def error_from(
    exc: FlintError, *, gen: str | None = None, seq: int | None = None
) -> dict[str, Any]:
    """The wire error for any FlintError: the one way an error reaches a client."""
    return error(
        exc.code,
        exc.message,
        retryable=exc.retryable,
        retry_after=exc.retry_after,
        gen=gen,
        seq=seq,
        **exc.detail,
    )


def cause(exc: FlintError) -> dict[str, Any]:
    """An error nested inside another message (``gen.retry``'s ``error``)."""
    out: dict[str, Any] = {"code": exc.code, "message": exc.message, "retryable": exc.retryable}
    if exc.retry_after is not None:
        out["retry_after"] = round(exc.retry_after, 3)
    return out


def edit_event(ev: EditEvent) -> tuple[str, dict[str, Any]]:
    """The type and fields of a finished edit's event: ``gen.edit`` or ``gen.edit_rejected``."""
    kind = "gen.edit" if isinstance(ev, EditApplied) else "gen.edit_rejected"
    return kind, ev.to_wire()


def event(event_type: str, gen: str, seq: int, /, **fields: Any) -> dict[str, Any]:
    """A generation event: every one carries the generation id and its sequence number."""
    return {"v": PROTOCOL_VERSION, "type": event_type, "gen": gen, "seq": seq, **fields}


def session_ready(**fields: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": "session.ready", **fields}


def allowance(remaining: dict[str, Any]) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": "allowance", **remaining}


def pong(t: float | None) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": "pong", "t": t}


def files_saved(version: int, saved: bool) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": "files.saved", "version": version, "saved": saved}


def models_listed(fields: dict[str, Any]) -> dict[str, Any]:
    """The answer to ``models.list``: ``{models, current, endpoint}`` (inference/catalog.py)."""
    return {"v": PROTOCOL_VERSION, "type": "models.listed", **fields}


def model_selected(model: str, backend: str, name: str) -> dict[str, Any]:
    """The playground's model changed (sent to every socket of the playground)."""
    return {
        "v": PROTOCOL_VERSION,
        "type": "model.selected",
        "model": model,
        "backend": backend,
        "name": name,
    }


def model_download(model: str, state: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A local model's download: ``state`` is started, progress, done or failed."""
    return {
        "v": PROTOCOL_VERSION,
        "type": "model.download",
        "model": model,
        "state": state,
        **fields,
    }


# --- presentations (playground/live/) ---------------------------------------------


def live_event(event: dict[str, Any]) -> dict[str, Any]:
    """A presentation's event for its watchers: ``{"kind": ..., fields}`` from playground/live/."""
    fields = {k: v for k, v in event.items() if k != "kind"}
    kind = event["kind"]
    if kind == "update":
        return {"v": PROTOCOL_VERSION, "type": "live.update", **fields}
    if kind == "gen":
        return {"v": PROTOCOL_VERSION, "type": "live.gen", **fields}
    if kind == "viewers":
        return {"v": PROTOCOL_VERSION, "type": "live.viewers", **fields}
    if kind == "ended":
        return {"v": PROTOCOL_VERSION, "type": "live.ended", **fields}
    raise ValueError(f"no live event of kind {kind!r}")


def live_state(state: dict[str, Any], viewers: int) -> dict[str, Any]:
    """What a viewer starts from: ``{version, files, active, gen, ended}`` and the count."""
    return {"v": PROTOCOL_VERSION, "type": "live.state", **state, "viewers": viewers}


def live_pushed(version: int) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": "live.pushed", "version": version}
