"""Per-loop singletons: one per loop, rebuilt after a settings change, closed with the loop."""

from __future__ import annotations

import asyncio

from django.test import override_settings

from playground.registry import PerLoop, aclose_all, from_setting


class Thing:
    def __init__(self, *key: object) -> None:
        self.key = key
        self.closed = False


async def _close(thing: Thing) -> None:
    thing.closed = True


def test_one_instance_per_loop_and_key() -> None:
    things: PerLoop[Thing] = PerLoop("things", Thing, close=_close)

    async def two_gets() -> tuple[Thing, Thing, Thing]:
        return things.get(), things.get(), things.get("other")

    a, b, other = asyncio.run(two_gets())
    assert a is b and other is not a and other.key == ("other",)
    (c, _, _) = asyncio.run(two_gets())
    assert c is not a  # another loop, another instance


async def test_a_settings_change_rebuilds_and_the_old_one_is_still_closed_with_its_loop() -> None:
    things: PerLoop[Thing] = PerLoop("things", Thing, settings=("FLINT_TEST_X",), close=_close)
    first = things.get()
    with override_settings(FLINT_TEST_X=1):
        second = things.get()
    assert second is not first
    await aclose_all()
    assert first.closed and second.closed
    assert things.get() is not second  # closed ones are forgotten


async def test_a_change_of_another_setting_keeps_the_instance() -> None:
    things: PerLoop[Thing] = PerLoop("things", Thing, settings=("FLINT_TEST_X",))
    first = things.get()
    with override_settings(FLINT_TEST_Y=1):
        assert things.get() is first


def test_from_setting_builds_the_dotted_backend_with_lowercased_options() -> None:
    built = from_setting({"BACKEND": "playground.hub.memory.MemoryHub", "TTL": 5})
    assert type(built).__name__ == "MemoryHub" and built.ttl == 5
