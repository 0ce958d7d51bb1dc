"""docs/protocol.md against the code: every message type, and every error code, for real.

Two halves:

* **Message types**, read statically: what the client may send is the tagged
  union in playground/protocol/client.py; what the server may send is every type
  the builders in playground/protocol/server.py fix, plus every literal type a
  generation emits (``emit("gen.x")``, ``push_event("gen.x")``,
  ``protocol.event("gen.x")`` anywhere in playground/). Both must equal the
  ``### `type` `` headings of their section of the docs, no more, no less.
* **Error codes**, driven: every code in the docs' error table has a driver that
  provokes it through a real path (the real consumer through Channels'
  communicator, the real scripted upstream on loopback) and the error that
  arrives is checked against the one documented shape and the table's row.
"""

from __future__ import annotations

import ast
import asyncio
import re
import typing
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from flint.asgi import application
from playground.protocol import KNOWN_TYPES, ClientMessage
from playground.testing.upstream import Fail, Reply, ScriptedUpstream
from tests.astparse import parse
from tests.conftest import TEST_KEY, backend_config
from tests.socket.test_consumer import connect, new_playground, start, until_done

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"
PACKAGE = ROOT / "playground"
SERVER_BUILDERS = PACKAGE / "protocol" / "server.py"

# --------------------------------------------------------------------------- the docs


@cache
def doc_sections() -> dict[str, str]:
    """The text under each ``## `` heading of docs/protocol.md."""
    sections: dict[str, str] = {}
    title = ""
    for line in DOC.read_text().splitlines(keepends=True):
        if line.startswith("## "):
            title = line[3:].strip()
            sections[title] = ""
        elif title:
            sections[title] += line
    return sections


def documented_types(section: str) -> set[str]:
    return set(re.findall(r"^### `([^`]+)`", doc_sections()[section], re.MULTILINE))


@dataclass(frozen=True)
class Row:
    """One row of the docs' error table."""

    code: str
    when: str
    retryable: bool
    retry_after: bool  # the row says a retry_after comes with it
    detail: frozenset[str]  # the detail.<field>s the row names


@cache
def documented_errors() -> dict[str, Row]:
    text = doc_sections()["Server → client"].split("### `error`", 1)[1]
    rows: dict[str, Row] = {}
    for code, when, retryable in re.findall(
        r"^\| `([a-z_]+\.[a-z_]+)` \| (.+?) \| (.+?) \|$", text, re.MULTILINE
    ):
        assert retryable.split(",")[0] in ("yes", "no"), f"{code}: retryable is {retryable!r}"
        rows[code] = Row(
            code=code,
            when=when,
            retryable=retryable.startswith("yes"),
            retry_after="retry_after" in when + retryable,
            detail=frozenset(re.findall(r"`detail\.(\w+)`", when)),
        )
    return rows


def test_the_docs_name_the_protocol_package_as_their_source_of_truth() -> None:
    head = DOC.read_text().split("## ", 1)[0]
    assert "`playground/protocol/`" in head
    for module in ("client.py", "server.py"):
        assert module in head and (PACKAGE / "protocol" / module).is_file()
    assert "playground/protocol.py" not in DOC.read_text()


def test_the_error_table_is_read_whole() -> None:
    table_lines = [
        line
        for line in doc_sections()["Server → client"].splitlines()
        if line.startswith("| `") and "." in line.split("|")[1]
    ]
    assert len(documented_errors()) == len(table_lines) >= 25


# --------------------------------------------------------------------------- message types


def accepted_types() -> set[str]:
    """The tags of the client message union."""
    return {member.__struct_config__.tag for member in typing.get_args(ClientMessage)}


# Calls whose first argument is a message type, and the call sites allowed to pass
# a type that is not a literal: each forwards types fixed elsewhere and scanned there.
SENDERS = ("emit", "push_event")
FORWARDERS = {
    # FrameRelay.emit hands its own argument to protocol.event (scanned at the emit calls).
    ("playground/generations/relay.py", "emit", "event_type"),
    # The relay flushes queued push_event(...) types (scanned at the push_event calls).
    ("playground/generations/relay.py", "flush", "item.type"),
    # The runner pushes what protocol.edit_event returns (scanned in server.py).
    ("playground/generations/runner.py", "_feed_edits", "event_type"),
}


