"""Every message on the playground socket, and the one error shape.

``client``: client → server messages (msgspec schemas tagged by ``type``) and
``decode``; ``server``: a builder for every server → client message. The rest
of Flint imports from here; no module outside this package builds a wire
message. docs/protocol.md documents each message; keep the three in step.

Text positions on the wire are UTF-16 code units (the unit of JavaScript
strings and CodeMirror); see playground/edits/offsets.py for the conversion.
"""

from playground.limits import MAX_FILES, MAX_INSTRUCTION, MAX_PATH
from playground.protocol.client import (
    KNOWN_TYPES,
    PROTOCOL_VERSION,
    ClientMessage,
    FilesSave,
    GenResume,
    GenStart,
    GenSteer,
    GenStop,
    LiveChange,
    LivePush,
    ModelFetch,
    ModelSelect,
    ModelsList,
    Ping,
    ProtocolError,
    Selection,
    decode,
)
from playground.protocol.server import (
    allowance,
    cause,
    dumps,
    edit_event,
    error,
    error_from,
    event,
    files_saved,
    live_event,
    live_pushed,
    live_state,
    model_download,
    model_selected,
    models_listed,
    pong,
    session_ready,
)

__all__ = [
    "KNOWN_TYPES",
    "MAX_FILES",
    "MAX_INSTRUCTION",
    "MAX_PATH",
    "PROTOCOL_VERSION",
    "ClientMessage",
    "FilesSave",
    "GenResume",
    "GenStart",
    "GenSteer",
    "GenStop",
    "LiveChange",
    "LivePush",
    "ModelFetch",
    "ModelSelect",
    "ModelsList",
    "Ping",
    "ProtocolError",
    "Selection",
    "allowance",
    "cause",
    "decode",
    "dumps",
    "edit_event",
    "error",
    "error_from",
    "event",
    "files_saved",
    "live_event",
    "live_pushed",
    "live_state",
    "model_download",
    "model_selected",
    "models_listed",
    "pong",
    "session_ready",
]
