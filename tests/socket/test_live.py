"""Presenting live over real sockets: the presenter's pushes reach every viewer in order.

Channels' communicator on one event loop (so the default in-memory store is
shared, as it is in one Daphne process), the HTTP views through Django's
AsyncClient on the same loop, and the scripted upstream for generations.
tests/servers/test_multiprocess.py does it across processes on Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient, override_settings

from flint.asgi import application
from playground import persistence
from playground.live.state import apply_update
from playground.models import Playground
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.socket.test_consumer import OWNER, connect, new_playground, start, until_done

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_store")]


@pytest.fixture(params=["memory", "redis"])
def live_store(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test on both stores: in this process's memory, and in Redis (``live_redis``:
    db 7, the keys a test made deleted after it)."""
    from playground.live import stores

    stores.reset()
    if request.param == "redis":
        request.getfixturevalue("live_redis")
    yield request.param
    stores.reset()


OTHER = "someone-else-token-0123456789abcdefghijkl"


# Database 7 (free for this): only the keys of the presentations made here are deleted.
LIVE_REDIS = "redis://127.0.0.1:6379/7"


@pytest.fixture
def live_redis() -> Iterator[redis.Redis]:
    """The Redis store (as with REDIS_URL) for the presentations of one test."""
    client = redis.Redis.from_url(LIVE_REDIS)
    before = set(client.keys("flint:live:*"))
    with override_settings(
        FLINT_LIVE={"BACKEND": "playground.live.redis.RedisLiveStore", "URL": LIVE_REDIS}
    ):
        yield client
    made = set(client.keys("flint:live:*")) - before
    if made:
        client.delete(*made)
    client.close()


def owner_client() -> AsyncClient:
    client = AsyncClient(headers={"origin": "http://127.0.0.1"})
    client.cookies["flint_owner"] = OWNER
    return client


async def present(pid: str, client: AsyncClient | None = None) -> dict[str, Any]:
    answer = await (client or owner_client()).post(
        f"/api/p/{pid}/present", {}, content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


async def watch(presentation: str, token: str = OTHER) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(
        application,
        f"/ws/live/{presentation}/",
        headers=[
            (b"origin", b"http://127.0.0.1"),
            (b"host", b"127.0.0.1"),
            (b"cookie", f"flint_owner={token}".encode()),
        ],
    )
    connected, _ = await comm.connect()
    assert connected
    ready = await comm.receive_json_from()
    assert ready["type"] == "session.ready" and ready["role"] == "viewer"
    state = await comm.receive_json_from()
    assert state["type"] == "live.state", state
    comm.state = state  # type: ignore[attr-defined]
    return comm


async def next_of(comm: WebsocketCommunicator, kind: str, wait: float = 5) -> dict[str, Any]:
    while True:
        msg = await comm.receive_json_from(timeout=wait)
        if msg["type"] == kind:
            return msg


async def answer_of(comm: WebsocketCommunicator) -> list[dict[str, Any]]:
    """A generation's events as a viewer gets them, up to gen.done."""
    events = [await next_of(comm, "gen.started")]
    while events[-1]["type"] != "gen.done":
        events.append(await comm.receive_json_from(timeout=10))
    return events


def push(base: int, **fields: Any) -> dict[str, Any]:
    return {"type": "live.push", "v": 1, "base": base, **fields}


async def files_of(pid: str) -> dict[str, str]:
    return await database_sync_to_async(lambda: Playground.objects.get(id=pid).files)()


async def test_every_viewer_gets_each_change_in_order_and_ends_with_the_presenters_files() -> None:
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    viewers = [await watch(link["id"]) for _ in range(3)]
    saved = await files_of(pid)
    assert all(v.state["files"] == saved for v in viewers)  # type: ignore[attr-defined]

    await owner.send_json_to(push(0, files={**saved, "index.html": "<h1>Hi</h1>\n"}))
    version = (await next_of(owner, "live.pushed"))["version"]
    typed = "<h1>Hi</h1>\n"
    for i, ch in enumerate("there"):  # keystrokes, one batch each
        await owner.send_json_to(
            push(
                version, changes=[{"path": "index.html", "from": 6 + i, "to": 6 + i, "insert": ch}]
            )
        )
        version = (await next_of(owner, "live.pushed"))["version"]
        typed = typed[: 6 + i] + ch + typed[6 + i :]

    for viewer in viewers:
        files = dict(viewer.state["files"])  # type: ignore[attr-defined]
        seen = viewer.state["version"]  # type: ignore[attr-defined]
        while seen < version:
            update = await next_of(viewer, "live.update")
            assert update["version"] == seen + 1  # no gap, no repeat
            files, seen = apply_update(files, update), update["version"]
        assert files["index.html"] == typed == "<h1>Hithere</h1>\n"
    for comm in [owner, *viewers]:
        await comm.disconnect()


async def test_a_late_viewer_starts_from_the_current_state_at_once() -> None:
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"index.html": "late\n"}, active="index.html"))
    version = (await next_of(owner, "live.pushed"))["version"]
    viewer = await watch(link["id"])
    state = viewer.state  # type: ignore[attr-defined]
    assert state["files"] == {"index.html": "late\n"} and state["version"] == version
    assert state["active"] == "index.html" and state["viewers"] == 1 and not state["ended"]
    await owner.disconnect()
    await viewer.disconnect()


