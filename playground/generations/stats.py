"""What a generation measures about itself, and when it retries."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from playground.inference.base import InferenceError


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    first_token: float | None = None
    tokens: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    steered_at: float | None = None
    steer_ttft: float | None = None
    queued_for: float = 0.0
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None

    def as_wire(self) -> dict[str, Any]:
        now = time.monotonic()
        ttft = None if self.first_token is None else (self.first_token - self.started) * 1000
        decode_s = 0.0 if self.first_token is None else now - self.first_token
        return {
            "ttft_ms": _ms(ttft),
            "tokens": self.completion_tokens or self.tokens,
            "prompt_tokens": self.prompt_tokens,
            "tokens_per_s": round(self.tokens / decode_s, 1) if decode_s > 0 else None,
            "elapsed_ms": _ms((now - self.started) * 1000),
            "queued_ms": _ms(self.queued_for * 1000),
            "steer_ttft_ms": _ms(None if self.steer_ttft is None else self.steer_ttft * 1000),
            # Predicted outputs (null unless the upstream reports them).
            "accepted_prediction_tokens": self.accepted_prediction_tokens,
            "rejected_prediction_tokens": self.rejected_prediction_tokens,
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class RetryPolicy:
    retries: int = 2
    max_wait: float = 10.0
    base: float = 0.25

    def wait_for(self, attempt: int, error: InferenceError) -> float | None:
        """Seconds to wait before retry ``attempt`` (1-based), or None to give up."""
        if not error.retryable or attempt > self.retries:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_wait else None
        # Full jitter (AWS architecture blog): spreads retries of many clients.
        return random.uniform(0, self.base * 2 ** (attempt - 1))
