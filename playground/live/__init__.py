"""Presenting a playground live: the owner's editors, followed by viewers as they change.

``state.py`` holds the one rule (versioned changes, ordered by the server); the
store keeps each presentation's state and fans its changes out: ``memory.py``
(one process, the default) or ``redis.py`` (several processes, with
``REDIS_URL``), chosen by ``settings.FLINT_LIVE``. One store per event loop.
"""

from __future__ import annotations

from django.conf import settings

from playground.live.memory import MemoryLiveStore, NotPresentingError, Watcher
from playground.live.state import LiveState
from playground.models import Presentation
from playground.registry import PerLoop, from_setting


async def _close(store: MemoryLiveStore) -> None:
    await store.aclose()


stores: PerLoop[MemoryLiveStore] = PerLoop(
    "live", lambda: from_setting(settings.FLINT_LIVE), settings=("FLINT_LIVE",), close=_close
)


def get_live() -> MemoryLiveStore:
    """The presentation store for the running event loop (one per Daphne process)."""
    return stores.get()


async def reopen(presentation: Presentation) -> None:
    """Open ``presentation`` in the store at its playground's saved files, unless it is there.

    At the start, and when the store has lost a running one (a restart of the
    in-memory store): it goes on from the saved files until the presenter's page
    sends its own.
    """
    pg = presentation.playground
    await get_live().begin(presentation.id, pg.id, LiveState(files=dict(pg.files)))


__all__ = ["MemoryLiveStore", "NotPresentingError", "Watcher", "get_live", "reopen", "stores"]
