"""Present live: owner keystroke -> viewer latency with many viewers, and the owner's turn.

One presented playground; N viewer sockets on /ws/live/<id>/ (spread over
--processes Daphnes; with more than one, on Redis as in production) that behave
like the viewer's page: they follow every generation the presenter starts (the
live socket sends each one's events by itself). Three phases, all on loopback, on
the scripted upstream:

1. the owner's own turns with nobody watching (gen.start sent -> first gen.delta,
   and -> gen.done);
2. the same turns while the N viewers watch and follow each of them;
3. typing: one keystroke per --every seconds (the page's batch interval, 40 ms),
   each a live.push sent after the previous one's live.pushed, as the page does.
   Latency = a viewer receiving that version's live.update - the owner sending it.
   Every viewer must get every version once, in order (gaps and repeats counted).

Run:  python bench/present_bench.py [--viewers 300] [--keystrokes 300] [--turns 40]
                                    [--processes 1] [--every 0.04] [--pause 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_loop_bench import REPO, Procs, cpu_pressure, pct, table

sys.path.insert(0, str(REPO))
from playground.testing.servers import flint_env, migrate

REDIS_URL = "redis://127.0.0.1:6379/8"
ENV = {
    "FLINT_API_KEY": "bench-key",
    "FLINT_MODEL": "gpt-test",
    "FLINT_LOG_LEVEL": "WARNING",
    "FLINT_LIMIT_GENERATIONS": "1000000 per minute",
    "FLINT_LIMIT_GENERATIONS_IP": "1000000 per minute",
    "FLINT_LIMIT_TOKENS": "1000000000 per minute",
    "FLINT_LIMIT_TOKENS_IP": "1000000000 per minute",
}
mono = time.perf_counter
# The presentation this run made and its playground: their Redis keys go at the end.
RUN_PRESENTATION: list[str] = []


def dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


class Viewer:
    """One viewer socket: the time each version reached it, and the generations it followed."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, start: int) -> None:
        self.ws = ws
        self.versions: list[int] = [start]
        self.at: dict[int, float] = {}
        self.done: dict[str, float] = {}  # generation -> its gen.done here
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for msg in self.ws:
            t = mono()
            m = orjson.loads(msg.data)
            kind = m["type"]
            if kind in ("live.update", "live.gen"):
                self.versions.append(m["version"])
                self.at.setdefault(m["version"], t)
            elif kind == "gen.done":
                self.done[m["gen"]] = t

    def faults(self) -> tuple[int, int]:
        """(gaps, repeats) in the versions it was sent."""
        gaps = sum(1 for a, b in zip(self.versions, self.versions[1:], strict=False) if b > a + 1)
        repeats = sum(1 for a, b in zip(self.versions, self.versions[1:], strict=False) if b <= a)
        return gaps, repeats


