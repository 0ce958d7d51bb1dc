"""Inference backends, chosen by a dotted path in ``settings.FLINT_BACKEND``.

Follows Channels' layer pattern through playground/registry.py: the backend is
built from settings on first use, cached per event loop (it owns a pooled HTTP
client, and pooled connections belong to the loop that opened them), and
dropped when the setting changes.
"""

from __future__ import annotations

from django.conf import settings

from playground.inference.base import Backend
from playground.registry import PerLoop, from_setting


async def _close(backend: Backend) -> None:
    await backend.aclose()


def build_backend(config: dict[str, object]) -> Backend:
    backend: Backend = from_setting(dict(config))
    return backend


backends: PerLoop[Backend] = PerLoop(
    "inference backend",
    lambda: build_backend(settings.FLINT_BACKEND),
    settings=("FLINT_BACKEND",),
    close=_close,
)


def get_backend() -> Backend:
    """The configured backend for the running event loop."""
    return backends.get()