async def test_changes_on_an_old_version_are_refused_and_the_whole_set_catches_up() -> None:
    pid = await new_playground()
    await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": "1\n"}))
    version = (await next_of(owner, "live.pushed"))["version"]
    await owner.send_json_to(
        push(version - 1, changes=[{"path": "a.js", "from": 0, "to": 1, "insert": "2"}])
    )
    refused = await next_of(owner, "error")
    assert refused["code"] == "live.behind" and refused["detail"]["version"] == version
    await owner.send_json_to(
        push(
            0, changes=[{"path": "a.js", "from": 1, "to": 1, "insert": "x"}], files={"a.js": "2\n"}
        )
    )
    assert (await next_of(owner, "live.pushed"))["version"] == version + 1
    viewer = await watch((await persistence.presentation_running_async(pid)).id)
    assert viewer.state["files"] == {"a.js": "2x\n"}  # type: ignore[attr-defined]
    await viewer.disconnect()
    await owner.send_json_to(push(version + 1, changes=[{"path": "a.js", "from": 50, "to": 50}]))
    invalid = await next_of(owner, "error")
    assert invalid["code"] == "live.invalid" and "outside the file" in invalid["message"]
    await owner.disconnect()


async def test_a_viewer_cannot_push_and_a_non_owner_cannot_present() -> None:
    pid = await new_playground()
    link = await present(pid)
    viewer = await watch(link["id"], token=OWNER)  # even the owner's browser, on the live link
    await viewer.send_json_to(push(0, files={"index.html": "hijacked"}))
    refused = await next_of(viewer, "error")
    assert refused["code"] == "auth.forbidden"
    await viewer.send_json_to(start())
    assert (await next_of(viewer, "error"))["code"] == "auth.forbidden"
    stranger = AsyncClient(headers={"origin": "http://127.0.0.1"})
    stranger.cookies["flint_owner"] = OTHER
    answer = await stranger.post(f"/api/p/{pid}/present", {}, content_type="application/json")
    assert answer.status_code == 403 and answer.json()["code"] == "auth.forbidden"
    ended = await stranger.post(f"/api/p/{pid}/present/end", {}, content_type="application/json")
    assert ended.status_code == 403
    # A stranger's socket on the playground itself cannot push either.
    other = await connect(pid, owner=OTHER)
    await other.send_json_to(push(0, files={"index.html": "hijacked"}))
    assert (await next_of(other, "error"))["code"] == "auth.forbidden"
    assert (await persistence.presentation_get_async(link["id"])).ended_at is None
    for comm in (viewer, other):
        await comm.disconnect()


async def test_the_count_of_viewers_reaches_the_presenter_and_the_viewers() -> None:
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": ""}))
    await next_of(owner, "live.pushed")
    first = await watch(link["id"])
    assert (await next_of(owner, "live.viewers"))["count"] == 1
    second = await watch(link["id"])
    assert (await next_of(owner, "live.viewers"))["count"] == 2
    counts = [(await next_of(first, "live.viewers"))["count"] for _ in range(2)]
    assert counts == [1, 2]  # its own arrival, then the second viewer's
    await second.disconnect()
    assert (await next_of(owner, "live.viewers"))["count"] == 1
    await first.disconnect()
    await owner.disconnect()


