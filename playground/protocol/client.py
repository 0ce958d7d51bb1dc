"""Client → server messages on the playground socket, validated with msgspec.

Client → server messages are JSON objects tagged by their ``type`` field;
anything that fails validation raises ProtocolError naming what was wrong, which
the socket answers with the one error shape (protocol/server.py).

Text positions on the wire are UTF-16 code units (the unit of JavaScript
strings and CodeMirror); see playground/edits/offsets.py for the conversion.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from playground.errors import InvalidInputError
from playground.limits import MAX_FILES, MAX_INSTRUCTION, MAX_PATH

PROTOCOL_VERSION = 1

Path = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PATH)]
GenId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class _Message(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    v: Literal[1] = 1


class Selection(msgspec.Struct, forbid_unknown_fields=True):
    path: Path
    start: Annotated[int, msgspec.Meta(ge=0)]
    end: Annotated[int, msgspec.Meta(ge=0)]


class GenStart(_Message, tag="gen.start"):
    """Start a generation: the instruction and the files as the user sees them."""

    instruction: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_INSTRUCTION)]
    files: Annotated[dict[Path, str], msgspec.Meta(max_length=MAX_FILES)]
    active: Path | None = None
    selection: Selection | None = None
    client_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class GenStop(_Message, tag="gen.stop"):
    """Stop the running generation (or the one named by ``gen``)."""

    gen: GenId | None = None


class GenSteer(_Message, tag="gen.steer"):
    """Redirect the running generation mid-answer without stopping it."""

    instruction: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_INSTRUCTION)]
    gen: GenId | None = None


class GenResume(_Message, tag="gen.resume"):
    """Follow a generation again after a reconnect: events with seq > ``after``."""

    gen: GenId
    after: Annotated[int, msgspec.Meta(ge=0)] = 0


class FilesSave(_Message, tag="files.save"):
    """Save the files as a new revision, if the playground is still at ``base_version``."""

    # Not bounded here: the save rules (persistence/files.py) check count, paths
    # and sizes and answer files.invalid naming the rule; the message size limit
    # bounds what can arrive at all.
    files: dict[str, str]
    base_version: Annotated[int, msgspec.Meta(ge=0)]
    author: Literal["user", "model"] = "user"
    gen: GenId | None = None  # the generation whose edits this save carries


class Ping(_Message, tag="ping"):
    t: float | None = None


ModelId = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class ModelsList(_Message, tag="models.list"):
    """Ask for the models this playground can use (answered with ``models.listed``)."""


class ModelSelect(_Message, tag="model.select"):
    """Choose the playground's model, by an id from ``models.listed``."""

    model: ModelId
    # The endpoint URL the list came from (``models.listed``' ``endpoint.url``): a page
    # listed before the server was pointed elsewhere is told so, not silently switched.
    endpoint: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class ModelFetch(_Message, tag="model.fetch"):
    """Download a local model that is not on disk yet (progress: ``model.download``)."""

    model: ModelId


class LiveChange(msgspec.Struct, forbid_unknown_fields=True):
    """Replace [from, to) of ``path`` (UTF-16 offsets) with ``insert``."""

    path: Path
    start: Annotated[int, msgspec.Meta(ge=0)] = msgspec.field(name="from")
    end: Annotated[int, msgspec.Meta(ge=0)] = msgspec.field(name="to")
    insert: str = ""


class LivePush(_Message, tag="live.push"):
    """The presenter's editors changed: changes made on version ``base``, or every file."""

    base: Annotated[int, msgspec.Meta(ge=0)]
    changes: Annotated[list[LiveChange], msgspec.Meta(max_length=MAX_FILES * 4)] = []
    # The whole file set (files added, removed or renamed; catching up): taken at any version.
    files: Annotated[dict[Path, str], msgspec.Meta(max_length=MAX_FILES)] | None = None
    active: Path | None = None


ClientMessage = (
    GenStart
    | GenStop
    | GenSteer
    | GenResume
    | FilesSave
    | Ping
    | ModelsList
    | ModelSelect
    | ModelFetch
    | LivePush
)
KNOWN_TYPES = (
    "gen.start",
    "gen.stop",
    "gen.steer",
    "gen.resume",
    "files.save",
    "ping",
    "models.list",
    "model.select",
    "model.fetch",
    "live.push",
)

_decoder: msgspec.json.Decoder[ClientMessage] = msgspec.json.Decoder(ClientMessage)


class ProtocolError(InvalidInputError):
    """A client message that cannot be accepted; ``code`` goes on the wire."""

    def __init__(self, code: str, message: str, **detail: Any) -> None:
        super().__init__(message, code=code, **detail)


_TOO_DEEP = "Message nests too deeply; no message of the protocol nests more than a few levels."


def decode(raw: str | bytes) -> ClientMessage:
    """Parse and validate one client message, or raise ProtocolError."""
    try:
        return _decoder.decode(raw)
    except RecursionError:
        # msgspec decodes (and even skips) nested values recursively: a few
        # thousand brackets exhaust the stack before any schema check runs.
        raise ProtocolError("protocol.invalid", _TOO_DEEP) from None
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "`$.type`" in text or "missing required field `type`" in text:
            return _unknown_type(raw, text)
        raise ProtocolError("protocol.invalid", f"Invalid message: {text}.") from None
    except msgspec.DecodeError as exc:
        raise ProtocolError("protocol.malformed", f"Message is not valid JSON: {exc}.") from None


class _Kind(msgspec.Struct):
    type: object = None  # only the tag is read; every other field is skipped


_kind_decoder = msgspec.json.Decoder(_Kind)


def _unknown_type(raw: str | bytes, text: str) -> ClientMessage:
    try:
        kind = _kind_decoder.decode(raw).type
    except RecursionError:
        raise ProtocolError("protocol.invalid", _TOO_DEEP) from None
    except msgspec.DecodeError:  # not an object (ValidationError is a DecodeError)
        kind = None
    if kind is None:
        raise ProtocolError("protocol.invalid", 'Message must be a JSON object with a "type".')
    known = ", ".join(KNOWN_TYPES)
    raise ProtocolError("protocol.unknown_type", f"Unknown message type {kind!r}; known: {known}.")