async def receive(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        m = orjson.loads((await ws.receive(timeout=30)).data)
        if m["type"] == kind:
            return m
        if m["type"] == "error":
            raise RuntimeError(m)


async def owner_turn(ws: aiohttp.ClientWebSocketResponse, i: int) -> tuple[float, float, str]:
    t0 = mono()
    start = {"type": "gen.start", "instruction": f"turn {i}", "files": {"a.js": ""}}
    await ws.send_str(dumps(start))
    first = gen = None
    while True:
        m = orjson.loads((await ws.receive(timeout=30)).data)
        if m["type"] == "gen.started":
            gen = m["gen"]
        elif m["type"] == "gen.delta" and first is None:
            first = mono()
        elif m["type"] == "gen.done":
            assert first is not None and gen is not None
            return first - t0, mono() - t0, gen


async def turns(
    ws: aiohttp.ClientWebSocketResponse, n: int, pause: float
) -> list[tuple[float, float, str]]:
    out = []
    for i in range(n):
        out.append(await owner_turn(ws, i))
        await receive(ws, "allowance")
        await asyncio.sleep(pause)  # a person reads the answer before asking again
    return out


async def run(args: argparse.Namespace, bases: list[str], up: str, pids: list[int]) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(cookie_jar=jar) as owner,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as crowd,
    ):
        await owner.post(up + "/_config", data=orjson.dumps({"default": {"lorem": 28}}))
        async with owner.get(bases[0] + "/") as resp:
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        async with owner.post(bases[0] + f"/api/p/{pid}/present", json={}) as resp:
            link = await resp.json()
        RUN_PRESENTATION.extend([link["id"], f"pg:{pid}"])
        ws = await owner.ws_connect(
            bases[0].replace("http", "ws") + f"/ws/p/{pid}/", origin=bases[0]
        )
        await receive(ws, "session.ready")
        await ws.send_str(dumps({"type": "live.push", "base": 0, "files": {"a.js": ""}}))
        version = (await receive(ws, "live.pushed"))["version"]
        await turns(ws, 3, args.pause)  # warm-up
        alone = await turns(ws, args.turns, args.pause)

        viewers: list[Viewer] = []
        t_join = mono()
        for i in range(args.viewers):
            base = bases[i % len(bases)]
            v = await crowd.ws_connect(
                base.replace("http", "ws") + f"/ws/live/{link['id']}/", origin=base
            )
            await receive(v, "session.ready")
            viewers.append(Viewer(v, (await receive(v, "live.state"))["version"]))
        joined = mono() - t_join
        while (await receive(ws, "live.viewers"))["count"] < args.viewers:
            pass
        watched = await turns(ws, args.turns, args.pause)
        await asyncio.sleep(1)  # the viewers' replays of the last turns end
        followed = sum(1 for v in viewers for _, _, gen in watched if gen in v.done)

        cpu0 = [psutil.Process(p).cpu_times() for p in pids]
        sent: dict[int, float] = {}
        t_type = mono()
        for k in range(args.keystrokes):
            change = {"path": "a.js", "from": k, "to": k, "insert": "x"}
            due = t_type + k * args.every
            if (wait := due - mono()) > 0:
                await asyncio.sleep(wait)
            t = mono()
            await ws.send_str(dumps({"type": "live.push", "base": version, "changes": [change]}))
            version = (await receive(ws, "live.pushed"))["version"]
            sent[version] = t
        deadline = mono() + 30
        while mono() < deadline and any(v.versions[-1] < version for v in viewers):  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # polls the viewers' own tasks; bounded
        typing_s = mono() - t_type
        cpu1 = [psutil.Process(p).cpu_times() for p in pids]
        lat = [(v.at[n] - t) * 1000 for v in viewers for n, t in sent.items() if n in v.at]
        missing = sum(1 for v in viewers for n in sent if n not in v.at)
        gaps = sum(v.faults()[0] for v in viewers)
        repeats = sum(v.faults()[1] for v in viewers)
        for v in viewers:
            await v.ws.close()
            v.task.cancel()
        await ws.close()

    def ms(rows: list[tuple[float, float, str]], i: int) -> list[str]:
        values = [r[i] * 1000 for r in rows]
        return [f"{pct(values, 50):.2f}", f"{pct(values, 95):.2f}", f"{pct(values, 99):.2f}"]

    print(f"\n## The owner's own turn, {args.turns} turns each (28-token answers)\n")
    print(
        table(
            ["", "TTFT p50 ms", "p95", "p99", "turn p50 ms", "p95", "p99"],
            [
                ["nobody watching", *ms(alone, 0), *ms(alone, 1)],
                [f"{args.viewers} viewers following", *ms(watched, 0), *ms(watched, 1)],
            ],
        )
    )
    print(
        f"\n{args.viewers} viewers joined in {joined:.2f} s; they followed"
        f" {followed} of {args.viewers * args.turns} generations to their gen.done."
    )
    print(
        f"\n## Owner keystroke -> viewer ({args.keystrokes} keystrokes,"
        f" one per {args.every * 1000:.0f} ms)\n"
    )
    cpu = [
        (b.user + b.system - a.user - a.system) / typing_s * 100
        for a, b in zip(cpu0, cpu1, strict=True)
    ]
    print(
        table(
            [
                "viewers",
                "processes",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "missing",
                "gaps",
                "repeats",
                "Daphne CPU %",
            ],
            [
                [
                    args.viewers,
                    len(bases),
                    f"{pct(lat, 50):.1f}",
                    f"{pct(lat, 95):.1f}",
                    f"{pct(lat, 99):.1f}",
                    f"{max(lat):.1f}",
                    missing,
                    gaps,
                    repeats,
                    " / ".join(f"{c:.0f}" for c in cpu),
                ]
            ],
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--viewers", type=int, default=300)
    p.add_argument("--keystrokes", type=int, default=300)
    p.add_argument("--turns", type=int, default=40)
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--every", type=float, default=0.04, help="seconds between keystrokes")
    p.add_argument("--pause", type=float, default=0.2, help="seconds between the owner's turns")
    args = p.parse_args()
    started = datetime.datetime.now().astimezone()
    print(
        f"# Flint present benchmark, {started:%Y-%m-%d %H:%M %Z}; {platform.python_version()},"
        f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, {cpu_pressure()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="flint-present-") as tmp:
        procs = Procs(Path(tmp))
        try:
            _, up_base = procs.start_upstream()
            extra = {"REDIS_URL": REDIS_URL} if args.processes > 1 else {}
            env = flint_env(Path(tmp) / "var", FLINT_BASE_URL=up_base, **ENV, **extra)
            migrate(env)
            started_d = [procs.start_daphne(env, f"daphne-{i}") for i in range(args.processes)]
            asyncio.run(
                run(
                    args,
                    [base for _, base in started_d],
                    up_base.removesuffix("/v1"),
                    [pid for pid, _ in started_d],
                )
            )
        finally:
            procs.stop()
            if args.processes > 1:  # the run's own keys only (its presentation's)
                import redis

                client = redis.Redis.from_url(REDIS_URL)
                mine = [k for part in RUN_PRESENTATION for k in client.keys(f"flint:live:{part}*")]
                if mine:
                    client.delete(*mine)


if __name__ == "__main__":
    main()