async def test_viewers_follow_the_presenters_generation_from_its_start(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(
        Reply(text="Make it blue.\n```css style.css\np { color: blue; }\n```\n", rate=400)
    )
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"style.css": "p { color: red; }\n"}))
    await next_of(owner, "live.pushed")
    viewer = await watch(link["id"])
    await owner.send_json_to(start("make it blue"))
    announced = await next_of(viewer, "live.gen")
    assert announced["instruction"] == "make it blue"
    events = await answer_of(viewer)  # relayed to the viewers: no gen.resume sent
    assert "".join(e["text"] for e in events if e["type"] == "gen.delta").startswith("Make it blue")
    owner_events = await until_done(owner)
    assert [e["seq"] for e in events if "seq" in e] == [
        e["seq"] for e in owner_events if "seq" in e
    ]
    # A viewer who joins now is handed the last one (finished: it replays to its end).
    late = await watch(link["id"])
    assert late.state["gen"] == announced["gen"]  # type: ignore[attr-defined]
    assert late.state["instruction"] == "make it blue"  # type: ignore[attr-defined]
    replayed = await answer_of(late)
    assert [e["seq"] for e in replayed if "seq" in e] == [e["seq"] for e in events if "seq" in e]
    for comm in (owner, viewer, late):
        await comm.disconnect()


async def test_ending_keeps_the_last_state_and_the_link_goes_on_showing_it() -> None:
    pid = await new_playground()
    client = owner_client()
    link = await present(pid, client)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"index.html": "final\n"}))
    await next_of(owner, "live.pushed")
    viewer = await watch(link["id"])
    answer = await client.post(f"/api/p/{pid}/present/end", {}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["ended"]
    assert (await next_of(viewer, "live.ended"))["version"] > viewer.state["version"]  # type: ignore[attr-defined]
    assert (await next_of(owner, "live.ended"))["type"] == "live.ended"
    await owner.send_json_to(push(0, files={"index.html": "after the end"}))
    assert (await next_of(owner, "error"))["code"] == "live.not_presenting"
    late = await watch(link["id"])
    assert late.state["ended"] and late.state["files"] == {"index.html": "final\n"}  # type: ignore[attr-defined]
    page = await AsyncClient().get(f"/live/{link['id']}/")
    assert page.status_code == 200 and b"final" in page.content
    assert page.headers["X-Robots-Tag"] == "noindex"
    # Presenting again makes a new link; the old one still shows its last state.
    again = await present(pid, client)
    assert again["id"] != link["id"]
    for comm in (owner, viewer, late):
        await comm.disconnect()


async def test_fork_copies_what_the_link_shows_now() -> None:
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"index.html": "unsaved typing\n"}))
    await next_of(owner, "live.pushed")
    viewer = AsyncClient(enforce_csrf_checks=False)
    answer = await viewer.post(f"/live/{link['id']}/fork")
    assert answer.status_code == 302
    forked = answer["Location"].strip("/").split("/")[-1]
    assert forked != pid and await files_of(forked) == {"index.html": "unsaved typing\n"}
    assert await files_of(pid) != {"index.html": "unsaved typing\n"}  # the original is untouched
    assert "flint_owner" in answer.cookies
    await owner.disconnect()


async def test_unknown_links_are_not_found() -> None:
    comm = WebsocketCommunicator(
        application,
        "/ws/live/nope/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
    )
    connected, code = await comm.connect()
    assert not connected or code == 4404
    page = await AsyncClient().get("/live/nope/")
    assert page.status_code == 404
    fork = await AsyncClient().post("/live/nope/fork")
    assert fork.status_code == 404


async def test_a_presenter_typing_fast_is_not_rate_limited_like_other_messages() -> None:
    # 25 pushes a second (the page's most, one per 40 ms) for longer than the
    # general budget (FLINT_RATE_MESSAGES per FLINT_RATE_WINDOW) would allow.
    pid = await new_playground()
    await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": ""}))
    version = (await next_of(owner, "live.pushed"))["version"]
    for i in range(100):
        change = {"path": "a.js", "from": i, "to": i, "insert": "x"}
        await owner.send_json_to(push(version, changes=[change]))
        answer = await owner.receive_json_from(timeout=5)
        assert answer["type"] == "live.pushed", answer
        version = answer["version"]
    await owner.send_json_to({"type": "ping", "v": 1, "t": 1})
    assert (await next_of(owner, "pong"))["t"] == 1  # the general budget is untouched
    await owner.disconnect()


