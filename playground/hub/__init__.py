"""Where a generation's events go, chosen by ``settings.FLINT_HUB["BACKEND"]``.

``playground.hub.memory.MemoryHub`` by default, ``playground.hub.redis.RedisHub``
when ``REDIS_URL`` is set (flint/settings.py). One hub per event loop
(playground/registry.py).
"""

from __future__ import annotations

from django.conf import settings

from playground.hub.base import Control, GenerationUnknownError, Hub, HubUnavailableError
from playground.registry import PerLoop, from_setting


async def _close(hub: Hub) -> None:
    await hub.aclose()


hubs: PerLoop[Hub] = PerLoop(
    "hub", lambda: from_setting(settings.FLINT_HUB), settings=("FLINT_HUB",), close=_close
)


def get_hub() -> Hub:
    """The hub for the running event loop (one per Daphne process)."""
    return hubs.get()


__all__ = ["Control", "GenerationUnknownError", "Hub", "HubUnavailableError", "get_hub", "hubs"]
