"""Per-event-loop singletons: the inference backend, the hub, the quotas, the queues.

Each of them owns connections (a pooled HTTP client, Redis) and pooled
connections belong to the loop that opened them, so there is one instance per
running event loop (a Daphne process has one loop: one instance per process).
This follows Channels' layer pattern (``channels/layers.py``): built from
settings on first use, cached, dropped when one of its settings changes (so
``override_settings`` works in tests), and closed with ``aclose_all`` when the
loop is done (tests; server shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from django.core.signals import setting_changed
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

T = TypeVar("T")

_registries: list[PerLoop[Any]] = []


class PerLoop(Generic[T]):
    """One ``T`` per running event loop (and per key), built by ``build(*key)``."""

    def __init__(
        self,
        name: str,
        build: Callable[..., T],
        *,
        settings: Iterable[str] = (),
        close: Callable[[T], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self._build = build
        self._close = close
        self.settings = frozenset(settings)
        self._cache: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, T]] = (
            weakref.WeakKeyDictionary()
        )
        # Everything built on a loop, so it can be closed before that loop goes
        # away even after a settings change has dropped it from the cache.
        self._built: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[T]] = (
            weakref.WeakKeyDictionary()
        )
        _registries.append(self)

    def get(self, *key: Hashable) -> T:
        loop = asyncio.get_running_loop()
        cache = self._cache.setdefault(loop, {})
        try:
            return cache[key]
        except KeyError:
            item = cache[key] = self._build(*key)
            self._built.setdefault(loop, []).append(item)
            return item

    def reset(self) -> None:
        """Forget every cached instance (the next ``get`` builds anew)."""
        self._cache.clear()

    async def aclose(self) -> None:
        """Close every instance built on the running loop."""
        loop = asyncio.get_running_loop()
        self._cache.pop(loop, None)
        for item in self._built.pop(loop, []):
            if self._close is not None:
                try:
                    await self._close(item)
                except Exception:
                    log.exception("closing %s failed", self.name)


def from_setting(config: dict[str, Any]) -> Any:
    """Build the object a ``{"BACKEND": "dotted.path", "OPTION": value, ...}`` setting names."""
    options = dict(config)
    cls = import_string(options.pop("BACKEND"))
    return cls(**{k.lower(): v for k, v in options.items()})


async def aclose_all() -> None:
    """Close every per-loop singleton built on the running loop."""
    for registry in reversed(_registries):
        with contextlib.suppress(Exception):
            await registry.aclose()


def _on_setting_changed(setting: str, **kwargs: Any) -> None:
    for registry in _registries:
        if setting in registry.settings:
            registry.reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="flint-registry")


def redis_retry() -> Any:
    """What every asyncio Redis client and pool of Flint passes as ``retry=``.

    A command whose connection broke (Redis restarted: every pooled connection is
    dead) is sent again on a new connection, three times over about a second,
    instead of failing the socket that asked (issue #15, tests/servers/test_faults.py).
    """
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff

    return Retry(ExponentialBackoff(cap=0.5, base=0.05), 3)
