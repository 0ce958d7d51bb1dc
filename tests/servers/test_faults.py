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
import signal
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from playground.testing.servers import redis_server
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.servers.test_scaled import Scaled, browser, scaled_setup

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
