"""decode(): every client message type, and each way a message is refused.

Pure: no socket, no Django. The socket's own refusals (binary frames, size,
flood) are in tests/protocol/test_contract.py and tests/socket/.
"""

from __future__ import annotations

import typing

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.errors import FlintError, InvalidInputError
from playground.protocol import (
    KNOWN_TYPES,
    MAX_FILES,
    MAX_INSTRUCTION,
    MAX_PATH,
    ClientMessage,
    FilesSave,
    GenResume,
    GenStart,
    GenSteer,
    GenStop,
    Ping,
    ProtocolError,
    Selection,
    decode,
)


def raw(**message: object) -> bytes:
    return orjson.dumps(message)


def refused(data: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode(data)
    return info.value


# --- valid messages of each type ----------------------------------------------------


def test_gen_start_with_every_field() -> None:
    msg = decode(
        raw(
            type="gen.start",
            v=1,
            instruction="make it blue",
            files={"style.css": "p {}\n", "index.html": "<p>hi</p>"},
            active="style.css",
            selection={"path": "style.css", "start": 0, "end": 4},
            client_id="c-1",
        )
    )
    assert msg == GenStart(
        instruction="make it blue",
        files={"style.css": "p {}\n", "index.html": "<p>hi</p>"},
        active="style.css",
        selection=Selection("style.css", 0, 4),
        client_id="c-1",
    )


def test_gen_start_needs_only_instruction_and_files_and_v_may_be_omitted() -> None:
    msg = decode(raw(type="gen.start", instruction="x", files={}))
    assert isinstance(msg, GenStart)
    assert (msg.v, msg.active, msg.selection, msg.client_id) == (1, None, None, None)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "gen.stop"}, GenStop()),
        ({"type": "gen.stop", "v": 1, "gen": "g_1"}, GenStop(gen="g_1")),
        ({"type": "gen.steer", "instruction": "use flexbox"}, GenSteer(instruction="use flexbox")),
        (
            {"type": "gen.steer", "instruction": "x", "gen": "g_1"},
            GenSteer(instruction="x", gen="g_1"),
        ),
        ({"type": "gen.resume", "gen": "g_1"}, GenResume(gen="g_1", after=0)),
        ({"type": "gen.resume", "gen": "g_1", "after": 7}, GenResume(gen="g_1", after=7)),
        (
            {"type": "files.save", "files": {"a.py": "x\n"}, "base_version": 3},
            FilesSave(files={"a.py": "x\n"}, base_version=3, author="user"),
        ),
        (
            {
                "type": "files.save",
                "files": {},
                "base_version": 0,
                "author": "model",
                "gen": "g_1",
            },
            FilesSave(files={}, base_version=0, author="model", gen="g_1"),
        ),
        ({"type": "ping"}, Ping()),
        ({"type": "ping", "v": 1, "t": 12.5}, Ping(t=12.5)),
    ],
)
def test_each_message_type_decodes_to_its_struct(
    message: dict[str, object], expected: ClientMessage
) -> None:
    assert decode(orjson.dumps(message)) == expected


def test_text_and_bytes_decode_alike() -> None:
    text = '{"type": "ping", "t": 1}'
    assert decode(text) == decode(text.encode()) == Ping(t=1)


def test_every_known_type_is_a_tag_of_the_union_and_the_reverse() -> None:
    tags = {member.__struct_config__.tag for member in typing.get_args(ClientMessage)}
    assert tags == set(KNOWN_TYPES)
    assert len(KNOWN_TYPES) == len(set(KNOWN_TYPES))


def test_limits_at_their_edge_are_accepted() -> None:
    files = {f"{i:0{MAX_PATH}d}": "" for i in range(MAX_FILES)}
    msg = decode(raw(type="gen.start", instruction="x" * MAX_INSTRUCTION, files=files))
    assert isinstance(msg, GenStart) and len(msg.files) == MAX_FILES


# --- protocol.malformed -------------------------------------------------------------


@pytest.mark.parametrize(
    "data", ["{not json", "", '{"type": "ping"', "{'type': 'ping'}", b"\xff\xfe", "ping"]
)
def test_what_is_not_json_is_malformed(data: str | bytes) -> None:
    err = refused(data)
    assert err.code == "protocol.malformed"
    assert "not valid JSON" in err.message


# --- protocol.invalid, naming the field ---------------------------------------------


