"""The builders of server → client messages: each one's exact shape.

Pure: the builders are the only place a wire message is made
(tests/test_architecture.py holds the rest of the tree to that).
"""

from __future__ import annotations

import orjson
import pytest

from playground import protocol
from playground.edits import EditApplied, EditRejected
from playground.errors import FlintError, ForbiddenError
from playground.persistence.files import BadPathError
from playground.protocol import PROTOCOL_VERSION


def test_the_protocol_version_is_one() -> None:
    assert PROTOCOL_VERSION == 1


# --- error ----------------------------------------------------------------------------


def test_error_has_exactly_the_one_shape_and_is_not_retryable_by_default() -> None:
    assert protocol.error("gen.unknown", "Gone.") == {
        "v": 1,
        "type": "error",
        "code": "gen.unknown",
        "message": "Gone.",
        "retryable": False,
    }


def test_error_carries_retry_after_rounded_to_milliseconds() -> None:
    err = protocol.error("protocol.rate_limited", "Wait.", retryable=True, retry_after=0.1234567)
    assert err["retryable"] is True and err["retry_after"] == 0.123


def test_a_zero_retry_after_is_still_sent() -> None:
    assert protocol.error("x.y", "m.", retry_after=0)["retry_after"] == 0


def test_error_of_a_generation_carries_gen_and_seq() -> None:
    err = protocol.error("upstream.auth", "No.", gen="g_1", seq=4)
    assert (err["gen"], err["seq"]) == ("g_1", 4)


def test_an_error_about_a_generation_outside_its_log_has_a_null_seq() -> None:
    # gen.unknown / gen.not_running name the generation, but are not one of its events.
    err = protocol.error("gen.not_running", "Nothing runs.", gen="g_1")
    assert err["gen"] == "g_1" and err["seq"] is None


def test_error_without_a_generation_has_no_gen_or_seq() -> None:
    err = protocol.error("auth.forbidden", "No.")
    assert "gen" not in err and "seq" not in err


def test_extra_fields_go_under_detail_and_detail_is_absent_without_them() -> None:
    err = protocol.error("protocol.too_large", "Big.", limit=1000)
    assert err["detail"] == {"limit": 1000}
    assert "limit" not in err
    assert "detail" not in protocol.error("protocol.binary", "Bin.")


# --- error_from -----------------------------------------------------------------------


def test_error_from_carries_everything_a_flint_error_knows() -> None:
    exc = FlintError(
        "Busy; try later.", code="gen.queue_full", retryable=True, retry_after=2.5, extra=[1]
    )
    assert protocol.error_from(exc, gen="g_9", seq=3) == {
        "v": 1,
        "type": "error",
        "code": "gen.queue_full",
        "message": "Busy; try later.",
        "retryable": True,
        "retry_after": 2.5,
        "gen": "g_9",
        "seq": 3,
        "detail": {"extra": [1]},
    }


def test_error_from_uses_the_class_defaults() -> None:
    err = protocol.error_from(ForbiddenError("Not yours."))
    assert err == {
        "v": 1,
        "type": "error",
        "code": "auth.forbidden",
        "message": "Not yours.",
        "retryable": False,
    }
    assert protocol.error_from(FlintError("Bug."))["code"] == "server.error"


def test_error_from_a_files_error_names_the_rule() -> None:
    err = protocol.error_from(BadPathError("Path '/x' is absolute."))
    assert err["code"] == "files.invalid" and err["detail"] == {"rule": "bad_path"}


def test_error_from_a_protocol_error() -> None:
    exc = protocol.ProtocolError("protocol.invalid", "Invalid message.")
    assert protocol.error_from(exc) == protocol.error("protocol.invalid", "Invalid message.")


# --- cause ----------------------------------------------------------------------------


def test_cause_is_the_error_without_the_envelope() -> None:
    exc = FlintError("Slow down.", code="upstream.rate_limited", retryable=True, retry_after=0.2)
    assert protocol.cause(exc) == {
        "code": "upstream.rate_limited",
        "message": "Slow down.",
        "retryable": True,
        "retry_after": 0.2,
    }
    plain = protocol.cause(FlintError("Down.", code="upstream.server_error", retryable=True))
    assert plain == {"code": "upstream.server_error", "message": "Down.", "retryable": True}


# --- generation events ----------------------------------------------------------------


def test_event_carries_v_type_gen_seq_and_its_fields() -> None:
    assert protocol.event("gen.delta", "g_1", 2, text="hi", tokens=1) == {
        "v": 1,
        "type": "gen.delta",
        "gen": "g_1",
        "seq": 2,
        "text": "hi",
        "tokens": 1,
    }


def test_event_takes_its_type_gen_and_seq_positionally_only() -> None:
    with pytest.raises(TypeError):
        protocol.event(event_type="gen.done", gen="g", seq=1)  # type: ignore[call-arg]


def test_an_applied_edit_is_a_gen_edit() -> None:
    ops = [{"from": 1, "to": 2, "insert": "x"}]
    kind, fields = protocol.edit_event(EditApplied("a.css", 1, ops, "update"))  # type: ignore[arg-type]
    assert kind == "gen.edit"
    assert fields == {"path": "a.css", "hunk": 1, "kind": "update", "ops": ops}
    _, moved = protocol.edit_event(EditApplied("a.css", 2, [], "move", new_path="b.css"))
    assert moved["new_path"] == "b.css"


def test_a_rejected_edit_is_a_gen_edit_rejected() -> None:
    kind, fields = protocol.edit_event(EditRejected("a.py", 3, "No match.", lines="x = 1"))
    assert kind == "gen.edit_rejected"
    assert fields.pop("code") == ""  # the answer's code for Copy; none given here
    assert fields == {
        "path": "a.py",
        "hunk": 3,
        "reason": "No match.",
        "lines": "x = 1",
        "snippet": "",
        "line": None,
        "column": None,
        "ops": None,
    }


# --- the other server messages --------------------------------------------------------


def test_session_ready() -> None:
    assert protocol.session_ready(playground="p", running=None, role="viewer") == {
        "v": 1,
        "type": "session.ready",
        "playground": "p",
        "running": None,
        "role": "viewer",
    }


def test_allowance() -> None:
    assert protocol.allowance({"generations": 3, "tokens": None}) == {
        "v": 1,
        "type": "allowance",
        "generations": 3,
        "tokens": None,
    }


@pytest.mark.parametrize("t", [None, 0, 42.5])
def test_pong_echoes_t(t: float | None) -> None:
    assert protocol.pong(t) == {"v": 1, "type": "pong", "t": t}


def test_files_saved() -> None:
    assert protocol.files_saved(4, False) == {
        "v": 1,
        "type": "files.saved",
        "version": 4,
        "saved": False,
    }


def test_dumps_is_compact_json_text() -> None:
    message = protocol.event("gen.delta", "g", 1, text='👋 "quoted"', tokens=1)
    out = protocol.dumps(message)
    assert isinstance(out, str) and orjson.loads(out) == message
    assert ": " not in out
