"""Per-socket flood control: a token bucket over inbound messages.

Inbound Channels messages cost ~200 µs each, so a chatty or hostile client can
eat a core. Over the limit a message is refused with the canonical error; a
client that keeps sending while refused is closed with the policy code.
"""

from __future__ import annotations

import time


class TokenBucket:
    def __init__(self, capacity: int, window: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / window  # tokens regained per second
        self.tokens = float(capacity)
        self.stamp = time.monotonic()
        self.refused = 0

    def take(self) -> float:
        """Take one token; return 0 on success, else the seconds until one is free."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused = 0
            return 0.0
        self.refused += 1
        return (1 - self.tokens) / self.rate

    @property
    def abusive(self) -> bool:
        # Sending a full bucket's worth more while already refused is not an accident.
        return self.refused > self.capacity