async def test_a_presentation_the_store_lost_goes_on_from_the_next_push(live_store: str) -> None:
    # The in-memory store is gone with its process; the row says it still runs.
    # (Redis keeps it: a new process finds the state as it was.)
    from playground.live import stores

    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": "before\n"}))
    await next_of(owner, "live.pushed")
    await owner.disconnect()
    stores.reset()  # as after a restart: an empty store
    early = await watch(link["id"])  # a viewer arriving first waits on the saved files
    kept = {"a.js": "before\n"} if live_store == "redis" else await files_of(pid)
    assert not early.state["ended"] and early.state["files"] == kept  # type: ignore[attr-defined]
    owner = await connect(pid)  # the presenting page reconnects and sends its whole set
    await owner.send_json_to(push(0, files={"a.js": "after\n"}))
    assert (await next_of(owner, "live.pushed"))["type"] == "live.pushed"
    assert (await next_of(early, "live.update"))["files"] == {"a.js": "after\n"}
    for comm in (owner, early):
        await comm.disconnect()


async def test_presenting_again_on_the_same_socket_after_an_end_reaches_the_new_link() -> None:
    # Present, End, Present again without reloading: the page's socket is the same,
    # and its first push must go to the new presentation, not be refused as ended.
    pid = await new_playground()
    client = owner_client()
    await present(pid, client)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": "first\n"}))
    await next_of(owner, "live.pushed")
    answer = await client.post(f"/api/p/{pid}/present/end", {}, content_type="application/json")
    assert answer.status_code == 200
    await next_of(owner, "live.ended")
    again = await present(pid, client)
    viewer = await watch(again["id"])
    await owner.send_json_to(push(0, files={"a.js": "second\n"}))
    answer = await owner.receive_json_from(timeout=5)
    assert answer["type"] == "live.pushed", answer
    assert (await next_of(viewer, "live.update"))["files"] == {"a.js": "second\n"}
    for comm in (owner, viewer):
        await comm.disconnect()


async def test_a_viewer_joining_mid_answer_gets_it_from_its_start_once_with_redis(
    use_upstream: ScriptedUpstream, live_redis: redis.Redis
) -> None:
    # The room's relay streams the answer while the late viewer's socket is still
    # reading its state from Redis: what the relay handed it then must not go before
    # (and hide, the page drops seqs it has passed) the replay from the answer's start.
    use_upstream.script(Reply(lorem=3000, rate=3000))
    # A frame per token, so the relay sends several while that state is on its way.
    with override_settings(FLINT_FRAME_INTERVAL=0.0, FLINT_FRAME_MAX_TOKENS=1):
        await _join_mid_answer()


async def _join_mid_answer() -> None:
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": ""}))
    await next_of(owner, "live.pushed")
    first = await watch(link["id"])
    await owner.send_json_to(start())
    await next_of(first, "live.gen")
    for _ in range(3):
        await next_of(first, "gen.delta")
    # A class arriving at once: each socket's state takes a few Redis round trips.
    late = await asyncio.gather(*(watch(link["id"]) for _ in range(8)))
    for viewer in late:
        assert viewer.state["gen"] is not None  # type: ignore[attr-defined]
        events = []
        while not events or events[-1]["type"] != "gen.done":
            msg = await viewer.receive_json_from(timeout=10)
            if "seq" in msg:
                events.append(msg)
        seqs = [e["seq"] for e in events]
        assert events[0]["type"] == "gen.started" and seqs == sorted(set(seqs)), seqs[:20]
    await until_done(owner)
    for comm in (owner, first, *late):
        await comm.disconnect()


