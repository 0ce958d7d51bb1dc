"""Inference backends, chosen by a dotted path in ``settings.FLINT_BACKEND``.

Follows Channels' layer pattern: the backend is built from settings on first
use, cached, and dropped when settings change (so ``override_settings`` works
in tests). The cache is per event loop because a backend owns a pooled HTTP
client, and pooled connections belong to the loop that opened them; a Daphne
process has one loop, so in production this is one backend per process.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import Backend

_backends: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Backend] = (
    weakref.WeakKeyDictionary()
)


def build_backend(config: dict[str, Any]) -> Backend:
    options = dict(config)
    cls = import_string(options.pop("BACKEND"))
    backend: Backend = cls(**{k.lower(): v for k, v in options.items()})
    return backend


# Every backend built, so its pool can be closed before its loop goes away,
# even after a settings change has dropped it from the cache.
_built: list[tuple[weakref.ref[asyncio.AbstractEventLoop], Backend]] = []


def get_backend() -> Backend:
    """The configured backend for the running event loop."""
    loop = asyncio.get_running_loop()
    backend = _backends.get(loop)
    if backend is None:
        backend = _backends[loop] = build_backend(settings.FLINT_BACKEND)
        _built.append((weakref.ref(loop), backend))
    return backend


async def aclose_backends() -> None:
    """Close the pools of every backend built on the running loop."""
    loop = asyncio.get_running_loop()
    mine = [b for ref, b in _built if ref() is loop]
    _built[:] = [(ref, b) for ref, b in _built if ref() is not loop and ref() is not None]
    _backends.pop(loop, None)
    for backend in mine:
        await backend.aclose()


def reset_backend() -> None:
    _backends.clear()


@receiver(setting_changed)
def _on_setting_changed(setting: str, **kwargs: Any) -> None:
    if setting == "FLINT_BACKEND":
        reset_backend()
