"""Inference backends, chosen by a dotted path in a backend setting.

Follows Channels' layer pattern through playground/registry.py: a backend is
built from settings on first use, cached per event loop (it owns a pooled HTTP
client, and pooled connections belong to the loop that opened them), and
dropped when the setting changes.

One backend per model: ``get_backend()`` is the configured one (``FLINT_BACKEND``);
``get_backend("local:<name>")`` or ``get_backend("endpoint:<model>")`` the one for a
playground's chosen model (playground/inference/catalog.py builds its setting).
Local models share one llama.cpp server slot, so at most one is loaded at a time
(playground/inference/local/server.py).
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


def _build_for(model_id: str) -> Backend:
    if not model_id:
        return build_backend(settings.FLINT_BACKEND)
    from playground.inference.catalog import backend_setting

    return build_backend(backend_setting(model_id))


backends: PerLoop[Backend] = PerLoop(
    "inference backend",
    _build_for,
    settings=("FLINT_BACKEND", "FLINT_LOCAL_BACKEND"),
    close=_close,
)


def get_backend(model_id: str | None = None) -> Backend:
    """The backend for the running event loop: the configured one, or ``model_id``'s
    (a key from ``catalog.backend_key``: "" or None is the configured one)."""
    return backends.get(model_id or "")
