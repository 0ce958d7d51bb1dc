"""The inference contract every backend honours.

A backend turns a :class:`ChatRequest` into an async iterator of :class:`Delta`
objects. Cancelling the task that iterates (or calling ``aclose()`` on the
iterator) must close the upstream connection, so the provider stops generating
and billing. Failures are raised as :class:`InferenceError` (a FlintError) with a ``retryable``
flag; the caller decides whether to retry (only before the first token).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from playground.errors import FlintError

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    messages: tuple[Message, ...]
    max_tokens: int | None = None
    temperature: float | None = None
    # Which open playground session asks (its id). A backend that keeps state per
    # session (the Responses WebSocket: one upstream socket per session, kept across
    # turns) keys it by this; the others ignore it.
    session: str | None = None
    # The text the answer is expected to largely repeat (the active file, when the
    # answer format rewrites whole files): sent as a predicted output by backends
    # that support it and are configured to (``PREDICTION=true``); ignored otherwise.
    prediction: str | None = None
    # Text that ends the answer where it appears (Chat Completions ``stop``): the
    # prompt's own layout markers, which nothing worth applying starts with.
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    # Predicted outputs (Chat Completions ``usage.completion_tokens_details``): tokens
    # of the prediction the answer used, and those it did not (billed all the same).
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of the answer: ``text`` (may be empty), ``tokens`` it stands for.

    The last delta of a stream carries ``finish_reason`` and, when the upstream
    reports it, ``usage``. ``steer`` marks the outcome of a native steer (see
    :class:`SteerableBackend`): ``"native"`` where the continuation begins (its text
    follows in later deltas of the same stream), ``"failed"`` when the upstream did
    not take the steer and the caller should cut and continue itself.
    """

    text: str
    tokens: int = 1
    finish_reason: str | None = None
    usage: Usage | None = None
    steer: Literal["native", "failed"] | None = None


ErrorCode = Literal[
    "upstream.auth",
    "upstream.model_not_found",
    "upstream.rate_limited",
    "upstream.server_error",
    "upstream.timeout",
    "upstream.unreachable",
    "upstream.interrupted",
    "upstream.bad_request",
    "upstream.loading",
    "upstream.bad_response",
]


class InferenceError(FlintError):
    """An upstream failure, phrased for the person using Flint.

    ``message`` must never contain a credential: it is sent to the browser.
    ``upstream_status`` is the model server's HTTP status, when it answered.
    """

    status = 502  # Bad Gateway, when it ends an HTTP request

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, code=code, retryable=retryable, retry_after=retry_after)
        self.upstream_status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class BackendInfo:
    name: str
    model: str
    edit_format: str  # the answer format the prompt asks this backend for


# Called while a backend waits before streaming: ("loading", None) while a
# local model loads, ("queued", position) while it waits its turn.
OnWait = Callable[[str, int | None], None]


class Backend(Protocol):
    info: BackendInfo
    # Streams this backend serves at once (None: FLINT_MAX_CONCURRENT); the local
    # model serves one, and the generation queue tells the others their place.
    max_concurrent: int | None
    # Prompt budget in tokens the backend can take (None: FLINT_CONTEXT_TOKENS).
    context_tokens: int | None

    def stream(
        self, request: ChatRequest, *, on_wait: OnWait | None = None
    ) -> AsyncIterator[Delta]:
        """Return an async iterator of deltas; see the module docstring."""
        ...

    async def aclose(self) -> None:
        """Release pooled connections (process shutdown, tests)."""
        ...


class SteerableBackend(Backend, Protocol):
    """A backend that can redirect a stream in flight itself (an optional capability).

    ``steer`` is asked first when the user steers; False means "not here" (no stream of
    that session in flight, the model cannot steer, ...) and the caller cuts the
    answer and streams a continuation as for any backend. True means the upstream
    has the correction: the running stream then yields a ``Delta(steer="native")``
    where the continuation begins, or ``Delta(steer="failed")`` if the upstream
    handed the correction back, after which the caller cuts and continues itself.
    """

    async def steer(self, request: ChatRequest, instruction: str) -> bool: ...
