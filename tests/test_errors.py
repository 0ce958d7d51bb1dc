"""The one error type and the one way it reaches the wire."""

from __future__ import annotations

from playground import protocol
from playground.errors import FlintError, ForbiddenError, InvalidInputError, NotFoundError
from playground.inference.base import InferenceError
from playground.inference.queue import QueueFullError
from playground.persistence.files import BadPathError


def test_every_domain_error_is_a_flint_error_with_a_code_and_a_status() -> None:
    for exc in (
        InferenceError("upstream.auth", "The key was refused.", retryable=False, status=401),
        QueueFullError(12.0),
        BadPathError("Path 'a\\\\b' contains a backslash; use / between folders."),
        ForbiddenError("Only the owner can do this."),
        NotFoundError("No such thing.", code="thing.not_found"),
    ):
        assert isinstance(exc, FlintError)
        assert exc.code and "." in exc.code and 400 <= exc.status < 600


def test_error_from_is_the_one_error_shape() -> None:
    exc = QueueFullError(12.04)
    wire = protocol.error_from(exc, gen="g_1", seq=3)
    assert wire == {
        "v": 1,
        "type": "error",
        "code": "gen.queue_full",
        "message": "Flint is busy; try again in 12 s.",
        "retryable": True,
        "retry_after": 12.0,
        "gen": "g_1",
        "seq": 3,
    }


def test_detail_fields_travel_under_detail() -> None:
    wire = protocol.error_from(BadPathError("Path '' is empty."))
    assert wire["code"] == "files.invalid" and wire["detail"] == {"rule": "bad_path"}


def test_an_upstream_status_is_not_mistaken_for_flints_own_http_status() -> None:
    exc = InferenceError("upstream.auth", "Refused.", retryable=False, status=401)
    assert exc.upstream_status == 401 and exc.status == 502


def test_class_defaults_can_be_overridden_per_instance() -> None:
    exc = InvalidInputError("Nope.", code="protocol.invalid", retryable=True, status=422)
    assert (exc.code, exc.retryable, exc.status, str(exc)) == (
        "protocol.invalid",
        True,
        422,
        "Nope.",
    )
