"""The one base error. Every error Flint reports to a person derives from it.

A ``FlintError`` carries what the wire needs: a dotted ``code`` (listed in
docs/protocol.md), a ``message`` that says what was wrong and what to do,
whether trying again can help (``retryable``, ``retry_after``) and the HTTP
status for the HTTP views. ``detail`` holds extra fields some codes carry (a
conflict's server copy, a limit). One function turns any of them into the wire
error: ``playground.protocol.error_from``. Pure: no Django.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FlintError(Exception):
    code: ClassVar[str] = "server.error"
    status: ClassVar[int] = 500  # HTTP status when it answers an HTTP request
    retryable_default: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        status: int | None = None,
        **detail: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]
        if status is not None:
            self.status = status  # type: ignore[misc]
        self.retryable = self.retryable_default if retryable is None else retryable
        self.retry_after = retry_after
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class NotFoundError(FlintError, LookupError):
    status = 404


class ForbiddenError(FlintError, PermissionError):
    code = "auth.forbidden"
    status = 403


class InvalidInputError(FlintError, ValueError):
    status = 400
