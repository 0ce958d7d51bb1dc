"""Faults with real processes (issue #15 item 5): kill -9 a Daphne mid-generation.

The set-up of tests/servers/test_scaled.py (nginx, two Daphne processes,
PostgreSQL), started for each test alone since one of its processes dies, on a
redis-server of the test's own (never the machine's shared one, whose db 10 other
test runs clean up under their feet).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from playground.testing.servers import daphne_server, redis_server
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.conftest import flint_env_for
from tests.servers.test_scaled import POSTGRES, Scaled, browser, scaled_setup

pytestmark = pytest.mark.slow

CLAIM_TTL = 4  # s (FLINT_CLAIM_TTL): how long the dead process's claim outlives it
CSS = "p { color: red; }\n"
EDIT = (
    "style.css\n<<<<<<< SEARCH\np { color: red; }\n=======\np { color: blue; }\n>>>>>>> REPLACE\n"
)


async def open_page_socket(http: Any, base: str, pid: str) -> tuple[Any, dict[str, Any]]:
    ws = await http.ws_connect(base.replace("http", "ws") + f"/ws/p/{pid}/", origin=base)
    ready = await ws.receive_json(timeout=10)
    assert ready["type"] == "session.ready", ready
    return ws, ready


def apply_utf16(text: str, ops: list[dict[str, Any]]) -> str:
    units = text.encode("utf-16-le")
    for op in sorted(ops, key=lambda o: o["from"], reverse=True):
        units = units[: op["from"] * 2] + op["insert"].encode("utf-16-le") + units[op["to"] * 2 :]
    return units.decode("utf-16-le")


def database(scaled: Scaled) -> psycopg.Connection[Any]:
    return psycopg.connect(scaled.env["DATABASE_URL"], autocommit=True)


async def test_kill_9_the_process_running_a_generation(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    text = "".join(f"t{i} " for i in range(20_000))
    upstream.script(Reply(text="Making it blue.\n" + EDIT + text, rate=400))
    with (
        redis_server(tmp_path / "redis") as private,
        scaled_setup(
            tmp_path, upstream, redis_url=private.url, FLINT_CLAIM_TTL=str(CLAIM_TTL)
        ) as scaled,
    ):
        async with browser() as http:
            async with http.get(scaled.proxy + "/") as resp:
                pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
            ws, ready = await open_page_socket(http, scaled.proxy, pid)
            files = {"style.css": CSS}
            start = {"type": "gen.start", "instruction": "make it blue", "files": files}
            await ws.send_str(json.dumps(start))
            got = [await ws.receive_json(timeout=10)]
            assert got[0]["type"] == "gen.started", got[0]
            gen = got[0]["gen"]
            # Past the edit, and 1 s in: the record is begun by now (records.BEGIN_AFTER).
            started = time.monotonic()
            while time.monotonic() - started < 1 or not any(e["type"] == "gen.edit" for e in got):
                got.append(await ws.receive_json(timeout=10))
            path = f"/ws/p/{pid}/"
            counts = scaled.socket_counts(path)
            assert sorted(counts) == [0, 1], counts
            runner = scaled.daphnes[counts.index(1)]
            os.kill(runner.pid, signal.SIGKILL)
            # The socket through nginx drops with its process; anything already sent
            # may still arrive first.
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type.name != "TEXT":
                    break
                got.append(json.loads(msg.data))
            began = time.monotonic()
            ws, again = await open_page_socket(http, scaled.proxy, pid)  # to the live process
            other = scaled.daphnes[counts.index(0)]
            assert scaled.socket_counts(path)[scaled.daphnes.index(other)] == 1
            await ws.send_str(
                json.dumps({"type": "gen.resume", "gen": gen, "after": got[-1]["seq"]})
            )
            # Daphne's pings reset aiohttp's receive timeout: one deadline for all.
            async with asyncio.timeout(30):
                while got[-1]["type"] != "gen.done":
                    got.append(await ws.receive_json())
            ended_after = time.monotonic() - began
            # What the page does at gen.done (autosave.js): save the files with the
            # edits it applied, as the model's revision of this generation.
            edits = [e for e in got if e["type"] == "gen.edit"]
            assert [e["path"] for e in edits] == ["style.css"], "the edit came before the kill"
            saved = {"style.css": apply_utf16(CSS, edits[0]["ops"])}
            save = {"type": "files.save", "files": saved, "base_version": again["version"]}
            await ws.send_str(json.dumps({**save, "author": "model", "gen": gen}))
            reply = await ws.receive_json(timeout=10)
            while reply["type"] == "allowance":  # sent after each gen.done
                reply = await ws.receive_json(timeout=10)
            await ws.close()
        with database(scaled) as db:
            revision = db.execute(
                "SELECT files, author, generation_id, instruction FROM playground_revision"
                " WHERE playground_id = %s ORDER BY number DESC LIMIT 1",
                (pid,),
            ).fetchone()
            record = db.execute(
                "SELECT status, stats FROM playground_generationrecord WHERE id = %s", (gen,)
            ).fetchone()
    assert ready["version"] == again["version"] == 1
    seqs = [e["seq"] for e in got]
    assert seqs == list(range(1, len(got) + 1)), "0 gaps, 0 duplicates"
    interrupted, done = got[-2:]
    assert done["reason"] == "error", done
    assert interrupted["type"] == "error", json.dumps(got[-2:])
    assert interrupted["code"] == "gen.interrupted", got[-4:]
    assert "process running this answer stopped" in interrupted["message"]
    # The claim lapses CLAIM_TTL after the last refresh (at most 1 s before the kill),
    # then the follower's next Redis read (every 2 s) sees it.
    assert ended_after < CLAIM_TTL + 8, ended_after
    assert reply == {"type": "files.saved", "v": 1, "version": 2, "saved": True}, reply
    assert revision == (saved, "model", gen, "make it blue"), "the applied edit is saved"
    # Closed by the surviving process as soon as it ended the log, not at a restart.
    assert record is not None and record[0] == "error", record
    assert record[1]["ended"] == "server_restart", record
    assert "process running this answer stopped" in record[1]["note"]


@contextmanager
def own_database() -> Iterator[str]:
    """A database of this test's own on the shared PostgreSQL (created, then dropped)."""
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {POSTGRES}: {exc}")
    name = f"flint_test_faults_{os.getpid()}_{random.randrange(10**6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def cut_flint_connections(db: psycopg.Connection[Any], waiting: bool = False) -> int:
    """pg_terminate_backend on the Daphne's connections to this test's database (only
    its own: never another's); ``waiting``: only those waiting for a lock. How many."""
    rows = db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND (NOT %s OR wait_event_type = 'Lock')",
        (waiting,),
    ).fetchall()
    return len(rows)