async def test_viewers_arriving_at_once_get_each_answer_once_with_redis(
    use_upstream: ScriptedUpstream, live_redis: redis.Redis
) -> None:
    # The viewers of a process the presenter is not on arrive together (a class
    # opening the link): one reader of the presentation's stream for them, not one
    # per arrival, or every event (and every answer, relayed) reaches them twice.
    use_upstream.script(Reply(text="one\n", rate=400), Reply(text="two\n", rate=400))
    pid = await new_playground()
    link = await present(pid)
    viewers = await asyncio.gather(*(watch(link["id"]) for _ in range(4)))
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": ""}))
    await next_of(owner, "live.pushed")
    for instruction in ("first", "second"):
        await owner.send_json_to(start(instruction))
        await until_done(owner)
    for viewer in viewers:
        started: list[str] = []
        msg: dict[str, Any] = {}
        while len(started) < 2 or msg["type"] != "gen.done" or msg["gen"] != started[-1]:
            msg = await viewer.receive_json_from(timeout=10)
            if msg["type"] == "gen.started":
                started.append(msg["gen"])
        # The second answer's relay goes after every relay of the first has ended.
        assert len(started) == len(set(started)) == 2, started
    for comm in (owner, *viewers):
        await comm.disconnect()


async def test_a_cross_site_form_cannot_start_end_or_fork() -> None:
    # What another site's page can send with the owner's cookie: a form POST (no
    # JSON content type, no CSRF token).
    pid = await new_playground()
    link = await present(pid)
    site = AsyncClient(enforce_csrf_checks=True, headers={"origin": "https://evil.example"})
    site.cookies["flint_owner"] = OWNER
    for path in (f"/api/p/{pid}/present", f"/api/p/{pid}/present/end"):
        answer = await site.post(path, {"x": "1"})
        assert answer.status_code == 415, (path, answer.status_code)
        plain = await site.post(path, "{}", content_type="text/plain")
        assert plain.status_code == 415
    fork = await site.post(f"/live/{link['id']}/fork", {})
    assert fork.status_code == 403
    assert (await persistence.presentation_get_async(link["id"])).ended_at is None


async def test_a_viewer_writes_nothing_and_follows_only_this_playground(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(Reply(lorem=1500, rate=1500), Reply(text="elsewhere\n", rate=0))
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": "kept\n"}))
    await next_of(owner, "live.pushed")
    await owner.send_json_to(start())
    gen = (await next_of(owner, "gen.started"))["gen"]
    other = await connect()  # someone else's playground, with its own answer
    await other.send_json_to(start("elsewhere"))
    foreign = (await until_done(other))[0]["gen"]
    viewer = await watch(link["id"])  # mid-answer: it replays it from its start itself
    assert viewer.state["gen"] == gen  # type: ignore[attr-defined]
    writes = [
        start(),
        {"type": "gen.stop", "v": 1, "gen": gen},
        {"type": "gen.steer", "v": 1, "instruction": "stop", "gen": gen},
        {"type": "files.save", "v": 1, "files": {"a.js": "x"}, "base_version": 0},
        {"type": "model.select", "v": 1, "model": "endpoint:x"},
        {"type": "model.fetch", "v": 1, "model": "local:x"},
        push(0, files={"a.js": "hijacked"}),
    ]
    for message in writes:
        await viewer.send_json_to(message)
    await viewer.send_json_to({"type": "gen.resume", "v": 1, "gen": foreign, "after": 0})
    events, refusals = [], []
    while not events or events[-1]["type"] != "gen.done":
        msg = await viewer.receive_json_from(timeout=10)
        if msg["type"] == "error" and msg.get("seq") is None:
            refusals.append(msg["code"])
        elif msg.get("gen") == gen:
            events.append(msg)
        assert msg.get("gen") != foreign or msg["type"] == "error", msg
    assert refusals == ["auth.forbidden"] * len(writes) + ["gen.unknown"]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))  # the answer once, whole, in order
    owner_events = await until_done(owner)
    assert owner_events[-1]["reason"] == "stop"  # finished: the viewer's gen.stop stopped nothing
    assert await files_of(pid) != {"a.js": "x"}
    for comm in (owner, other, viewer):
        await comm.disconnect()


