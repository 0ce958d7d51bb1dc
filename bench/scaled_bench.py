"""Load and soak of the scaled set-up (issue #15, item 6): K Daphnes behind nginx.

What scripts/run-scaled.sh runs, on loopback: K ``daphne flint.asgi:application``
processes (playground/testing/servers.py) on a PostgreSQL database of this run's own
(created, then dropped) and Redis database 8 or 7 (this run's keys are deleted at the end),
Debian's nginx with deploy/nginx.conf.template in front, and the scripted upstream
(playground/testing/upstream.py) streaming 1,000 tok/s per stream, each token its own
SSE event and write. The client and its measurements are bench/live_loop_bench.py's
(``Bench._concurrent_once``: frame latency = receipt of a gen.delta - the upstream
write that completed its tokens).

Sections:

1. ``streams``: S sockets through nginx, 1,000 tok/s each: emitted and delivered tok/s,
   frame latency p50/p95/p99, CPU of each Daphne, nginx, the upstream and this client.
2. ``idle``: N idle sockets held open through nginx across the processes: all accepted?
   how many each process holds, RSS per process before/after, and a ``ping`` on every
   socket answered (``pong``) with its round-trip p50/p99.
3. ``soak``: a steady mixed load for ``--soak-seconds`` (default 600): streaming sockets
   turn after turn, pages opened and closed (a new playground, a short turn, close), idle
   sockets pinging; the RSS of each Daphne every 10 s and its growth per process.

Run:  python bench/scaled_bench.py [--processes 4] [--streams 400] [--seconds 10]
      [--idle 2000] [--soak-seconds 600] [--only streams|idle|soak (repeatable)] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime
import os
import platform
import random
import resource
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # runnable as a plain script from anywhere

import aiohttp  # noqa: E402
import orjson  # noqa: E402
import psutil  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from bench.live_loop_bench import (  # noqa: E402
    BENCH_ENV,
    Bench,
    CpuMeter,
    Procs,
    Turn,
    cpu_pressure,
    mark,
    pct,
    table,
    ws_turn,
)
from playground.testing.servers import (  # noqa: E402
    daphne_server,
    flint_env,
    free_port,
    migrate,
    nginx_proxy,
)

mono = time.monotonic
SECTIONS = ("streams", "idle", "soak")
POSTGRES = os.environ.get("FLINT_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS = "redis://127.0.0.1:6379/"  # db 8 (or 7, --redis-db): free for benchmarks
MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / MB


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far (/proc/stat), every process."""
    with open("/proc/stat") as f:
        # user nice system idle iowait irq softirq steal (guest time is inside user)
        ticks = [int(x) for x in f.readline().split()[1:9]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def nginx_pids(master: int) -> list[int]:
    """nginx's master and its worker(s): the worker does the proxying."""
    proc = psutil.Process(master)
    return [master, *(c.pid for c in proc.children())]


def dump_tasks() -> None:
    for task in asyncio.all_tasks():
        task.print_stack(limit=8, file=sys.stderr)
    sys.stderr.flush()


class ScaledBench(Bench):
    def __init__(self, args: argparse.Namespace, url: str, up_root: str, pids: dict[str, int]):
        super().__init__(args, url, up_root, pids)
        self.daphnes = sorted(k for k in pids if k.startswith("daphne"))
        self.refused: collections.Counter[str] = collections.Counter()

    async def run(self, sections: list[str]) -> None:  # type: ignore[override]
        # kill -USR1 <this pid>: print where every task waits (a run that seems stuck).
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump_tasks)
        self.jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=self.jar
        ) as self.http:
            for name in SECTIONS:
                if name in sections:
                    await getattr(self, name)()
                    self.emit(f"(after {name}: load {os.getloadavg()[0]:.2f}, {cpu_pressure()})\n")
            if self.refused:
                self.emit(f"pages refused and asked again: {dict(self.refused)}")

    def rss(self) -> dict[str, float]:
        return {k: rss_mb(self.pids[k]) for k in self.daphnes}

    async def new_playground(self, base: str | None = None) -> str:
        """GET / -> the new playground's id; an answer other than a redirect is reported
        (printed once per kind, counted) and asked again, at most 5 times."""
        for _ in range(5):
            async with self.http.get((base or self.url) + "/", allow_redirects=False) as r:
                if r.status in (301, 302, 303):
                    return r.headers["Location"].strip("/").rsplit("/", 1)[-1]
                why = f"GET / answered {r.status}: {(await r.text())[:160]!r}"
            if not self.refused[why]:
                self.emit(f"({why})")
            self.refused[why] += 1
            await asyncio.sleep(0.5)
        raise RuntimeError(why)

    async def pages(self, n: int, parallel: int = 16) -> list[str]:
        """``n`` new playgrounds (GET / through nginx), ``parallel`` at a time."""
        # The first page sets this browser's owner cookie; pages asked for in parallel
        # before it would each set another, and own playgrounds the jar forgets.
        first = [] if len(self.jar) else [await self.new_playground()]
        gate = asyncio.Semaphore(parallel)

        async def one() -> str:
            async with gate:
                return await self.new_playground()

        return first + list(await asyncio.gather(*(one() for _ in range(n - len(first)))))

    # ------------------------------------------------------------------ 1. streams

    async def streams(self) -> None:
        levels = [20] if self.args.quick else self.args.streams
        secs = 2.0 if self.args.quick else self.args.seconds
        rows, cpu_rows = [], []
        for c in levels:
            pids = await self.pages(c)
            busy0, all0 = machine_busy()
            try:
                r = await self._concurrent_once(
                    pids, 1000.0, secs, daphne=self.daphnes[0], connect_at_once=self.args.connect
                )
            except RuntimeError as exc:
                self.emit(f"({c} streams failed: {str(exc)[:400]})")
                rows.append([c, "failed (above)"] + [""] * 9)
                continue
            self.results[f"streams {c}"] = r
            k = len(self.daphnes)
            rows.append(
                [
                    f"{c} ({c // k} per process)",
                    f"{c * 1000:,}",
                    f"{r['emitted_total']:,.0f}",
                    f"{r['delivered_total']:,.0f}",
                    f"{r['delivered_p50']:,.0f} / {r['delivered_min']:,.0f}",
                    f"{r['lat_p50']:.0f}",
                    f"{r['lat_p95']:.0f}",
                    f"{r['lat_p99']:.0f}",
                    f"{r['tokens_per_write']:.1f}",
                    f"{r['tokens_per_frame']:.1f}",
                    f"{r['ok']}/{c}" + (f" ({r['timeouts']} timed out)" if r["timeouts"] else ""),
                ]
            )
            busy1, all1 = machine_busy()
            cpu, waited = r["cpu"], r["waited"]
            # The machine's busy share over the whole level (sockets opened, run, records
            # read): % of one core, like the processes' own figures over the run.
            machine = 100 * (os.cpu_count() or 1) * (busy1 - busy0) / max(1e-9, all1 - all0)
            cpu_rows.append(
                [
                    c,
                    f"{r['wall_s']:.1f}",
                    *(f"{cpu[d]:.0f}% ({waited[d]:.0f}%)" for d in self.daphnes),
                    f"{sum(cpu[d] for d in self.daphnes):.0f}%",
                    f"{cpu['nginx']:.0f}%",
                    f"{cpu['upstream']:.0f}% ({waited['upstream']:.0f}%)",
                    f"{cpu['client']:.0f}%",
                    f"{sum(cpu.values()):.0f}%",
                    f"{machine:.0f}%",
                    f"{max(0.0, machine - sum(cpu.values())):.0f}%",
                ]
            )
            self.results[f"streams {c}"]["machine_busy_percent"] = machine
            await asyncio.sleep(1.0)
        self.emit(
            f"## 1. Streams x 1,000 tok/s through nginx across {len(self.daphnes)} Daphne"
            f" processes ({secs:.0f} s of tokens each)"
        )
        self.emit(
            table(
                [
                    "streams",
                    "offered tok/s",
                    "emitted tok/s",
                    "delivered tok/s",
                    "per stream p50/min",
                    "frame lat p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "upstream tok/write",
                    "tok/frame",
                    "text ok",
                ],
                rows,
            )
        )
        self.emit()
        self.emit(
            table(
                [
                    "streams",
                    "run s",
                    *self.daphnes,
                    "all Daphnes",
                    "nginx",
                    "upstream",
                    "client",
                    "total",
                    "machine",
                    "others",
                ],
                cpu_rows,
            )
        )
        self.emit(
            "CPU = % of one core over the run (from the first gen.start to the last gen.done;"
            " this machine has"
            f" {os.cpu_count()}: {100 * (os.cpu_count() or 1)}% in all); in brackets the %"
            " of the run the process\nwas runnable but waited for a CPU; machine = every"
            " process's (/proc/stat) over the level (sockets opened, run, records read),"
            " others = machine - this set-up's total\n(other sessions on the"
            " machine, Redis, PostgreSQL, the kernel's share not charged to a process)."
            " upstream tok/write:"
            " tokens per write of the scripted upstream\n(1.0 = one token per event and"
            " write, as a real server at 1,000 tok/s; more = it fell behind).\nTarget: 400"
            " streams across 4 processes, frame latency p95 <= 50 ms."
        )
        self.emit()

    # ------------------------------------------------------------------ 2. idle

    async def idle(self) -> None:
        n = 200 if self.args.quick else self.args.idle
        before = self.rss()
        t0 = mono()
        pids = await self.pages(max(1, n // self.args.sockets_per_page))
        t_pages = mono() - t0
        gate = asyncio.Semaphore(32)
        failures: collections.Counter[str] = collections.Counter()

        async def open_one(i: int) -> aiohttp.ClientWebSocketResponse | None:
            async with gate:
                try:
                    return await self.connect(pids[i % len(pids)])
                except (aiohttp.ClientError, RuntimeError, TimeoutError) as exc:
                    failures[type(exc).__name__ + ": " + str(exc)[:80]] += 1
                    return None

        t0 = mono()
        opened = await asyncio.gather(*(open_one(i) for i in range(n)))
        t_open = mono() - t0
        socks = [ws for ws in opened if ws is not None]
        try:
            await asyncio.sleep(5.0)  # let every process settle before reading its RSS
            held = self.held()
            after = self.rss()
            rtts = await self.ping_all(socks)
            t_ping = max(rtts) if rtts else float("nan")
            nginx = sum(rss_mb(p) for p in nginx_pids(self.pids["nginx"]))
        finally:
            await asyncio.gather(*(ws.close() for ws in socks), return_exceptions=True)
        self.results["idle"] = {
            "asked": n,
            "accepted": len(socks),
            "failures": dict(failures),
            "held": held,
            "rss_before": before,
            "rss_after": after,
            "pong_ms": rtts,
        }
        self.emit(f"## 2. {n:,} idle sockets through nginx across {len(self.daphnes)} processes")
        self.emit(
            f"accepted {len(socks):,}/{n:,} (session.ready on each) in {t_open:.1f} s, on"
            f" {len(pids):,} playgrounds created in {t_pages:.1f} s"
            + (f"; failures: {dict(failures)}" if failures else "")
        )
        self.emit(
            table(
                ["Daphne", "sockets held", "RSS before MB", "RSS with them MB", "per socket KB"],
                [
                    [
                        d,
                        f"{held.get(d, 0):,}",
                        f"{before[d]:.1f}",
                        f"{after[d]:.1f}",
                        f"{1024 * (after[d] - before[d]) / max(1, held.get(d, 0)):.1f}",
                    ]
                    for d in self.daphnes
                ],
            )
        )
        self.emit(
            f"ping -> pong on every socket at once: {len(rtts):,}/{len(socks):,} answered,"
            f" round trip p50 {pct(rtts, 50):.0f} ms, p99 {pct(rtts, 99):.0f} ms, last"
            f" {t_ping:.0f} ms; nginx RSS {nginx:.1f} MB (master + worker)."
            "\nsockets held = this process's open TCP connections on its port (psutil);"
            " target: 2,000 idle sockets across the processes."
        )
        self.emit()

    def held(self) -> dict[str, int]:
        """Connections accepted on each Daphne's listening port that are open (from nginx:
        the browsers' sockets and its keep-alive connections; not Redis or PostgreSQL)."""
        out = {}
        for d in self.daphnes:
            conns = psutil.Process(self.pids[d]).net_connections(kind="tcp")
            ports = {c.laddr.port for c in conns if c.status == psutil.CONN_LISTEN}
            out[d] = sum(
                c.status == psutil.CONN_ESTABLISHED and c.laddr.port in ports for c in conns
            )
        return out

    async def ping_all(
        self, socks: list[aiohttp.ClientWebSocketResponse], limit: float = 30.0
    ) -> list[float]:
        """One ``ping`` per socket, all sent together; the round trips (ms) answered."""

        async def one(ws: aiohttp.ClientWebSocketResponse) -> float | None:
            t = mono()
            await ws.send_str(orjson.dumps({"type": "ping", "t": t}).decode())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(limit):
                    while True:
                        msg = await ws.receive()
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            return None
                        m = orjson.loads(msg.data)
                        if m.get("type") == "pong" and m.get("t") == t:
                            return 1000 * (mono() - t)
            return None

        got = await asyncio.gather(*(one(ws) for ws in socks), return_exceptions=True)
        return [g for g in got if isinstance(g, float)]

    # ------------------------------------------------------------------ 3. soak

    async def soak(self) -> None:
        q = self.args.quick
        seconds = 30.0 if q else self.args.soak_seconds
        streams = 4 if q else self.args.soak_streams
        idle_n = 40 if q else self.args.soak_idle
        await self.up_post("/_reset", {})
        reply = {"lorem": self.args.soak_tokens, "rate": 1000.0, "ttft": 0.0, "chunk": 1}
        await self.up_post("/_config", {"default": reply})
        end = mono() + seconds
        counts: collections.Counter[str] = collections.Counter()
        samples: list[tuple[float, dict[str, float]]] = []

        async def streamer(i: int) -> None:
            ws = await self.connect((await self.pages(1))[0])
            try:
                turn = 0
                while mono() < end:
                    try:
                        t = await ws_turn(ws, Turn(mark("soak", i * 100_000 + turn)), 60, False)
                    except RuntimeError as exc:  # an error not tied to a generation
                        code = "gen.busy" if "gen.busy" in str(exc) else str(exc)[:60]
                        counts[f"refused {code}"] += 1
                        await asyncio.sleep(0.05)
                        continue
                    counts["turns"] += 1
                    counts[f"turn {t.reason}"] += t.reason != "stop"
                    counts["tokens"] += t.tokens
                    turn += 1
            finally:
                await ws.close()

        async def churn() -> None:  # a page opened, a short turn, closed; again
            i = 0
            while mono() < end:
                ws = await self.connect((await self.pages(1))[0])
                try:
                    await ws.send_str(orjson.dumps({"type": "ping", "t": i}).decode())
                    await ws.receive(timeout=10)
                finally:
                    await ws.close()
                counts["pages"] += 1
                i += 1
                await asyncio.sleep(1.0 / self.args.soak_pages_per_s)

        async def idlers() -> None:
            pids = await self.pages(max(1, idle_n // 10))
            socks = [await self.connect(pids[i % len(pids)]) for i in range(idle_n)]
            try:
                while mono() < end:
                    await asyncio.sleep(10.0)
                    counts["pongs"] += len(await self.ping_all(socks, 10.0))
                    counts["pings"] += len(socks)
            finally:
                await asyncio.gather(*(ws.close() for ws in socks), return_exceptions=True)

        async def sampler() -> None:
            t0 = mono()
            while mono() < end:
                samples.append((mono() - t0, self.rss()))
                # The upstream keeps a record of every write: drop them (config stays).
                await self.up_post("/_reset", {})
                if len(samples) % 6 == 1:
                    line = "  ".join(f"{d} {v:.1f}" for d, v in samples[-1][1].items())
                    self.emit(f"  t={samples[-1][0]:5.0f} s  RSS MB: {line}  ({dict(counts)})")
                await asyncio.sleep(10.0)
            samples.append((mono() - t0, self.rss()))

        meters = {d: CpuMeter(self.pids[d]) for d in self.daphnes}
        for m in meters.values():
            m.start()
        self.emit(
            f"## 3. Soak: {seconds:.0f} s of mixed load ({streams} streams x 1,000 tok/s turn"
            f" after turn, {self.args.soak_pages_per_s:g} page/s opened and closed, {idle_n}"
            " idle sockets pinging every 10 s)"
        )
        await asyncio.gather(sampler(), churn(), idlers(), *(streamer(i) for i in range(streams)))
        cpu = {d: m.stop() for d, m in meters.items()}
        await self.up_post("/_reset", {})
        first, last = samples[0][1], samples[-1][1]
        warm = next((s for t, s in samples if t >= 60.0), first)
        rows = []
        for d in self.daphnes:
            series = [s[d] for _, s in samples]
            rows.append(
                [
                    d,
                    f"{first[d]:.1f}",
                    f"{warm[d]:.1f}",
                    f"{max(series):.1f}",
                    f"{last[d]:.1f}",
                    f"{last[d] - first[d]:+.1f}",
                    f"{last[d] - warm[d]:+.1f}",
                    f"{cpu[d]:.0f}%",
                ]
            )
        odd = {k: v for k, v in counts.items() if k.startswith(("turn ", "refused")) and v}
        self.results["soak"] = {"samples": samples, "counts": dict(counts), "cpu": cpu}
        self.emit(
            table(
                [
                    "Daphne",
                    "RSS at 0 s MB",
                    "at 60 s",
                    "max",
                    "at end",
                    "growth",
                    "growth after 60 s",
                    "CPU",
                ],
                rows,
            )
        )
        self.emit(
            f"{counts['turns']:,} turns ({counts['tokens']:,} tokens), {counts['pages']:,} pages"
            f" opened and closed, {counts['pongs']:,}/{counts['pings']:,} pings answered; not"
            f" ended by stop, or refused: {odd}."
            f"\nRSS sampled every 10 s ({len(samples)} samples). Target: growth under 20 MB"
            " per process."
        )
        self.emit()


@contextlib.contextmanager
def database() -> Any:
    name = f"flint_bench_scaled_{os.getpid()}_{random.randrange(10**6)}"
    admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a fast smoke run (small counts)")
    p.add_argument("--only", action="append", choices=SECTIONS, help="run only this (repeatable)")
    p.add_argument("--processes", type=int, default=4, help="Daphne processes (default 4)")
    p.add_argument("--streams", type=int, nargs="+", default=[400], help="stream counts")
    p.add_argument("--seconds", type=float, default=10.0, help="streaming time per stream")
    p.add_argument(
        "--connect", type=int, default=0, help="streams: sockets opened at a time (0: all)"
    )
    p.add_argument("--idle", type=int, default=2000, help="idle sockets (default 2000)")
    p.add_argument("--sockets-per-page", type=int, default=1, help="idle: sockets per playground")
    p.add_argument("--soak-seconds", type=float, default=600.0)
    p.add_argument("--soak-streams", type=int, default=8, help="soak: streaming sockets")
    p.add_argument("--soak-tokens", type=int, default=2000, help="soak: tokens per turn")
    p.add_argument("--soak-idle", type=int, default=200, help="soak: idle sockets pinging")
    p.add_argument("--soak-pages-per-s", type=float, default=2.0, help="soak: pages opened/s")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every Daphne (e.g. FLINT_EVENT_LOG_TTL=60); repeatable",
    )
    p.add_argument("--redis-db", type=int, choices=(7, 8), default=8, help="Redis database")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    args = p.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.set)
    sections = args.only or list(SECTIONS)
    # Every socket is a file descriptor here, in nginx (two) and in a Daphne.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * args.idle + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    started = datetime.datetime.now().astimezone()
    print(
        f"# Flint scaled-set-up benchmark, {started:%Y-%m-%d %H:%M %Z}; Python"
        f" {platform.python_version()}, {os.cpu_count()} CPUs, load"
        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {cpu_pressure()}; {args.processes}"
        f" Daphne processes, nginx, Redis db {args.redis_db}, PostgreSQL, RLIMIT_NOFILE {want}"
        + (f"; {' '.join(args.set)}" if args.set else "")
        + (" (--quick)" if args.quick else ""),
        flush=True,
    )
    redis_url = f"{REDIS}{args.redis_db}"
    store = redis.Redis.from_url(redis_url)  # only this run's keys are removed at the end
    before = set(store.keys("*"))
    with tempfile.TemporaryDirectory(prefix="flint-scaled-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        procs = Procs(work)
        stack.callback(procs.stop)
        up_pid, up_base = procs.start_upstream()
        url = stack.enter_context(database())
        env = flint_env(
            work / "var",
            FLINT_BASE_URL=up_base,
            DATABASE_URL=url,
            REDIS_URL=redis_url,
            FLINT_TRUSTED_PROXIES="127.0.0.1",
            **{**BENCH_ENV, **extra},
        )
        (work / "var").mkdir()
        migrate(env)
        daphnes = [stack.enter_context(daphne_server(env)) for _ in range(args.processes)]
        ports = [int(d.rsplit(":", 1)[1]) for d in daphnes]
        proxy = stack.enter_context(nginx_proxy(work / "nginx", ports, free_port()))
        pids = {f"daphne{i}": d.pid for i, d in enumerate(daphnes)}
        pids.update(upstream=up_pid, nginx=nginx_pids(proxy.pid)[-1])
        bench = ScaledBench(args, str(proxy), up_base.removesuffix("/v1"), pids)
        print(f"nginx at {proxy}; processes {pids}\n", flush=True)
        try:
            asyncio.run(bench.run(sections))
        finally:
            mine = set(store.keys("*")) - before
            if mine:
                store.delete(*mine)
            store.close()
        if args.json:
            args.json.write_bytes(orjson.dumps(bench.results, option=orjson.OPT_INDENT_2))
    print(f"load at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