async def wait_for_a_blocked_save(db: psycopg.Connection[Any]) -> None:
    """Until the Daphne's save waits for the row lock (polled: PostgreSQL tells nobody)."""
    deadline = time.monotonic() + 10
    query = (
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%'"
    )
    while db.execute(query).fetchone() is None:
        assert time.monotonic() < deadline, "no save waits for the lock"
        await asyncio.sleep(0.05)


async def saved_reply(ws: Any) -> dict[str, Any]:
    reply: dict[str, Any] = await ws.receive_json(timeout=15)
    return reply


async def test_a_database_connection_cut_mid_save_is_retried_or_reported(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    with own_database() as url, ExitStack() as stack:
        env = flint_env_for(tmp_path, upstream, DATABASE_URL=url)
        flint = stack.enter_context(daphne_server(env))
        db = stack.enter_context(psycopg.connect(url, autocommit=True))
        async with browser() as http:
            async with http.get(flint + "/") as resp:
                pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
            ws, ready = await open_page_socket(http, flint, pid)
            version = ready["version"]

            async def save(text: str) -> dict[str, Any]:
                files = {"index.html": text}
                message = {"type": "files.save", "files": files, "base_version": version}
                await ws.send_str(json.dumps({**message, "author": "user"}))
                return await saved_reply(ws)

            # 1. Cut while idle (CONN_MAX_AGE keeps it between saves): the next save
            # still lands, on a new connection.
            assert cut_flint_connections(db) >= 1
            first = await save("<p>one</p>\n")
            assert first["type"] == "files.saved" and first["saved"], first
            version = first["version"]
            # 2. Cut mid-save: the save's UPDATE waits for a row lock this test holds.
            lock = stack.enter_context(psycopg.connect(url))
            lock.execute("SELECT 1 FROM playground_playground WHERE id = %s FOR UPDATE", (pid,))
            sent = asyncio.ensure_future(save("<p>two</p>\n"))
            await wait_for_a_blocked_save(db)
            assert cut_flint_connections(db, waiting=True) == 1
            await wait_for_a_blocked_save(db)  # the retry, on a new connection, waits too
            lock.commit()
            second = await sent
            assert second["type"] == "files.saved" and second["saved"], second
            version = second["version"]
            # 3. Cut twice (the save and its retry): reported, retryable, not lost.
            lock.execute("SELECT 1 FROM playground_playground WHERE id = %s FOR UPDATE", (pid,))
            sent = asyncio.ensure_future(save("<p>three</p>\n"))
            for _ in range(2):
                await wait_for_a_blocked_save(db)
                assert cut_flint_connections(db, waiting=True) == 1
            refused = await sent
            lock.commit()
            # The page keeps its files and sends them again (autosave.js): now it lands.
            third = await save("<p>three</p>\n")
            await ws.close()
        rows = db.execute(
            "SELECT number, files->>'index.html' FROM playground_revision"
            " WHERE playground_id = %s ORDER BY number",
            (pid,),
        ).fetchall()
    assert refused["type"] == "error" and refused["code"] == "save.unavailable", refused
    assert refused["retryable"] is True and "not saved yet" in refused["message"], refused
    assert third["type"] == "files.saved" and third["version"] == version + 1, third
    assert [r[1] for r in rows[1:]] == ["<p>one</p>\n", "<p>two</p>\n", "<p>three</p>\n"]
    assert [r[0] for r in rows] == [1, 2, 3, 4], "one revision per save: none lost, none twice"


async def until_done(ws: Any, got: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        async with asyncio.timeout(20):
            while not got or got[-1]["type"] != "gen.done":
                got.append(await ws.receive_json())
    except TimeoutError:
        raise AssertionError(f"no gen.done; the last events: {got[-3:]}") from None
    return got


async def test_redis_killed_and_restarted_mid_generation(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    text = "".join(f"t{i} " for i in range(2500))
    upstream.script(Reply(text=text, rate=500), Reply(lorem=20_000, rate=200))
    with (
        redis_server(tmp_path / "redis") as private,
        scaled_setup(
            tmp_path, upstream, redis_url=private.url, FLINT_CLAIM_TTL=str(CLAIM_TTL)
        ) as scaled,
    ):
        async with browser() as http:
            async with http.get(scaled.proxy + "/") as resp:
                pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
            a, b = scaled.daphnes
            owner, ready = await open_page_socket(http, a, pid)
            files = {"index.html": "<p>before</p>\n"}
            save = {"type": "files.save", "files": files, "base_version": ready["version"]}
            await owner.send_str(json.dumps(save))
            assert (await owner.receive_json(timeout=10))["type"] == "files.saved"
            start = {"type": "gen.start", "instruction": "go", "files": files}
            await owner.send_str(json.dumps(start))
            got = [await owner.receive_json(timeout=10)]
            gen = got[0]["gen"]
            follower, _ = await open_page_socket(http, b, pid)  # on the other process
            await follower.send_str(json.dumps({"type": "gen.resume", "gen": gen, "after": 0}))
            seen = [await follower.receive_json(timeout=10)]
            while len(seen) < 5:
                seen.append(await follower.receive_json(timeout=10))
            private.kill()  # SIGKILL mid-generation; what it fsynced is on disk
            await asyncio.sleep(1.5)  # both processes hit the outage meanwhile
            private.start()
            await until_done(owner, got)
            await until_done(follower, seen)
            # The processes' hub connections came back without a restart: a second
            # generation started on A is followed and stopped from B (pub/sub control).
            await owner.send_str(json.dumps({**start, "instruction": "again"}))
            second = [await owner.receive_json(timeout=10)]
            while second[0]["type"] == "allowance":  # after gen.done, unless Redis failed it
                second = [await owner.receive_json(timeout=10)]
            assert second[0]["type"] == "gen.started", second
            await follower.send_str(
                json.dumps({"type": "gen.resume", "gen": second[0]["gen"], "after": 0})
            )
            watched = [await follower.receive_json(timeout=10)]
            while watched[0]["type"] == "allowance":
                watched = [await follower.receive_json(timeout=10)]
            await follower.send_str(json.dumps({"type": "gen.stop", "gen": second[0]["gen"]}))
            await until_done(owner, second)
            await until_done(follower, watched)
            for ws in (owner, follower):
                await ws.close()
        with database(scaled) as db:
            revisions = db.execute(
                "SELECT number, files FROM playground_revision WHERE playground_id = %s",
                (pid,),
            ).fetchall()
            record = db.execute(
                "SELECT status, answer FROM playground_generationrecord WHERE id = %s", (gen,)
            ).fetchone()
    assert [e["seq"] for e in got] == list(range(1, len(got) + 1)), "owner: 0 gaps, 0 dups"
    assert [e["seq"] for e in seen] == [e["seq"] for e in got], "follower: the same events"
    assert got[-1]["reason"] == "stop" and seen[-1]["reason"] == "stop", (got[-1], seen[-1])
    assert "".join(e["text"] for e in seen if e["type"] == "gen.delta") == text
    assert second[-1]["reason"] == "stopped" and watched[-1]["reason"] == "stopped"
    assert sorted(r[0] for r in revisions) == [1, 2] and revisions[-1][1] == files
    assert record == ("done", text), "the generation's record is written"