async def test_a_python_playgrounds_live_page_is_isolated_like_its_own_page() -> None:
    # Pyodide needs SharedArrayBuffer for Stop; the viewer runs the same Python.
    pid = await database_sync_to_async(
        lambda: persistence.playground_create("python", owner_token=OWNER).id
    )()
    link = await present(pid)
    own = await owner_client().get(f"/p/{pid}/")
    live = await AsyncClient().get(f"/live/{link['id']}/")
    for page in (own, live):
        assert page.status_code == 200
        assert page.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert page.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert live.headers["Content-Security-Policy"] == own.headers["Content-Security-Policy"]


async def test_typing_past_the_size_rule_is_refused_and_viewers_keep_the_last_good_state() -> None:
    from playground.limits import MAX_PROJECT_BYTES

    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    full = "a" * (MAX_PROJECT_BYTES - 2)  # two bytes short of the rule
    await owner.send_json_to(push(0, files={"a.js": full}))
    version = (await next_of(owner, "live.pushed"))["version"]
    viewer = await watch(link["id"])
    n = len(full)
    await owner.send_json_to(
        push(version, changes=[{"path": "a.js", "from": n, "to": n, "insert": "x"}])
    )
    version = (await next_of(owner, "live.pushed"))["version"]
    await owner.send_json_to(
        push(version, changes=[{"path": "a.js", "from": n + 1, "to": n + 1, "insert": "é"}])
    )
    refused = await next_of(owner, "error")
    assert refused["code"] == "live.invalid" and "2 MiB" in refused["message"], refused
    await owner.send_json_to(
        push(version, changes=[{"path": "a.js", "from": 0, "to": 1, "insert": ""}])
    )
    assert (await next_of(owner, "live.pushed"))["version"] == version + 1  # still at version
    updates = [await next_of(viewer, "live.update") for _ in range(2)]
    assert [u["version"] for u in updates] == [version, version + 1]
    await viewer.disconnect()
    again = await watch(link["id"])
    assert again.state["files"]["a.js"] == full[1:] + "x"  # type: ignore[attr-defined]
    for comm in (owner, again):
        await comm.disconnect()


async def test_a_viewer_reconnecting_mid_answer_misses_nothing(
    use_upstream: ScriptedUpstream,
) -> None:
    # As the page does: it keeps the last seq it handled, reconnects, gets live.state
    # naming the same answer, and asks for the rest (gen.resume after that seq); it
    # drops what it has already seen. What it shows must be the answer, whole.
    use_upstream.script(Reply(lorem=2000, rate=2000))
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": ""}))
    await next_of(owner, "live.pushed")
    viewer = await watch(link["id"])
    await owner.send_json_to(start())
    gen = (await next_of(viewer, "live.gen"))["gen"]
    shown: dict[int, str] = {}
    while len(shown) < 5:
        msg = await viewer.receive_json_from(timeout=10)
        if msg.get("gen") == gen and "seq" in msg:
            shown[msg["seq"]] = msg["type"]
    await viewer.disconnect()
    again = await watch(link["id"])
    assert again.state["gen"] == gen  # type: ignore[attr-defined]
    await again.send_json_to({"type": "gen.resume", "v": 1, "gen": gen, "after": max(shown)})
    last = max(shown)
    while "gen.done" not in shown.values():
        msg = await again.receive_json_from(timeout=10)
        if msg.get("gen") == gen and "seq" in msg and msg["seq"] > last:
            shown[msg["seq"]] = msg["type"]
            last = msg["seq"]
    assert sorted(shown) == list(range(1, len(shown) + 1))
    await until_done(owner)
    for comm in (owner, again):
        await comm.disconnect()


async def test_nothing_is_left_of_a_room_once_its_watchers_leave(
    use_upstream: ScriptedUpstream,
) -> None:
    from playground.live import get_live

    use_upstream.script(Reply(lorem=300, rate=3000))
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"a.js": ""}))
    await next_of(owner, "live.pushed")
    viewers = await asyncio.gather(*(watch(link["id"]) for _ in range(10)))
    await owner.send_json_to(start())
    await next_of(viewers[0], "gen.delta")  # the room's relay is under way
    for comm in (owner, *viewers):
        await comm.disconnect()
    live = get_live()
    assert live._rooms == {} and live._viewers == {}
    assert getattr(live, "_readers", {}) == {} and getattr(live, "_marks", {}) == {}
    assert await live.viewers(link["id"]) == 0
    # The answer itself goes on without watchers (FLINT_ORPHAN_GRACE): let it end
    # here, so its record is not written while the test's database goes away.
    again = await connect(pid)
    if running := again.ready["running"]:  # type: ignore[attr-defined]
        await again.send_json_to({"type": "gen.resume", "v": 1, "gen": running, "after": 0})
        await again.send_json_to({"type": "gen.stop", "v": 1})
        await next_of(again, "gen.done")
    await again.disconnect()
    from playground.persistence.records import records

    await asyncio.sleep(0.05)  # the record is handed to its writer a loop pass after gen.done
    records.flush(10.0)