def _is_sender(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        if func.attr in SENDERS:
            return True
        return (
            func.attr == "event"
            and isinstance(func.value, ast.Name)
            and (func.value.id == "protocol")
        )
    return isinstance(func, ast.Name) and func.id in (*SENDERS, "event")


@cache
def emitted_types() -> tuple[frozenset[str], frozenset[tuple[str, str, str]]]:
    """(literal types passed to emit/push_event/protocol.event, the non-literal call sites)."""
    literal: set[str] = set()
    dynamic: set[tuple[str, str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts or path.is_relative_to(PACKAGE / "testing"):
            continue  # the scripted upstream speaks the model's protocol, not Flint's
        tree = parse(path.read_text(), str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if not (isinstance(node, ast.Call) and _is_sender(node) and node.args):
                    continue
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    literal.add(first.value)
                elif not isinstance(first, ast.Starred):
                    where = path.relative_to(ROOT).as_posix()
                    dynamic.add((where, fn.name, ast.unparse(first)))
    return frozenset(literal), frozenset(dynamic)


@cache
def builder_types() -> frozenset[str]:
    """The types the server.py builders fix: ``"type": "..."`` in a message dict, and
    the literal kinds a builder returns as the first item of a (type, fields) pair."""
    tree = parse(SERVER_BUILDERS.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                ):
                    found.add(value.value)
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        assigned = {
            target.id: stmt.value
            for stmt in ast.walk(fn)
            if isinstance(stmt, ast.Assign)
            for target in stmt.targets
            if isinstance(target, ast.Name)
        }
        for ret in ast.walk(fn):
            if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple):
                head = ret.value.elts[0]
                source = assigned.get(head.id, head) if isinstance(head, ast.Name) else head
                found.update(
                    c.value
                    for c in ast.walk(source)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                )
    return frozenset(found)


def sent_types() -> set[str]:
    return set(builder_types()) | set(emitted_types()[0])


def test_the_scan_sees_what_it_must() -> None:
    # Guards the scan itself: a refactor that hid these from it would make the
    # comparison with the docs vacuous.
    literal, _ = emitted_types()
    assert {"gen.started", "gen.delta", "gen.done", "gen.retry", "gen.steered"} <= literal
    assert {"error", "session.ready", "pong", "gen.edit", "gen.edit_rejected"} <= builder_types()
    assert set(KNOWN_TYPES) == accepted_types()


def test_only_the_known_forwarders_pass_a_type_that_is_not_a_literal() -> None:
    # A new ``emit(some_variable, ...)`` is a type the scan cannot see: name its
    # source here (and make sure that source is scanned) or pass a literal.
    assert set(emitted_types()[1]) == FORWARDERS


def test_the_docs_list_exactly_the_types_a_client_may_send() -> None:
    documented = documented_types("Client → server")
    assert documented == accepted_types(), {
        "accepted but undocumented": sorted(accepted_types() - documented),
        "documented but not accepted": sorted(documented - accepted_types()),
    }


def test_the_docs_list_exactly_the_types_the_server_sends() -> None:
    documented = documented_types("Server → client")
    assert documented == sent_types(), {
        "sent but undocumented": sorted(sent_types() - documented),
        "documented but never sent": sorted(documented - sent_types()),
    }


# --------------------------------------------------------------------------- error codes


@dataclass
class Seen:
    """What a driver provoked: the error, and the socket it arrived on (still open)."""

    error: dict[str, Any]
    comm: WebsocketCommunicator
    # The generation's events up to gen.done, when the error is one of them.
    events: list[dict[str, Any]] | None = None
    # The generation the client named, when the error is about it but not one of its events.
    named: str | None = None
    others: list[WebsocketCommunicator] = field(default_factory=list)
    closes: bool = False  # the error ends the session (server.misconfigured)


@dataclass
class Env:
    up: ScriptedUpstream
    monkeypatch: pytest.MonkeyPatch


Driver = Callable[[Env], Awaitable[Seen]]
DRIVERS: dict[str, Driver] = {}


def driver(code: str) -> Callable[[Driver], Driver]:
    def register(fn: Driver) -> Driver:
        assert code not in DRIVERS, f"two drivers for {code}"
        DRIVERS[code] = fn
        return fn

    return register


def ping(t: float = 1) -> dict[str, Any]:
    return {"type": "ping", "v": 1, "t": t}


async def first_error(comm: WebsocketCommunicator) -> dict[str, Any]:
    while (msg := await comm.receive_json_from(timeout=10))["type"] != "error":
        pass
    return msg


async def sent_raw(text: str | None = None, data: bytes | None = None) -> Seen:
    comm = await connect()
    await comm.send_to(text_data=text, bytes_data=data)
    return Seen(await comm.receive_json_from(), comm)


async def failed_generation(env: Env, *replies: Reply, **settings: Any) -> Seen:
    """Start a generation against the scripted upstream; its error and all its events."""
    env.up.script(*replies)
    with override_settings(**settings):
        comm = await connect()
        await comm.send_json_to(start())
        events = await until_done(comm)
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1, events
    return Seen(errors[0], comm, events=events)


# Every scripted upstream error message carries the provider key (as some providers
# echo the key they refused), so "no key in the error" is a real check of Flint.
LEAKY = f"(request made with key {TEST_KEY})"


def status(http: int, message: str, **extra: Any) -> Reply:
    return Reply(fail=Fail("status", http, message=f"{message} {LEAKY}", **extra))


# --- the socket's own checks ----------------------------------------------------------


@driver("protocol.malformed")
async def _malformed(env: Env) -> Seen:
    return await sent_raw("{not json")


@driver("protocol.invalid")
async def _invalid(env: Env) -> Seen:
    seen = await sent_raw('{"type": "gen.start", "v": 1, "instruction": 5, "files": {}}')
    assert "instruction" in seen.error["message"], "names the field"
    return seen


@driver("protocol.unknown_type")
async def _unknown_type(env: Env) -> Seen:
    seen = await sent_raw('{"type": "gen.launch", "v": 1}')
    assert all(known in seen.error["message"] for known in KNOWN_TYPES), "lists the known"
    return seen


@driver("protocol.too_large")
async def _too_large(env: Env) -> Seen:
    comm = await connect()
    with override_settings(FLINT_MAX_MESSAGE_BYTES=1000):
        await comm.send_json_to(start("x" * 2000))
        err = await comm.receive_json_from()
    assert err["detail"]["limit"] == 1000
    return Seen(err, comm)


@driver("protocol.binary")
async def _binary(env: Env) -> Seen:
    return await sent_raw(data=b"\x00\x01")


@driver("protocol.rate_limited")
async def _rate_limited(env: Env) -> Seen:
    # One message back every 2 s: slow enough that the burst below cannot refill it.
    with override_settings(FLINT_RATE_MESSAGES=3, FLINT_RATE_WINDOW=6):
        comm = await connect()
    for _ in range(4):
        await comm.send_json_to(ping())
    for _ in range(3):
        assert (await comm.receive_json_from())["type"] == "pong"
    err = await comm.receive_json_from()
    await asyncio.sleep(err["retry_after"] + 0.05)  # so the socket can be shown healthy
    return Seen(err, comm)


# --- generations -----------------------------------------------------------------------


@driver("gen.busy")
async def _busy(env: Env) -> Seen:
    env.up.script(Reply(lorem=100_000, rate=500))
    comm = await connect()
    await comm.send_json_to(start())
    running = (await comm.receive_json_from())["gen"]
    await comm.send_json_to(start("another"))
    err = await first_error(comm)
    assert err["detail"]["running"] == running
    await comm.send_json_to({"type": "gen.stop", "v": 1})
    await until_done(comm)
    return Seen(err, comm)


@driver("gen.not_running")
async def _not_running(env: Env) -> Seen:
    return await sent_raw('{"type": "gen.stop", "v": 1}')


@driver("gen.unknown")
async def _unknown(env: Env) -> Seen:
    comm = await connect()
    await comm.send_json_to({"type": "gen.resume", "v": 1, "gen": "g_expired", "after": 3})
    return Seen(await comm.receive_json_from(), comm, named="g_expired")


# The Redis hub of a process whose generation's runner died (issue #15): its own db.
DEAD_RUNNER_REDIS = "redis://127.0.0.1:6379/9"


@driver("gen.interrupted")
async def _interrupted(env: Env) -> Seen:
    # What a killed process leaves in Redis: a started log and its playground, no claim
    # (tests/servers/test_faults.py kills a real one behind nginx). A page resuming it
    # on another process gets the ending that process writes for it.
    import redis

    gen = f"g_dead_{uuid.uuid4().hex[:12]}"
    pid = await new_playground()
    client = redis.Redis.from_url(DEAD_RUNNER_REDIS)
    started = {"v": 1, "type": "gen.started", "gen": gen, "seq": 1}
    client.xadd(f"flint:gen:{gen}", {"e": orjson.dumps(started)})
    client.expire(f"flint:gen:{gen}", 60)
    client.set(f"flint:gen:{gen}:pg", pid, ex=60)
    hub = {"BACKEND": "playground.hub.redis.RedisHub", "URL": DEAD_RUNNER_REDIS, "TTL": 5.0}
    with override_settings(FLINT_HUB=hub):
        comm = await connect(pid)
        await comm.send_json_to({"type": "gen.resume", "v": 1, "gen": gen, "after": 0})
        events = []
        while not events or events[-1]["type"] != "gen.done":
            events.append(await comm.receive_json_from(timeout=15))
        after = await comm.receive_json_from(timeout=10)  # as after any gen.done
        assert after["type"] == "allowance", after
    client.delete(f"flint:gen:{gen}", f"flint:gen:{gen}:pg", f"flint:gen:{gen}:ended")
    [said] = [e for e in events if e["type"] == "error"]
    return Seen(said, comm, events=events)


@driver("gen.follow_lost")
async def _follow_lost(env: Env) -> Seen:
    # What a Redis restarted without persistence can leave: a log missing events (2),
    # its runner still writing (3); tests/servers/test_faults.py restarts a real one.
    import redis

    gen = f"g_lost_{uuid.uuid4().hex[:12]}"
    pid = await new_playground()
    client = redis.Redis.from_url(DEAD_RUNNER_REDIS)
    for seq in (1, 3):
        delta = {"v": 1, "type": "gen.delta", "gen": gen, "seq": seq, "text": "x", "tokens": 1}
        client.xadd(f"flint:gen:{gen}", {"e": orjson.dumps(delta)})
    client.expire(f"flint:gen:{gen}", 60)
    client.set(f"flint:gen:{gen}:pg", pid, ex=60)
    hub = {"BACKEND": "playground.hub.redis.RedisHub", "URL": DEAD_RUNNER_REDIS, "TTL": 5.0}
    with override_settings(FLINT_HUB=hub):
        comm = await connect(pid)
        await comm.send_json_to({"type": "gen.resume", "v": 1, "gen": gen, "after": 0})
        first = await comm.receive_json_from(timeout=10)
        assert first["seq"] == 1, first
        err = await comm.receive_json_from(timeout=10)
    client.delete(f"flint:gen:{gen}", f"flint:gen:{gen}:pg", f"flint:gen:{gen}:watch")
    return Seen(err, comm, named=gen)


@driver("gen.queue_full")
async def _queue_full(env: Env) -> Seen:
    # One stream at a time and no room to wait: a second playground's turn is refused.
    env.up.script(Reply(lorem=100_000, rate=500))
    with override_settings(FLINT_MAX_CONCURRENT=1, FLINT_QUEUE_SIZE=0):
        holder = await connect()
        await holder.send_json_to(start())
        while (await holder.receive_json_from())["type"] != "gen.delta":
            pass
        comm = await connect()
        await comm.send_json_to(start())
        events = await until_done(comm)
        await holder.send_json_to({"type": "gen.stop", "v": 1})
        await until_done(holder)
    return Seen(next(e for e in events if e["type"] == "error"), comm, events, others=[holder])


@driver("rate.limited")
async def _rate_limited_generations(env: Env) -> Seen:
    limits = {
        "generations_user": "1 per minute",
        "generations_ip": "100 per minute",
        "tokens_user": "100000 per hour",
        "tokens_ip": "100000 per hour",
    }
    env.up.script(Reply(text="ok"))
    with override_settings(FLINT_LIMITS=limits):
        comm = await connect()
        await comm.send_json_to(start())
        await until_done(comm)
        await comm.send_json_to(start())
        err = await comm.receive_json_from()
    assert err["detail"] == {"limit": "generations", "scope": "user"}
    return Seen(err, comm)


@driver("gen.too_large")
async def _too_large_prompt(env: Env) -> Seen:
    with override_settings(FLINT_CONTEXT_TOKENS=50):
        comm = await connect()
        await comm.send_json_to(start())
        err = await comm.receive_json_from()
    assert env.up.requests == [], "refused before asking the model"
    return Seen(err, comm)


# --- ownership and saving --------------------------------------------------------------


@driver("auth.forbidden")
async def _forbidden(env: Env) -> Seen:
    viewer = await connect(await new_playground(), owner="someone-else-0123456789abcdefghijkl")
    await viewer.send_json_to(start())
    err = await viewer.receive_json_from()
    assert env.up.requests == []
    return Seen(err, viewer)


@driver("save.conflict")
async def _conflict(env: Env) -> Seen:
    pid = await new_playground()
    first, second = await connect(pid), await connect(pid)
    await first.send_json_to({"type": "files.save", "files": {"a.py": "A\n"}, "base_version": 1})
    assert (await first.receive_json_from())["type"] == "files.saved"
    await second.send_json_to({"type": "files.save", "files": {"a.py": "B\n"}, "base_version": 1})
    err = await second.receive_json_from()
    assert err["detail"] == {"server_version": 2, "server_files": {"a.py": "A\n"}}
    return Seen(err, second, others=[first])


@driver("save.unavailable")
async def _save_unavailable(env: Env) -> Seen:
    # The database connection breaks on the save and on its one retry: the real break
    # (pg_terminate_backend on a real Daphne's connection) is tests/servers/test_faults.py;
    # here every read of the playground's version fails the way a cut connection does.
    from django.db import OperationalError

    from playground.persistence import playgrounds

    pid = await new_playground()
    comm = await connect(pid)
    tries = []

    def cut(playground_id: str) -> Any:
        tries.append(playground_id)
        raise OperationalError("server closed the connection unexpectedly")

    env.monkeypatch.setattr(playgrounds, "current_files", cut)
    await comm.send_json_to({"type": "files.save", "files": {"a.py": "A\n"}, "base_version": 1})
    err = await comm.receive_json_from()
    assert tries == [pid, pid], "one retry, on a new connection"
    return Seen(err, comm)


@driver("files.invalid")
async def _files_invalid(env: Env) -> Seen:
    comm = await connect()
    await comm.send_json_to(
        {"type": "files.save", "files": {"../outside.py": "x\n"}, "base_version": 1}
    )
    err = await comm.receive_json_from()
    assert err["detail"] == {"rule": "bad_path"}
    return Seen(err, comm)


# --- presenting live (tests/socket/test_live.py has the rest) ---------------------------


async def presenting() -> WebsocketCommunicator:
    """The owner's socket of a playground being presented, after its first push."""
    from tests.socket.test_live import present

    pid = await new_playground()
    await present(pid)
    comm = await connect(pid)
    await comm.send_json_to({"type": "live.push", "base": 0, "files": {"a.js": "x\n"}})
    assert (await comm.receive_json_from())["type"] == "live.pushed"
    return comm


@driver("live.behind")
async def _live_behind(env: Env) -> Seen:
    comm = await presenting()
    change = {"path": "a.js", "from": 0, "to": 0, "insert": "y"}
    await comm.send_json_to({"type": "live.push", "base": 0, "changes": [change]})
    err = await comm.receive_json_from()
    assert err["detail"] == {"version": 1}
    return Seen(err, comm)


@driver("live.invalid")
async def _live_invalid(env: Env) -> Seen:
    comm = await presenting()
    await comm.send_json_to({"type": "live.push", "base": 0, "files": {"../up.js": "x"}})
    err = await comm.receive_json_from()
    assert "../up.js" in err["message"]
    return Seen(err, comm)


@driver("live.not_presenting")
async def _live_not_presenting(env: Env) -> Seen:
    comm = await connect()
    await comm.send_json_to({"type": "live.push", "base": 0, "files": {"a.js": ""}})
    return Seen(await comm.receive_json_from(), comm)


# --- the model server ------------------------------------------------------------------


@driver("upstream.auth")
async def _upstream_auth(env: Env) -> Seen:
    return await failed_generation(
        env, status(401, "Incorrect API key provided.", code="invalid_api_key")
    )


@driver("upstream.model_not_found")
async def _model_not_found(env: Env) -> Seen:
    # The model server itself checks the model name (as providers do).
    env.up.configure(check_model=True, models=["gpt-test"])
    try:
        return await failed_generation(
            env, FLINT_BACKEND=backend_config(env.up, model="no-such-model")
        )
    finally:
        env.up.configure(check_model=False)


@driver("upstream.rate_limited")
async def _upstream_rate_limited(env: Env) -> Seen:
    # A Retry-After longer than FLINT_RETRY_MAX_WAIT is reported, not waited out.
    seen = await failed_generation(env, status(429, "Rate limit reached.", retry_after=120))
    assert seen.error["retry_after"] == 120
    return seen


@driver("upstream.server_error")
async def _server_error(env: Env) -> Seen:
    # Both documented paths: an HTTP 5xx, and an error event inside the stream (whose
    # text Flint quotes, so it is the one that could carry the key through).
    http = await failed_generation(env, status(500, "Internal error."), FLINT_RETRIES=0)
    assert_the_one_shape(http, documented_errors()["upstream.server_error"])
    await http.comm.disconnect()
    seen = await failed_generation(
        env, Reply(lorem=20, fail=Fail("error_event", after=5, message=f"Overloaded {LEAKY}"))
    )
    assert "mid-stream" in seen.error["message"] and "Overloaded" in seen.error["message"]
    return seen


@driver("upstream.timeout")
async def _timeout(env: Env) -> Seen:
    return await failed_generation(
        env,
        Reply(lorem=20, fail=Fail("stall", after=5, seconds=5)),
        FLINT_BACKEND=backend_config(env.up, timeout=0.5),
    )


@driver("upstream.unreachable")
async def _unreachable(env: Env) -> Seen:
    from playground.testing.servers import free_port

    dead = backend_config(env.up, base_url=f"http://127.0.0.1:{free_port()}/v1")
    return await failed_generation(env, FLINT_BACKEND=dead, FLINT_RETRIES=0)


@driver("upstream.interrupted")
async def _interrupted(env: Env) -> Seen:
    return await failed_generation(env, Reply(lorem=50, fail=Fail("drop", after=10)))


@driver("upstream.bad_request")
async def _bad_request(env: Env) -> Seen:
    return await failed_generation(
        env, status(400, "This model's maximum context length is exceeded.")
    )


@driver("upstream.loading")
async def _loading(env: Env) -> Seen:
    # Not the real path: the local backend raises upstream.loading only when the
    # local model's load outlasts FLINT_LOCAL_LOAD_TIMEOUT, which needs the model.
    # The closest real path: an OpenAI-compatible server that is loading its model
    # (llama.cpp's own server) answers 503 "Loading model".
    return await failed_generation(env, status(503, "Loading model"), FLINT_RETRIES=0)


@driver("upstream.bad_response")
async def _bad_response(env: Env) -> Seen:
    # A server that is not OpenAI-compatible: after a few tokens, a line that is not JSON.
    return await failed_generation(
        env, Reply(lorem=20, fail=Fail("raw", after=5, raw=b"data: {not json\n\n"))
    )


@driver("gen.answer_too_large")
async def _answer_too_large(env: Env) -> Seen:
    # The real cap is 2x the largest project; a smaller one keeps the test quick.
    env.monkeypatch.setattr("playground.limits.MAX_ANSWER_CHARS", 500)
    seen = await failed_generation(env, Reply(lorem=2_000, rate=100_000))
    kept = sum(len(e["text"]) for e in seen.events if e["type"] == "gen.delta")
    assert kept == 500, "the answer is kept up to the limit"
    return seen


@driver("server.misconfigured")
async def _misconfigured(env: Env) -> Seen:
    # A setting that passed start-up (no `manage.py check`) but cannot serve: an
    # unknown local model. The session says so, then closes with 4500.
    backend = {
        "BACKEND": "playground.inference.local.backend.LocalModelBackend",
        "MODEL": "no-such-model",
    }
    with override_settings(FLINT_BACKEND=backend):
        pid = await new_playground()
        comm = WebsocketCommunicator(
            application,
            f"/ws/p/{pid}/",
            headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
        )
        connected, _ = await comm.connect()
        assert connected
        err = await comm.receive_json_from(timeout=10)
        closed = await comm.receive_output(timeout=10)
    assert closed == {"type": "websocket.close", "code": 4500}, closed
    return Seen(err, comm, closes=True)


@driver("server.error")
async def _bug(env: Env) -> Seen:
    # The one allowed fake: server.error only happens on a bug, so one internal
    # call is made to raise, with a message that must not reach the client.
    from playground.generations.runner import Generation

    def bug(self: Generation, text: str | None) -> None:
        raise RuntimeError(f"internal detail {TEST_KEY}")

    env.monkeypatch.setattr(Generation, "_feed_edits", bug)
    seen = await failed_generation(env, Reply(text="some answer"))
    assert "internal detail" not in seen.error["message"]
    return seen


# --- the model menu ------------------------------------------------------------------------


async def _model_error(message: dict[str, Any]) -> Seen:
    comm = await connect()
    await comm.send_json_to(message)
    return Seen(await first_error(comm), comm)


@driver("model.unknown")
async def _model_unknown(env: Env) -> Seen:
    from playground.inference import catalog

    catalog.forget_listings()  # the endpoint's own list decides, read for real
    seen = await _model_error({"type": "model.select", "model": "endpoint:no-such-model"})
    assert "no-such-model" in seen.error["message"]
    assert seen.error["detail"]["model"] == "endpoint:no-such-model"
    return seen


@driver("model.wrong_endpoint")
async def _model_wrong_endpoint(env: Env) -> Seen:
    seen = await _model_error(
        {"type": "model.select", "model": "endpoint:gpt-test", "endpoint": "https://old.example/v1"}
    )
    assert seen.error["detail"]["endpoint"] == env.up.base_url
    return seen


@driver("model.not_downloadable")
async def _model_not_downloadable(env: Env) -> Seen:
    return await _model_error({"type": "model.fetch", "model": "endpoint:gpt-test"})


@driver("model.download_busy")
async def _model_download_busy(env: Env) -> Seen:
    # A real download runs (from a loopback hub, slowly); a second model is refused.
    import hashlib
    import shutil
    import tempfile

    from playground.inference.local import registry
    from playground.inference.local.registry import ModelSpec
    from playground.testing.hub import FakeHub

    data = b"GGUF" + b"\0" * 400_000
    spec = ModelSpec(
        name="contract-tiny",
        description="synthetic",
        sha256=hashlib.sha256(data).hexdigest(),
        hash_source="computed in the test",
        size=len(data),
        hub_repo="flint-tests/Contract-GGUF",
        hub_file="tiny.gguf",
        parts=(),
    )
    env.monkeypatch.setitem(registry.MODELS, spec.name, spec)
    var = tempfile.mkdtemp(prefix="flint-contract-")
    with FakeHub() as hub, override_settings(VAR_DIR=var):
        hub.add(spec.hub_repo, spec.hub_file, data)
        hub.configure(rate=400_000)  # a second
        env.monkeypatch.setenv("HF_ENDPOINT", hub.url)
        comm = await connect()
        await comm.send_json_to({"type": "model.fetch", "model": "local:contract-tiny"})
        while (await comm.receive_json_from(timeout=10))["type"] != "model.download":
            pass
        await comm.send_json_to({"type": "model.fetch", "model": "local:smollm2-135m"})
        err = await first_error(comm)
        while (msg := await comm.receive_json_from(timeout=10))["type"] != "model.download" or (
            msg["state"] not in ("done", "failed")
        ):
            pass
    shutil.rmtree(var, ignore_errors=True)  # the download has ended: nothing writes there
    assert err["detail"]["running"] == "contract-tiny"
    return Seen(err, comm)


# --- the checks --------------------------------------------------------------------------

WIRE_FIELDS = {"v", "type", "code", "message", "retryable", "retry_after", "gen", "seq", "detail"}


def test_every_documented_error_code_has_a_driver_and_nothing_else_does() -> None:
    documented = set(documented_errors())
    assert set(DRIVERS) == documented, {
        "documented without a driver": sorted(documented - set(DRIVERS)),
        "driven but undocumented": sorted(set(DRIVERS) - documented),
    }


def assert_the_one_shape(seen: Seen, row: Row) -> None:
    err = seen.error
    assert err["v"] == 1 and err["type"] == "error" and err["code"] == row.code, err
    assert set(err) <= WIRE_FIELDS, err
    assert isinstance(err["message"], str) and err["message"].strip()
    assert TEST_KEY not in orjson.dumps(err).decode(), "the provider key reached the client"
    assert type(err["retryable"]) is bool and err["retryable"] is row.retryable, (
        f"{row.code}: retryable is {err['retryable']}, the docs say {row.retryable}"
    )
    if row.retry_after:
        assert isinstance(err.get("retry_after"), int | float) and err["retry_after"] > 0, err
    if "retry_after" in err:
        assert isinstance(err["retry_after"], int | float) and err["retry_after"] >= 0
    assert row.detail <= set(err.get("detail", {})), f"documented detail missing: {err}"
    if "detail" in err:
        assert isinstance(err["detail"], dict) and err["detail"]
    if seen.events is not None:
        # One of a generation's events: its gen, the next seq, then gen.done.
        events = seen.events
        assert err["gen"] == events[0]["gen"] and events[0]["type"] == "gen.started"
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert all(e["gen"] == err["gen"] for e in events)
        done = events[-1]
        assert done["type"] == "gen.done" and done["reason"] == "error"
        assert done["seq"] == err["seq"] + 1, "the error comes right before gen.done"
    elif seen.named is not None:
        assert err["gen"] == seen.named and err["seq"] is None
    else:
        assert "gen" not in err and "seq" not in err, err


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("code", sorted(set(documented_errors()) | set(DRIVERS)))
async def test_each_error_code_reaches_the_client_in_the_one_shape(
    code: str, use_upstream: ScriptedUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = documented_errors().get(code)
    drive = DRIVERS.get(code)
    if row is None or drive is None:
        pytest.fail(f"{code}: documented={row is not None}, driven={drive is not None}")
    seen = await drive(Env(use_upstream, monkeypatch))
    assert_the_one_shape(seen, row)
    if seen.closes:
        return  # the one error that ends the session: it closed with 4500 (above)
    # The error ends nothing but what it is about: the socket still answers.
    await seen.comm.send_json_to(ping(7))
    assert await seen.comm.receive_json_from(timeout=10) == {"v": 1, "type": "pong", "t": 7}
    for comm in (seen.comm, *seen.others):
        await comm.disconnect()


# --- what the table and the shape's prose promise beyond one driver each ------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("files", "rule"),
    [
        ({"../outside.py": "x"}, "bad_path"),
        ({"a\\b.py": "x"}, "bad_path"),
        ({"a.py": "x\x00y"}, "invalid"),
        ({"big.txt": "x" * (2 * 1024 * 1024 + 1)}, "too_large"),
        # too_many cannot arrive over the socket: the schema refuses 51 files first
        # (protocol.invalid); it is reached by imports (tests/persistence).
    ],
)
async def test_files_invalid_says_which_rule_was_broken(
    use_upstream: ScriptedUpstream, files: dict[str, str], rule: str
) -> None:
    with override_settings(FLINT_MAX_MESSAGE_BYTES=4 * 1024 * 1024):
        comm = await connect()
        await comm.send_json_to({"type": "files.save", "files": files, "base_version": 1})
        err = await comm.receive_json_from()
    assert (err["code"], err["detail"], err["retryable"]) == (
        "files.invalid",
        {"rule": rule},
        False,
    )
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_stopping_a_named_generation_that_has_finished_names_it_with_a_null_seq(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(Reply(text="done quickly"))
    comm = await connect()
    await comm.send_json_to(start())
    gen = (await until_done(comm))[0]["gen"]
    await comm.send_json_to({"type": "gen.stop", "v": 1, "gen": gen})
    err = await comm.receive_json_from()
    assert (err["code"], err["gen"], err["seq"]) == ("gen.not_running", gen, None)
    await comm.disconnect()
