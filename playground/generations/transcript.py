"""What a finished generation leaves for the page's transcript after a reload.

Entries are not wire messages (they are stored, and served in the page's boot data):
each is ``{"event": "text" | "edit" | "rejected" | "steer" | "error" | "done", ...}``
with the fields of the wire event it stands for (docs/protocol.md).

The generation's events, compacted: the answer's deltas merged into runs of text
(steers between them), each edit's outcome (applied, or rejected with its reason,
snippet and ops), errors and the end. A rejected edit also keeps the text of its
file as the server saw it then (``base``), so "Apply anyway" on a reloaded page can
rebase the ops onto the file as it is now. The server's view of the files is
followed here by applying each applied edit's ops (UTF-16 offsets, as on the wire).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Past this size a rejected edit's file is not kept: its "Apply anyway" is then
# offered only until the page reloads.
MAX_BASE_CHARS = 256 * 1024
# A record's events stay small: past this much answer text the rest is cut.
MAX_TEXT_CHARS = 512 * 1024


def apply_ops(text: str, ops: list[Mapping[str, Any]]) -> str:
    """Apply a CodeMirror ChangeSet spec (every from/to against ``text``, UTF-16 units)."""
    units = text.encode("utf-16-le", "surrogatepass")
    out: list[bytes] = []
    pos = 0
    for op in sorted(ops, key=lambda o: (int(o["from"]), int(o.get("to", o["from"])))):
        start = int(op["from"]) * 2
        end = int(op.get("to", op["from"])) * 2
        out.append(units[pos:start])
        out.append(str(op.get("insert") or "").encode("utf-16-le", "surrogatepass"))
        pos = max(pos, end)
    out.append(units[pos:])
    return b"".join(out).decode("utf-16-le", "surrogatepass")


class TranscriptLog:
    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = dict(files)  # the server's view: as sent, plus applied edits
        self.events: list[dict[str, Any]] = []
        self._text_chars = 0

    def add(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "gen.delta":
            self._text(str(event.get("text") or ""))
        elif kind == "gen.edit":
            self._applied(event)
        elif kind == "gen.edit_rejected":
            self._rejected(event)
        elif kind == "gen.steered":
            self._keep(event, "steer", "instruction", "kept", "discarded")
        elif kind == "error":
            self._keep(event, "error", "code", "message", "retryable", "retry_after")
        elif kind == "gen.done":
            self._keep(event, "done", "reason", "partial")

    def _text(self, text: str) -> None:
        room = MAX_TEXT_CHARS - self._text_chars
        if room <= 0 or not text:
            return
        text = text[:room]
        self._text_chars += len(text)
        last = self.events[-1] if self.events else None
        if last is not None and last["event"] == "text":
            last["text"] += text
        else:
            self.events.append({"event": "text", "text": text})

    def _keep(self, event: Mapping[str, Any], name: str, *fields: str) -> None:
        kept = {"event": name, "seq": event.get("seq")}
        kept.update({f: event[f] for f in fields if f in event})
        self.events.append(kept)

    def _applied(self, event: Mapping[str, Any]) -> None:
        path = str(event.get("path"))
        kind = event.get("kind") or "update"
        ops = list(event.get("ops") or [])
        try:
            if kind == "delete":
                self.files.pop(path, None)
            elif kind == "move":
                text = apply_ops(self.files.pop(path, ""), ops)
                self.files[str(event.get("new_path"))] = text
            else:  # update, add (over an existing file: a diff against it)
                self.files[path] = apply_ops(self.files.get(path, ""), ops)
        except (KeyError, TypeError, ValueError):
            self.files.pop(path, None)  # out of step: no base for later rejections
        self._keep(event, "edit", "path", "hunk", "kind", "new_path")

    def _rejected(self, event: Mapping[str, Any]) -> None:
        self._keep(
            event,
            "rejected",
            *("path", "hunk", "reason", "code", "lines", "snippet", "line", "column", "ops"),
        )
        base = self.files.get(str(event.get("path")))
        if event.get("ops") and base is not None and len(base) <= MAX_BASE_CHARS:
            self.events[-1]["base"] = base