async def test_two_presenting_tabs_are_each_answered_and_viewers_follow_the_server(
    live_redis: redis.Redis,
) -> None:
    # Two tabs of the owner present at once, each as the page does: changes on the
    # version it last had acknowledged, its whole file set after live.behind.
    pid = await new_playground()
    link = await present(pid)
    tabs = [await connect(pid), await connect(pid)]
    texts, versions = ["", ""], [0, 0]
    for i, tab in enumerate(tabs):
        await tab.send_json_to(push(0, files={"a.js": ""}))
        versions[i] = (await next_of(tab, "live.pushed"))["version"]
    viewer = await watch(link["id"])
    files, seen = dict(viewer.state["files"]), viewer.state["version"]  # type: ignore[attr-defined]
    for n in range(12):
        i = n % 2 if n < 6 else int(n % 3 == 0)
        ch = "ab"[i]
        change = {"path": "a.js", "from": len(texts[i]), "to": len(texts[i]), "insert": ch}
        texts[i] += ch
        await tabs[i].send_json_to(push(versions[i], changes=[change]))
        answer = await answer_to_push(tabs[i])
        if answer["type"] == "error":
            assert answer["code"] == "live.behind", answer
            await tabs[i].send_json_to(push(answer["detail"]["version"], files={"a.js": texts[i]}))
            answer = await answer_to_push(tabs[i])
        assert answer["type"] == "live.pushed", answer
        versions[i] = answer["version"]
        while seen < answer["version"]:
            update = await next_of(viewer, "live.update")
            assert update["version"] == seen + 1
            files, seen = apply_update(files, update), update["version"]
        assert files == {"a.js": texts[i]}  # the last tab to push is what viewers see
    for comm in (*tabs, viewer):
        await comm.disconnect()


async def answer_to_push(tab: WebsocketCommunicator) -> dict[str, Any]:
    while (msg := await tab.receive_json_from(timeout=5))["type"] == "live.viewers":
        pass
    return msg


async def test_the_live_link_never_shows_the_playgrounds_own_id() -> None:
    # /p/<id>/ opens the playground read-only for whoever has its id, after the
    # presentation ends too: a viewer must only ever hold the live link.
    pid = await new_playground()
    link = await present(pid)
    owner = await connect(pid)
    await owner.send_json_to(push(0, files={"index.html": "<h1>hi</h1>\n"}))
    await next_of(owner, "live.pushed")
    page = await AsyncClient().get(f"/live/{link['id']}/")
    assert page.status_code == 200 and pid.encode() not in page.content
    comm = WebsocketCommunicator(
        application,
        f"/ws/live/{link['id']}/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
    )
    assert (await comm.connect())[0]
    seen = [await comm.receive_json_from(), await comm.receive_json_from()]
    assert [m["type"] for m in seen] == ["session.ready", "live.state"]
    assert all(pid not in str(m) for m in seen)
    for c in (comm, owner):
        await c.disconnect()


async def test_an_answer_already_under_way_when_presenting_begins_reaches_the_viewers(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(Reply(lorem=400, rate=400))
    pid = await new_playground()
    owner = await connect(pid)
    await owner.send_json_to(start("a long one"))
    gen = (await next_of(owner, "gen.started"))["gen"]
    link = await present(pid)
    viewer = await watch(link["id"])
    await owner.send_json_to(push(0, files={"a.js": ""}))
    await next_of(owner, "live.pushed")
    assert (await next_of(viewer, "live.gen"))["gen"] == gen
    events = await answer_of(viewer)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # from its start
    for comm in (owner, viewer):
        await comm.disconnect()