@pytest.mark.parametrize(
    ("message", "names"),
    [
        ({"type": "gen.start", "instruction": "", "files": {}}, "$.instruction"),
        ({"type": "gen.start", "instruction": 5, "files": {}}, "$.instruction"),
        (
            {"type": "gen.start", "instruction": "x" * (MAX_INSTRUCTION + 1), "files": {}},
            "$.instruction",
        ),
        ({"type": "gen.start", "instruction": "x"}, "files"),
        ({"type": "gen.start", "instruction": "x", "files": []}, "$.files"),
        (
            {"type": "gen.start", "instruction": "x", "files": {"a" * (MAX_PATH + 1): ""}},
            "$.files",
        ),
        ({"type": "gen.start", "instruction": "x", "files": {"": ""}}, "$.files"),
        (
            {"type": "gen.start", "instruction": "x", "files": {str(i): "" for i in range(51)}},
            "$.files",
        ),
        ({"type": "gen.start", "instruction": "x", "files": {"a": 1}}, "$.files"),
        (
            {
                "type": "gen.start",
                "instruction": "x",
                "files": {},
                "selection": {"path": "a", "start": -1, "end": 0},
            },
            "$.selection.start",
        ),
        (
            {"type": "gen.start", "instruction": "x", "files": {}, "client_id": "c" * 65},
            "$.client_id",
        ),
        ({"type": "gen.start", "v": 2, "instruction": "x", "files": {}}, "$.v"),
        ({"type": "ping", "extra": True}, "extra"),
        ({"type": "ping", "t": "soon"}, "$.t"),
        ({"type": "gen.stop", "gen": ""}, "$.gen"),
        ({"type": "gen.stop", "gen": "g" * 65}, "$.gen"),
        ({"type": "gen.steer"}, "instruction"),
        ({"type": "gen.resume"}, "gen"),
        ({"type": "gen.resume", "gen": "g_1", "after": -1}, "$.after"),
        ({"type": "files.save", "files": {}}, "base_version"),
        ({"type": "files.save", "files": {}, "base_version": -1}, "$.base_version"),
        ({"type": "files.save", "files": {}, "base_version": 1, "author": "robot"}, "$.author"),
    ],
)
def test_a_message_that_breaks_its_schema_is_invalid_and_the_error_names_the_field(
    message: dict[str, object], names: str
) -> None:
    err = refused(orjson.dumps(message))
    assert err.code == "protocol.invalid"
    assert names in err.message, err.message


@pytest.mark.parametrize(("data", "says"), [("[1, 2]", "object"), ("null", "object"), ('"x"', "")])
def test_json_that_is_not_an_object_is_invalid(data: str, says: str) -> None:
    err = refused(data)
    assert err.code == "protocol.invalid" and says in err.message


# --- protocol.unknown_type, listing the known ones ----------------------------------


@pytest.mark.parametrize("kind", ["gen.launch", "GEN.START", "pong", "error", 5])
def test_an_unknown_type_is_named_and_the_known_ones_listed(kind: object) -> None:
    err = refused(raw(type=kind, v=1))
    assert err.code == "protocol.unknown_type"
    assert repr(kind) in err.message
    for known in KNOWN_TYPES:
        assert known in err.message


# --- a missing type -----------------------------------------------------------------


@pytest.mark.parametrize("data", ['{"v": 1}', "{}", '{"type": null}', '{"instruction": "x"}'])
def test_a_message_without_a_type_is_invalid_and_says_it_needs_one(data: str) -> None:
    err = refused(data)
    assert err.code == "protocol.invalid"
    assert '"type"' in err.message


# --- what a ProtocolError is --------------------------------------------------------


def test_a_protocol_error_is_a_flint_error_the_socket_can_send_as_is() -> None:
    err = refused("{")
    assert isinstance(err, InvalidInputError) and isinstance(err, FlintError)
    assert err.retryable is False and err.retry_after is None
    assert err.status == 400 and err.detail == {}
    assert err.message.endswith(".")


# --- nothing else ever escapes ------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_message = st.fixed_dictionaries(
    {"type": st.sampled_from([*KNOWN_TYPES, "nope"])},
    optional={
        "v": _json,
        "instruction": _json,
        "files": _json,
        "gen": _json,
        "after": _json,
        "base_version": _json,
        "t": _json,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=64), st.text(max_size=64), _message.map(orjson.dumps)))
def test_any_input_decodes_or_raises_a_protocol_error(data: str | bytes) -> None:
    outcome: ClientMessage | ProtocolError
    try:
        outcome = decode(data)
    except ProtocolError as exc:
        outcome = exc
    if isinstance(outcome, ProtocolError):
        assert outcome.code in ("protocol.malformed", "protocol.invalid", "protocol.unknown_type")
        assert outcome.message
    else:
        assert outcome.__struct_config__.tag in KNOWN_TYPES
