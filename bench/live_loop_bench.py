"""Benchmark the live loop: a real Daphne, a real WebSocket client, a scripted upstream.

Three processes on loopback, so none shares a GIL with another:

* the scripted OpenAI-compatible upstream (``python -m playground.testing.upstream``), which
  records the ``time.monotonic()`` of every transport write (one clock for all processes
  on Linux);
* Flint under Daphne (``daphne flint.asgi:application``), pointed at that upstream;
* this process: an aiohttp client that timestamps every frame on receipt.

Sections (all printed side by side in one run):

1. ``rate``: delivered tokens/s of one stream at 1k, 10k and 100k emitted tokens/s (and
   unpaced, to show the ceiling), the upstream's own measured emit rate, frames/s.
2. ``ttft``: added time-to-first-token, upstream's first content write -> first gen.delta
   received by the client, over many turns on one socket.
3. ``turn``: per-turn latency of a tiny reply over the open socket vs a fresh HTTP
   connection per turn (``POST /api/p/<id>/generate``, SSE), minus the upstream's own time.
4. ``concurrent``: N sockets streaming 1000 tokens/s each from one Daphne process:
   delivered rates, frame latency (receipt - upstream write of that token), Daphne CPU.
5. ``upstreams``: the same turns, interleaved, through a Daphne on the HTTP/SSE upstream
   and a second Daphne on the scripted Responses WebSocket upstream
   (``python -m playground.testing.responses_ws``, FLINT_API=responses), over the browser
   socket and over a fresh HTTP request each: added TTFT, turn overhead, Daphne CPU per
   turn; then steer -> first continuation token on both (native steer on the socket).
6. ``realtime`` (issue #15): the cost of one upstream read at a real-time rate. One stream at
   1,000 tok/s (each token its own SSE event, its own HTTP chunk, its own write, 1 ms apart):
   Daphne CPU us per relayed token; then 100 streams x 1,000 tok/s on one process: frame
   latency p50/p95/p99. With ``--baseline REV`` a second Daphne runs the code of git revision
   REV (exported with ``git archive``) on the same upstream, and every figure is measured on
   both, interleaved: before and after in one run.

Run:  python bench/live_loop_bench.py [--quick] [--only SECTION (repeatable)]
      (SECTION: rate ttft turn steer concurrent upstreams realtime)
      [--baseline REV]  (upstreams: the same socket turns through a Daphne of REV too,
      interleaved; realtime: every figure on a Daphne of REV too)
      python bench/live_loop_bench.py --only realtime --baseline main
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import contextlib
import datetime
import os
import platform
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # runnable as a plain script from anywhere

import aiohttp  # noqa: E402
import orjson  # noqa: E402
import psutil  # noqa: E402

from playground.testing.servers import flint_env, free_port, migrate  # noqa: E402
from playground.testing.upstream import lorem_tokens  # noqa: E402

mono = time.monotonic
FILES = {"app.py": "def main():\n    return 1\n"}
MARK_RE = re.compile(r"BENCHMARK-([a-z]+)-(\d+)")
SECTIONS = ("rate", "ttft", "turn", "steer", "concurrent", "upstreams", "realtime")
ASGI_APP = ["flint.asgi:application"]
BENCH_ENV = {
    "FLINT_API_KEY": "bench-key",
    "FLINT_MODEL": "gpt-test",
    "FLINT_LOG_LEVEL": "WARNING",
    # Measure the loop, not the guards: no flood limit, no retries, no
    # per-browser/IP quotas, no upstream concurrency cap or queue.
    "FLINT_RATE_MESSAGES": "100000",
    "FLINT_RETRIES": "0",
    "FLINT_LIMIT_GENERATIONS": "1000000 per minute",
    "FLINT_LIMIT_GENERATIONS_IP": "1000000 per minute",
    "FLINT_LIMIT_TOKENS": "1000000000 per minute",
    "FLINT_LIMIT_TOKENS_IP": "1000000000 per minute",
    "FLINT_MAX_CONCURRENT": "10000",
    "FLINT_QUEUE_SIZE": "10000",
}
PY_SPY = ["py-spy", "record", "--rate", "250", "--nonblocking", "--format", "raw"]


# --------------------------------------------------------------------------- small helpers


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def code_tokens(n: int) -> list[str]:
    """N token-like pieces that read like code: lorem words with a line break every 12."""
    toks = lorem_tokens(n)
    for i in range(11, n, 12):
        toks[i] = "\n   " + toks[i]
    return toks


def mark(tag: str, i: int) -> str:
    return f"BENCHMARK-{tag}-{i}"


def gen_start(instruction: str) -> dict[str, Any]:
    return {"type": "gen.start", "instruction": instruction, "files": FILES, "active": "app.py"}


def cpu_pressure() -> str:
    """Linux PSI: % of the last 10 s / 60 s in which some runnable task waited for a CPU."""
    try:
        with open("/proc/pressure/cpu") as f:
            some = dict(kv.split("=") for kv in f.readline().split()[1:])
        return f"CPU pressure {some['avg10']}% (10 s) / {some['avg60']}% (60 s)"
    except (OSError, KeyError, ValueError):
        return "CPU pressure n/a"


def schedstat(pid: int) -> tuple[int, int]:
    """(ns run on a CPU, ns runnable but waiting for a CPU) summed over a process's threads
    (/proc/PID/task/*/schedstat, Linux). Precise enough to charge one short turn, unlike
    the 10 ms ticks of cpu_times(); the wait shows a process starved by a busy machine."""
    run = wait = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (task / "schedstat").read_text().split()
            run += int(fields[0])
            wait += int(fields[1])
    return run, wait


def cpu_ns(pid: int) -> int:
    return schedstat(pid)[0]


async def settled_cpu_ns(pid: int, step: float = 0.002, limit: float = 0.1) -> int:
    """``cpu_ns`` once the process has gone idle (no CPU used in ``step`` s), so the work
    a turn leaves behind (its record written after gen.done) is charged to that turn."""
    now = cpu_ns(pid)
    deadline = mono() + limit
    while mono() < deadline:
        await asyncio.sleep(step)
        now, before = cpu_ns(pid), now
        if now == before:
            break
    return now


class CpuMeter:
    """CPU seconds a process used between start() and stop(), as % of one core of wall time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.proc = psutil.Process(pid)
        self.t0 = self.c0 = self.seconds = 0.0
        self.w0 = 0
        self.waited = 0.0  # % of wall time runnable but waiting for a CPU

    def _cpu(self) -> float:
        ct = self.proc.cpu_times()
        return ct.user + ct.system

    def start(self) -> None:
        self.t0, self.c0, self.w0 = mono(), self._cpu(), schedstat(self.pid)[1]

    def stop(self) -> float:
        wall = max(1e-9, mono() - self.t0)
        self.seconds = self._cpu() - self.c0  # CPU seconds used
        self.waited = 100 * (schedstat(self.pid)[1] - self.w0) / 1e9 / wall
        return 100 * self.seconds / wall


# --------------------------------------------------------------------------- processes


class Procs:
    """The upstream and Daphne subprocesses; everything started here is ended in stop()."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen[Any]] = []
        self.logs: list[Any] = []

    def _log(self, name: str) -> Any:
        f = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.logs.append(f)
        return f

    def start_upstream(self, module: str = "playground.testing.upstream") -> tuple[int, str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, "--port", "0"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._log(module.rsplit(".", 1)[-1]),
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"upstream did not start (got {line!r})")
        return proc.pid, line  # http://127.0.0.1:PORT/v1

    def start_daphne(
        self, env: dict[str, str], name: str = "daphne", tree: Path = REPO
    ) -> tuple[int, str]:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *ASGI_APP],
            cwd=tree,
            env=env,
            stdout=self._log(f"{name}.out"),
            stderr=self._log(f"{name}.err"),
        )
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = mono() + 30
        while mono() < deadline:
            if proc.poll() is not None:
                err = (self.workdir / f"{name}.err.log").read_text()[-2000:]
                raise RuntimeError(f"daphne exited with {proc.returncode}: {err}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return proc.pid, base
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne not ready after 30 s")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
        for f in self.logs:
            f.close()


def export_tree(rev: str, into: Path) -> Path:
    """The repository's files at git revision ``rev``, written under ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def migrate_tree(env: dict[str, str], tree: Path) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=tree,
        env=env,
        check=True,
    )


# --------------------------------------------------------------------------- client side


@dataclass
class Turn:
    mark: str
    t_send: float = 0.0
    t_started: float | None = None
    t_done: float | None = None
    frames: list[tuple[float, int]] = field(default_factory=list)  # (receipt, tokens)
    parts: list[str] = field(default_factory=list)
    reason: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def tokens(self) -> int:
        return sum(n for _, n in self.frames)

    @property
    def t_first(self) -> float | None:
        return self.frames[0][0] if self.frames else None

    def delivered_rate(self) -> float | None:
        """Tokens/s between the first and the last delta (the first frame's tokens excluded,
        as the upstream's measured_rate excludes its first write's)."""
        if len(self.frames) < 2 or self.frames[-1][0] <= self.frames[0][0]:
            return None
        return (self.tokens - self.frames[0][1]) / (self.frames[-1][0] - self.frames[0][0])


async def ws_turn(
    ws: aiohttp.ClientWebSocketResponse, turn: Turn, limit: float, strict: bool = True
) -> Turn:
    """Send gen.start and read the generation's frames until gen.done (bounded by timeout;
    past it, raise, or with strict=False return the turn with reason "timeout")."""
    deadline = mono() + limit
    turn.t_send = mono()
    await ws.send_str(orjson.dumps(gen_start(turn.mark)).decode())
    while True:
        remaining = deadline - mono()
        try:
            if remaining <= 0:
                raise TimeoutError
            msg = await ws.receive(timeout=remaining)
        except TimeoutError:
            if strict:
                raise TimeoutError(f"turn {turn.mark}: no gen.done in {limit} s") from None
            turn.reason = "timeout"
            await stop_and_drain(ws)
            return turn
        t = mono()
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"turn {turn.mark}: socket message {msg.type} {msg.data!r}")
        m = orjson.loads(msg.data)
        kind = m.get("type")
        if kind == "gen.delta":
            turn.frames.append((t, m["tokens"]))
            turn.parts.append(m["text"])
        elif kind == "gen.started":
            turn.t_started = t
        elif kind == "gen.done":
            turn.t_done, turn.reason = t, m["reason"]
            return turn
        elif kind == "error":
            turn.errors.append(m)
            if "gen" not in m:  # not tied to a generation: no gen.done will follow
                raise RuntimeError(f"turn {turn.mark}: {m}")


async def stop_and_drain(ws: aiohttp.ClientWebSocketResponse, limit: float = 30.0) -> None:
    """Stop the running generation (so it does not load later measurements) and read its
    remaining frames until gen.done, for at most ``limit`` seconds."""
    await ws.send_str('{"type": "gen.stop"}')
    deadline = mono() + limit
    with contextlib.suppress(TimeoutError):
        while (remaining := deadline - mono()) > 0:
            msg = await ws.receive(timeout=remaining)
            if msg.type != aiohttp.WSMsgType.TEXT or b'"gen.done"' in msg.data.encode():
                return


async def http_turn(fresh: aiohttp.ClientSession, url: str, turn: Turn, limit: float) -> Turn:
    """The same turn through POST /api/p/<id>/generate, on a new TCP connection."""
    body = orjson.dumps(gen_start(turn.mark))
    turn.t_send = mono()
    async with asyncio.timeout(limit):
        async with fresh.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {await resp.text()}")
            buf = b""
            async for chunk in resp.content.iter_any():
                t = mono()
                buf += chunk
                *events, buf = buf.split(b"\n\n")
                for ev in events:
                    if not ev.startswith(b"data: "):
                        continue
                    m = orjson.loads(ev[6:])
                    kind = m.get("type")
                    if kind == "gen.delta":
                        turn.frames.append((t, m["tokens"]))
                        turn.parts.append(m["text"])
                    elif kind == "gen.started":
                        turn.t_started = t
                    elif kind == "error":
                        turn.errors.append(m)
                    elif kind == "gen.done":
                        turn.t_done, turn.reason = t, m["reason"]
                        return turn
    raise RuntimeError(f"turn {turn.mark}: the HTTP stream ended without gen.done")


class Bench:
    def __init__(self, args: argparse.Namespace, url: str, up_root: str, pids: dict[str, int]):
        self.args = args
        self.url = url
        self.ws_base = url.replace("http://", "ws://")
        self.up = up_root  # http://127.0.0.1:PORT (control API)
        self.pids = pids
        self.http: aiohttp.ClientSession
        self.jar: aiohttp.CookieJar
        self.out: list[str] = []
        self.results: dict[str, Any] = {}
        self.r_url = ""  # the Daphne on the WebSocket upstream (section "upstreams")
        self.r_up = ""
        self.b_url = ""  # with --baseline: a Daphne of that commit on the WebSocket upstream
        self.s_url = ""  # with --baseline: a Daphne of that commit on the SSE upstream (realtime)

    def emit(self, text: str = "") -> None:
        print(text, flush=True)
        self.out.append(text)

    # ---- upstream control

    async def up_post(self, path: str, data: Any, root: str | None = None) -> Any:
        async with self.http.post((root or self.up) + path, data=orjson.dumps(data)) as r:
            r.raise_for_status()
            return orjson.loads(await r.read())

    async def up_get(self, path: str, root: str | None = None) -> Any:
        async with self.http.get((root or self.up) + path) as r:
            r.raise_for_status()
            return orjson.loads(await r.read())

    async def streams_by_mark(
        self, writes: bool = False, root: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """The upstream's stream records, keyed by the mark in each request's instruction."""
        for _ in range(200):  # let the upstream close its records (bounded: 2 s)
            streams = await self.up_get("/_streams" + ("?writes=1" if writes else ""), root)
            if all(s["done"] for s in streams):
                break
            await asyncio.sleep(0.01)
        requests = {r["id"]: r for r in await self.up_get("/_requests", root)}
        out: dict[str, dict[str, Any]] = {}
        for s in streams:
            req = requests.get(s["request_id"])
            m = MARK_RE.search(orjson.dumps(req["body"]).decode()) if req else None
            if m:
                out[m.group(0)] = s
        return out

    # ---- Flint client

    async def new_playground(self, base: str | None = None) -> str:
        async with self.http.get((base or self.url) + "/", allow_redirects=False) as r:
            loc = r.headers["Location"]
        return loc.strip("/").rsplit("/", 1)[-1]

    async def connect(self, pid: str, base: str | None = None) -> aiohttp.ClientWebSocketResponse:
        base = base or self.url
        ws = await self.http.ws_connect(
            f"{base.replace('http://', 'ws://')}/ws/p/{pid}/", origin=base, max_msg_size=16 << 20
        )
        ready = await ws.receive(timeout=10)
        if (
            ready.type != aiohttp.WSMsgType.TEXT
            or orjson.loads(ready.data)["type"] != "session.ready"
        ):
            raise RuntimeError(f"no session.ready: {ready!r}")
        return ws

    # ------------------------------------------------------------------ 1. rate

    async def rate(self) -> None:
        q = self.args.quick
        secs = 1.0 if q else 3.0
        plan = [(1_000.0, int(1_000 * secs)), (10_000.0, int(10_000 * secs))]
        plan += [(100_000.0, int(100_000 * secs)), (0.0, 50_000 if q else 200_000)]
        pid = await self.new_playground()
        ws = await self.connect(pid)
        daphne = CpuMeter(self.pids["daphne"])
        upstream = CpuMeter(self.pids["upstream"])
        rows, res = [], []
        try:
            await self.up_post("/_reset", {})
            for i, (rate, n) in enumerate(plan):
                tokens = code_tokens(n)
                await self.up_post(
                    "/_script", {"tokens": tokens, "rate": rate, "ttft": 0.0, "chunk": 1}
                )
                daphne.start()
                upstream.start()
                turn = await ws_turn(ws, Turn(mark("rate", i)), limit=30 + 3 * secs, strict=False)
                d_cpu, u_cpu = daphne.stop(), upstream.stop()
                s = (await self.streams_by_mark())[turn.mark]
                emitted = s["measured_rate"] or float("nan")
                delivered = turn.delivered_rate() or float("nan")
                span = turn.frames[-1][0] - turn.frames[0][0] if len(turn.frames) > 1 else 0
                ok = turn.text == "".join(tokens) and turn.tokens == n and turn.reason == "stop"
                r = {
                    "target": rate,
                    "tokens": n,
                    "received": turn.tokens,
                    "text_ok": ok,
                    "emitted": emitted,
                    "delivered": delivered,
                    "ratio": delivered / emitted,
                    "frames": len(turn.frames),
                    "frames_per_s": len(turn.frames) / span if span else float("nan"),
                    "daphne_cpu": d_cpu,
                    "daphne_us_per_token": 1e6 * daphne.seconds / n,
                    "daphne_waited": daphne.waited,
                    "upstream_cpu": u_cpu,
                }
                res.append(r)
                rows.append(
                    [
                        f"{rate:,.0f}" if rate else "unpaced",
                        f"{n:,}",
                        f"{turn.tokens:,}"
                        + ("" if ok else " TIMEOUT" if turn.reason == "timeout" else " MISMATCH"),
                        f"{emitted:,.0f}",
                        f"{delivered:,.0f}",
                        f"{100 * delivered / emitted:.2f}%",
                        f"{100 * delivered / rate:.1f}%" if rate else "-",
                        f"{len(turn.frames):,}",
                        f"{r['frames_per_s']:,.1f}",
                        f"{turn.tokens / max(1, len(turn.frames)):,.1f}",
                        f"{d_cpu:.0f}%",
                        f"{daphne.waited:.0f}%",
                        f"{r['daphne_us_per_token']:.1f}",
                        f"{u_cpu:.0f}%",
                    ]
                )
        finally:
            await ws.close()
        self.results["rate"] = res
        self.emit("## 1. Single-stream delivered rate (one socket)")
        self.emit(
            table(
                [
                    "target tok/s",
                    "tokens",
                    "received",
                    "emitted tok/s",
                    "delivered tok/s",
                    "deliv/emit",
                    "deliv/target",
                    "frames",
                    "frames/s",
                    "tok/frame",
                    "daphne CPU",
                    "waited for CPU",
                    "daphne CPU us/tok",
                    "upstream CPU",
                ],
                rows,
            )
        )
        self.emit(
            "emitted = the upstream's own rate (tokens between its first and last write / that"
            " time);\ndelivered = tokens in gen.delta frames at the client between the first and"
            " last delta / that time\n(text checked equal to what was emitted). CPU = % of one"
            " core during the turn; waited = % of the turn Daphne was\nrunnable but had no CPU"
            " (a busy machine); us/tok = Daphne CPU time / tokens\n(less sensitive to a busy"
            " machine than rates). Target: delivered >= 99.9% of emitted."
        )
        self.emit()

    # ------------------------------------------------------------------ 2. ttft

    async def ttft(self) -> None:
        n = 30 if self.args.quick else self.args.ttft_turns
        pid = await self.new_playground()
        ws = await self.connect(pid)
        rows, res = [], {}
        try:
            for label, up_ttft in (("20 ms", 0.02), ("0 (headers+token together)", 0.0)):
                await self.up_post("/_reset", {})
                reply = {"text": "print('hello')\nx = 1\n", "rate": 0.0, "ttft": up_ttft}
                await self.up_post("/_config", {"default": reply})
                turns = []
                for i in range(n):
                    turns.append(await ws_turn(ws, Turn(mark("ttft", i)), limit=10))
                streams = await self.streams_by_mark()
                added, e2e, pre = [], [], []
                for t in turns:
                    s = streams[t.mark]
                    assert t.t_first is not None and s["t_first_token"] is not None
                    added.append(1000 * (t.t_first - s["t_first_token"]))
                    e2e.append(1000 * (t.t_first - t.t_send))
                    pre.append(1000 * (s["t_request"] - t.t_send))
                res[label] = {"added_ms": added, "e2e_ms": e2e, "to_upstream_ms": pre}
                rows.append(
                    [
                        label,
                        n,
                        f"{statistics.median(added):.2f}",
                        f"{pct(added, 99):.2f}",
                        f"{max(added):.2f}",
                        f"{statistics.median(pre):.2f}",
                        f"{statistics.median(e2e):.2f}",
                    ]
                )
        finally:
            await ws.close()
            await self.up_post("/_config", {"default": {"echo": True}})
        self.results["ttft"] = res
        self.emit("## 2. Added time-to-first-token (one socket, sequential turns)")
        self.emit(
            table(
                [
                    "upstream ttft",
                    "turns",
                    "added p50 ms",
                    "added p99 ms",
                    "added max ms",
                    "send->upstream p50 ms",
                    "send->1st delta p50 ms",
                ],
                rows,
            )
        )
        self.emit(
            "added = client receipt of the first gen.delta - the upstream's write of the first"
            " content token\n(t_first_token). send->upstream = gen.start sent -> upstream"
            " received the request. Target: p50 <= 2 ms, p99 <= 10 ms."
        )
        self.emit()

    # ------------------------------------------------------------------ steer

    async def steer(self) -> None:
        """Steer mid-answer: gen.steer sent -> first delta of the continuation.

        The continuation's upstream has the same TTFT as the first request, so what
        Flint adds is (client's first continuation delta - send) minus the upstream's
        own request -> first token time for the continuation request.
        """
        n = 10 if self.args.quick else 40
        r = await self._steers(n, self.url, self.up, "steer")
        added, total, up_own = r["added_ms"], r["total_ms"], r["upstream_ttft_ms"]
        self.results["steer"] = r
        self.emit("## Steer: gen.steer sent -> first token of the continuation")
        self.emit(
            table(
                [
                    "steers",
                    "total p50 ms",
                    "upstream own ttft p50 ms",
                    "added p50 ms",
                    "added p95 ms",
                ],
                [
                    [
                        n,
                        f"{statistics.median(total):.2f}",
                        f"{statistics.median(up_own):.2f}",
                        f"{statistics.median(added):.2f}",
                        f"{pct(added, 95):.2f}",
                    ]
                ],
            )
        )
        self.emit(
            "added = total - the upstream's own request -> first token time for the"
            " continuation\n(it includes closing the first stream and sending the new"
            " request). Target: a few ms."
        )
        self.emit()

    async def _steers(self, n: int, base: str, root: str, tag: str) -> dict[str, Any]:
        """``n`` steers a few frames into a long answer: gen.steer sent -> the
        continuation's first delta, less the upstream's own time to its first token."""
        pid = await self.new_playground(base)
        ws = await self.connect(pid, base)
        added, total, up_own, modes = [], [], [], []
        try:
            for i in range(n):
                await self.up_post("/_reset", {}, root)
                first = {"lorem": 5000, "rate": 1000.0, "ttft": 0.0}
                cont = {"text": "continued " * 20, "rate": 0.0, "ttft": 0.02}
                await self.up_post("/_script", [first, cont], root)
                await ws.send_str(orjson.dumps(gen_start(mark(tag, i))).decode())
                got = 0
                while got < 3:  # a few frames into the answer
                    msg = orjson.loads((await ws.receive(timeout=10)).data)
                    got += msg["type"] == "gen.delta"
                sent = time.monotonic()
                await ws.send_str(
                    orjson.dumps({"type": "gen.steer", "instruction": "stop"}).decode()
                )
                steered, t_first = False, None
                while True:
                    msg = orjson.loads((await ws.receive(timeout=10)).data)
                    if msg["type"] == "gen.steered":
                        steered = True
                        modes.append(msg.get("mode"))
                    elif steered and msg["type"] == "gen.delta" and t_first is None:
                        t_first = time.monotonic()
                    elif msg["type"] == "gen.done":
                        break
                while "allowance" not in (await ws.receive(timeout=10)).data:
                    pass
                streams = await self.up_get("/_streams", root)
                s2 = streams[-1]
                own = s2["t_first_token"] - s2["t_request"]
                assert t_first is not None
                total.append(1000 * (t_first - sent))
                up_own.append(1000 * own)
                added.append(1000 * (t_first - sent - own))
        finally:
            await ws.close()
        return {"total_ms": total, "upstream_ttft_ms": up_own, "added_ms": added, "modes": modes}

    # ------------------------------------------------------------------ upstreams

    async def upstreams(self) -> None:
        """The same turns side by side through the HTTP/SSE upstream (Chat Completions) and
        the WebSocket upstream (the Responses API, FLINT_API=responses): added TTFT, turn
        overhead and Daphne CPU per turn, over the browser socket and over a fresh HTTP
        request per turn; then steer -> the continuation's first token on both."""
        n = 20 if self.args.quick else self.args.turns
        roots = {"sse": self.up, "ws": self.r_up}
        bases = {"sse": self.url, "ws": self.r_url}
        daphnes = {"sse": self.pids["daphne"], "ws": self.pids["daphne_r"]}
        base_rev = self.args.baseline
        if base_rev:  # the same WebSocket upstream, through a Daphne of that commit
            roots["wsb"], bases["wsb"] = self.r_up, self.b_url
            daphnes["wsb"] = self.pids["daphne_b"]
        reply = {"text": "ok, done.", "rate": 0.0, "ttft": 0.0}
        socks, apis = {}, {}
        for k in roots:
            await self.up_post("/_reset", {}, roots[k])
            await self.up_post("/_config", {"default": reply}, roots[k])
            pid = await self.new_playground(bases[k])
            socks[k] = await self.connect(pid, bases[k])
            apis[k] = f"{bases[k]}/api/p/{pid}/generate"
        labels = {
            ("ws", "sse"): "browser socket -> HTTP/SSE upstream",
            ("ws", "ws"): "browser socket -> WebSocket upstream",
            ("http", "sse"): "fresh HTTP request -> HTTP/SSE upstream",
            ("http", "ws"): "fresh HTTP request -> WebSocket upstream",
        }
        if base_rev:
            labels[("ws", "wsb")] = f"browser socket -> WebSocket upstream, at {base_rev}"
        turns: dict[tuple[str, str], list[Turn]] = {k: [] for k in labels}
        cpu: dict[tuple[str, str], list[float]] = {k: [] for k in labels}
        try:
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True), cookie_jar=self.jar
            ) as fresh:
                for i in range(-3, n):  # 3 warm-up rounds (the first opens the upstream socket)
                    for client, up in labels:  # interleaved: the same machine noise for all
                        d = daphnes[up]
                        t = Turn(mark(f"{client}{up}", max(i, 0) if i >= 0 else 900 + i))
                        c0 = cpu_ns(d)
                        if client == "ws":
                            await ws_turn(socks[up], t, limit=10)
                        else:
                            await http_turn(fresh, apis[up], t, limit=10)
                        c1 = await settled_cpu_ns(d)  # its record, the HTTP close: in the turn
                        if i >= 0:
                            turns[(client, up)].append(t)
                            cpu[(client, up)].append((c1 - c0) / 1e6)
        finally:
            for k in roots:
                await socks[k].close()
                await self.up_post("/_config", {"default": {"echo": True}}, roots[k])
        streams = {k: await self.streams_by_mark(root=roots[k]) for k in roots}
        rows, res = [], {}
        for key, label in labels.items():
            up = key[1]
            added, over, total, pre, post = [], [], [], [], []
            for t in turns[key]:
                s = streams[up][t.mark]
                assert t.t_done is not None and t.t_first is not None and t.reason == "stop"
                own_ttft = s["t_first_token"] - s["t_request"]
                added.append(1000 * (t.t_first - t.t_send - own_ttft))
                pre.append(1000 * (s["t_request"] - t.t_send))
                post.append(1000 * (t.t_first - s["t_first_token"]))
                total.append(1000 * (t.t_done - t.t_send))
                over.append(total[-1] - 1000 * (s["t_end"] - s["t_request"]))
            res[label] = {
                "added_ttft": added,
                "to_upstream": pre,
                "first_token_to_client": post,
                "overhead": over,
                "total": total,
                "cpu": cpu[key],
            }
            rows.append(
                [
                    label,
                    len(added),
                    f"{statistics.median(added):.2f}",
                    f"{pct(added, 99):.2f}",
                    f"{statistics.median(pre):.2f}",
                    f"{statistics.median(post):.2f}",
                    f"{statistics.median(over):.2f}",
                    f"{statistics.mean(over):.2f}",
                    f"{statistics.median(total):.2f}",
                    f"{statistics.median(cpu[key]):.2f}",
                    f"{statistics.mean(cpu[key]):.2f}",
                ]
            )
        base = res[labels[("http", "sse")]]
        best = res[labels[("ws", "ws")]]
        red_p50 = 100 * (
            1 - statistics.median(best["overhead"]) / statistics.median(base["overhead"])
        )
        red_mean = 100 * (1 - statistics.mean(best["overhead"]) / statistics.mean(base["overhead"]))
        self.emit(
            "## Upstreams side by side: HTTP/SSE (Chat Completions) and WebSocket (Responses)"
        )
        self.emit(
            table(
                [
                    "path",
                    "turns",
                    "added TTFT p50 ms",
                    "p99 ms",
                    "send->upstream p50",
                    "1st token->client p50",
                    "overhead p50 ms",
                    "mean ms",
                    "turn p50 ms",
                    "Daphne CPU p50 ms/turn",
                    "mean",
                ],
                rows,
            )
        )
        self.emit(
            f"turn overhead, browser socket -> WebSocket upstream vs a fresh HTTP request per"
            f" turn -> HTTP/SSE upstream: {red_p50:.1f}% less (p50), {red_mean:.1f}% less (mean)."
            "\nadded TTFT = (client gets the first gen.delta - client sends gen.start) - the"
            " upstream's own TTFT\n(its first token write - its receipt of the request), split"
            " into send->upstream (gen.start sent -> upstream has the request) and\n1st"
            " token->client (upstream writes the first token -> client has it)."
            " overhead = turn - the upstream's own time\n(receipt -> last write); turn ="
            " gen.start sent -> gen.done received; a 3-token unpaced reply.\nDaphne CPU ="
            " CPU time of all threads of the Daphne serving that path, from gen.start sent"
            " until it is idle after the turn\n(the record written after gen.done included)."
            "\nTargets: added TTFT on a reused socket p50 <= 2 ms, p99 <= 5 ms; overhead >= 80%"
            " below a fresh HTTP request; Daphne CPU <= 2 ms/turn."
        )
        self.emit()
        m = 10 if self.args.quick else self.args.steers
        steer_rows = []
        res["steer"] = {}
        steer_paths = [("sse", "HTTP/SSE upstream"), ("ws", "WebSocket upstream")]
        if base_rev:
            steer_paths.append(("wsb", f"WebSocket upstream, at {base_rev}"))
        for up, label in steer_paths:
            r = await self._steers(m, bases[up], roots[up], f"st{up}")
            res["steer"][label] = r
            modes = collections.Counter(r["modes"])
            steer_rows.append(
                [
                    label,
                    m,
                    ", ".join(f"{k} {v}" for k, v in sorted(modes.items())),
                    f"{statistics.median(r['total_ms']):.2f}",
                    f"{statistics.median(r['upstream_ttft_ms']):.2f}",
                    f"{statistics.median(r['added_ms']):.2f}",
                    f"{pct(r['added_ms'], 95):.2f}",
                ]
            )
        self.results["upstreams"] = res
        self.emit("## Steer -> first continuation token, on both upstreams")
        self.emit(
            table(
                [
                    "upstream",
                    "steers",
                    "mode",
                    "total p50 ms",
                    "upstream own ttft p50 ms",
                    "added p50 ms",
                    "added p95 ms",
                ],
                steer_rows,
            )
        )
        self.emit(
            "added = gen.steer sent -> the continuation's first gen.delta, less the upstream's"
            " own\nrequest (or steer) -> first token time for the continuation. Target: <= 3 ms."
        )
        self.emit()

    # ------------------------------------------------------------------ 3. turn

    async def turn(self) -> None:
        n = 20 if self.args.quick else self.args.turns
        pid = await self.new_playground()
        ws = await self.connect(pid)
        api = f"{self.url}/api/p/{pid}/generate"
        reply_text = "ok, done."
        await self.up_post("/_reset", {})
        await self.up_post("/_config", {"default": {"text": reply_text, "rate": 0.0, "ttft": 0.0}})
        wst: list[Turn] = []
        htt: list[Turn] = []
        cpu: dict[str, list[float]] = {"ws": [], "http": []}
        try:
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True), cookie_jar=self.jar
            ) as fresh:
                d = self.pids["daphne"]
                for i in range(n):  # interleaved, so both see the same machine noise
                    c0 = cpu_ns(d)
                    wst.append(await ws_turn(ws, Turn(mark("ws", i)), limit=10))
                    c1 = cpu_ns(d)
                    htt.append(await http_turn(fresh, api, Turn(mark("http", i)), limit=10))
                    await asyncio.sleep(0.002)  # let Daphne finish closing the connection
                    c2 = cpu_ns(d)
                    cpu["ws"].append((c1 - c0) / 1e6)
                    cpu["http"].append((c2 - c1) / 1e6)
        finally:
            await ws.close()
            await self.up_post("/_config", {"default": {"echo": True}})
        streams = await self.streams_by_mark()
        rows, res = [], {}
        for label, turns, cpu_ms in (
            ("WebSocket (open socket)", wst, cpu["ws"]),
            ("HTTP (new TCP conn/turn)", htt, cpu["http"]),
        ):
            total, up, over, pre, post = [], [], [], [], []
            for t in turns:
                s = streams[t.mark]
                assert t.t_done is not None and t.reason == "stop" and t.text == reply_text
                total.append(1000 * (t.t_done - t.t_send))
                up.append(1000 * (s["t_end"] - s["t_request"]))
                over.append(total[-1] - up[-1])
                pre.append(1000 * (s["t_request"] - t.t_send))
                post.append(1000 * (t.t_done - s["t_end"]))
            res[label] = {
                "total": total,
                "upstream": up,
                "overhead": over,
                "pre": pre,
                "post": post,
                "daphne_cpu_ms": cpu_ms,
            }
            rows.append(
                [
                    label,
                    len(turns),
                    f"{statistics.mean(total):.2f}",
                    f"{statistics.median(total):.2f}",
                    f"{statistics.median(up):.2f}",
                    f"{statistics.mean(over):.2f}",
                    f"{statistics.median(over):.2f}",
                    f"{statistics.median(pre):.2f}",
                    f"{statistics.median(post):.2f}",
                    f"{statistics.mean(cpu_ms):.2f}",
                ]
            )
        (w, h) = res.values()
        red_cpu = 100 * (
            1 - statistics.mean(w["daphne_cpu_ms"]) / statistics.mean(h["daphne_cpu_ms"])
        )
        red_mean = 100 * (1 - statistics.mean(w["overhead"]) / statistics.mean(h["overhead"]))
        red_p50 = 100 * (1 - statistics.median(w["overhead"]) / statistics.median(h["overhead"]))
        red_tot = 100 * (1 - statistics.mean(w["total"]) / statistics.mean(h["total"]))
        res["reduction"] = {
            "overhead_mean": red_mean,
            "overhead_p50": red_p50,
            "total_mean": red_tot,
            "daphne_cpu_mean": red_cpu,
        }
        self.results["turn"] = res
        self.emit("## 3. Turn overhead: persistent socket vs a fresh HTTP request per turn")
        self.emit(
            table(
                [
                    "transport",
                    "turns",
                    "turn mean ms",
                    "turn p50 ms",
                    "upstream p50 ms",
                    "overhead mean ms",
                    "overhead p50 ms",
                    "before upstream p50",
                    "after upstream p50",
                    "Daphne CPU ms/turn",
                ],
                rows,
            )
        )
        self.emit(
            f"reduction with the socket: overhead {red_mean:.1f}% (mean), {red_p50:.1f}% (p50);"
            f" whole turn {red_tot:.1f}% (mean); Daphne CPU per turn {red_cpu:.1f}%."
            " Target: >= 80% less overhead."
        )
        self.emit(
            "turn = client sends gen.start (WS frame, or opens a TCP connection and POSTs) ->"
            " client receives gen.done.\nupstream = the upstream's t_request -> t_end for that"
            " turn (identical work both ways: a 4-token unpaced reply).\noverhead = turn -"
            " upstream: everything Flint and the transport add (before upstream = send ->"
            " upstream got\nthe request; after upstream = upstream finished -> gen.done"
            " received).\nDaphne CPU ms/turn = CPU time of all Daphne threads across the turn"
            " (/proc schedstat): the cost\nthat is independent of how busy the machine is."
        )
        self.emit()

    # ------------------------------------------------------------------ 4. concurrent

    async def concurrent(self) -> None:
        q = self.args.quick
        levels = [10, 20] if q else self.args.concurrency
        secs = 2.0 if q else self.args.seconds
        per_rate = 1000.0
        rows, res = [], []
        pids = [await self.new_playground() for _ in range(max(levels))]
        for c in levels:
            try:
                r = await self._concurrent_once(pids[:c], per_rate, secs)
            except RuntimeError as exc:
                rows.append([c, f"{c * per_rate:,.0f}", f"failed: {exc}"] + [""] * 11)
                continue
            res.append(r)
            rows.append(
                [
                    c,
                    f"{c * per_rate:,.0f}",
                    f"{r['emitted_total']:,.0f}",
                    f"{r['delivered_total']:,.0f}",
                    f"{100 * r['delivered_total'] / r['emitted_total']:.2f}%",
                    f"{r['delivered_p50']:,.0f} / {r['delivered_min']:,.0f}",
                    f"{r['lat_p50']:.1f}",
                    f"{r['lat_p95']:.1f}",
                    f"{r['lat_p99']:.1f}",
                    f"{r['daphne_cpu']:.0f}%",
                    f"{r['daphne_waited']:.0f}%",
                    f"{r['daphne_us_per_token']:.1f}",
                    f"{r['upstream_cpu']:.0f}%",
                    f"{r['client_cpu']:.0f}%",
                    f"{r['ok']}/{c}" + (f" ({r['timeouts']} timed out)" if r["timeouts"] else ""),
                ]
            )
            await asyncio.sleep(0.5)
        self.results["concurrent"] = res
        self.emit(
            f"## 4. Concurrent streams on one Daphne process ({per_rate:,.0f} tok/s each,"
            f" {secs:.0f} s of tokens)"
        )
        self.emit(
            table(
                [
                    "streams",
                    "target tok/s",
                    "emitted tok/s",
                    "delivered tok/s",
                    "deliv/emit",
                    "per stream p50/min",
                    "frame lat p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "daphne CPU",
                    "waited",
                    "us/tok",
                    "upstream CPU",
                    "client CPU",
                    "text ok",
                ],
                rows,
            )
        )
        self.emit(
            "emitted/delivered = all streams' tokens / (last - first write, or delta) across"
            " streams. frame latency = receipt of\na gen.delta - the upstream write at which"
            " that stream's emitted count reached the frame's cumulative count.\nCPU = % of one"
            " core over the run (2 cores in all); waited = % of the run Daphne was runnable\nbut"
            " got no CPU (machine busy); us/tok = Daphne CPU time per token. Target: p95 frame"
            " latency <= 50 ms."
        )
        self.emit()

    async def _concurrent_once(
        self,
        pids: list[str],
        rate: float,
        secs: float,
        base: str | None = None,
        daphne: str = "",
        connect_at_once: int = 0,
    ) -> dict[str, Any]:
        """``len(pids)`` sockets streaming ``rate`` tok/s each for ``secs`` s from the Daphne at
        ``base`` (pid key ``daphne``; default: the main one), opened ``connect_at_once`` at a
        time (0: all together)."""
        daphne = daphne or "daphne"
        c = len(pids)
        n = int(rate * secs)
        gate = asyncio.Semaphore(connect_at_once or c)

        async def connect(p: str) -> aiohttp.ClientWebSocketResponse:
            async with gate:
                return await self.connect(p, base)

        socks = await asyncio.gather(*(connect(p) for p in pids))
        toks = code_tokens(n)  # code-like lines: an answer with no line break is O(n^2) at HEAD
        expected = "".join(toks)
        meters = {k: CpuMeter(v) for k, v in self.pids.items()}
        meters["client"] = CpuMeter(os.getpid())
        try:
            await self.up_post("/_reset", {})
            await self.up_post("/_script", [{"tokens": toks, "rate": rate, "ttft": 0.0}] * c)
            for m in meters.values():
                m.start()
            t0 = mono()
            turns = await asyncio.gather(
                *(
                    ws_turn(ws, Turn(mark("conc", i)), limit=4 * secs + 60, strict=False)
                    for i, ws in enumerate(socks)
                )
            )
            wall = mono() - t0
            cpu = {k: m.stop() for k, m in meters.items()}
        finally:
            await asyncio.gather(*(ws.close() for ws in socks), return_exceptions=True)
        streams = await self.streams_by_mark(writes=True)
        lat: list[float] = []
        per_stream: list[float] = []
        ok = 0
        first_w, last_w, first_d, last_d = [], [], [], []
        tokens_total = 0
        n_writes = 0
        for t in turns:
            s = streams.get(t.mark)
            ok += t.text == expected and t.reason == "stop"
            if s is None:  # never reached the upstream within the time limit
                continue
            writes = [(w[0], w[1]) for w in s["writes"] if w[1]]
            n_writes += len(writes)
            if not t.frames or not writes:
                continue
            cum, acc = [], 0
            for _, k in writes:
                acc += k
                cum.append(acc)
            got = 0
            for t_recv, k in t.frames:
                got += k
                j = bisect.bisect_left(cum, got)
                if j < len(writes):
                    lat.append(1000 * (t_recv - writes[j][0]))
            if (d := t.delivered_rate()) is not None:
                per_stream.append(d)
            tokens_total += t.tokens
            first_w.append(writes[0][0])
            last_w.append(writes[-1][0])
            first_d.append(t.frames[0][0])
            last_d.append(t.frames[-1][0])
        if not first_w or not per_stream:
            raise RuntimeError(f"{c} streams: no stream delivered anything in time")
        emitted_total = sum(s["tokens_emitted"] for s in streams.values()) / (
            max(last_w) - min(first_w)
        )
        delivered_total = tokens_total / (max(last_d) - min(first_d))
        timeouts = sum(t.reason == "timeout" for t in turns)
        failed = collections.Counter(
            f"{t.reason}"
            + "".join(f" {e.get('code')}" for e in t.errors)
            + ("" if t.text == expected else " text-differs")
            for t in turns
            if not (t.text == expected and t.reason == "stop")
        )
        if failed:
            self.emit(f"({c} streams: not ok: {dict(failed)})")
        return {
            "streams": c,
            "tokens_per_stream": n,
            "wall_s": wall,
            "emitted_total": emitted_total,
            "delivered_total": delivered_total,
            "delivered_p50": statistics.median(per_stream),
            "delivered_min": min(per_stream),
            "emitted_per_stream_p50": statistics.median(
                s["measured_rate"] or 0 for s in streams.values()
            ),
            "lat_p50": pct(lat, 50),
            "lat_p95": pct(lat, 95),
            "lat_p99": pct(lat, 99),
            "lat_max": max(lat),
            "frames": len(lat),
            "tokens_per_frame": tokens_total / max(1, len(lat)),
            "tokens_per_write": sum(s["tokens_emitted"] for s in streams.values())
            / max(1, n_writes),
            "daphne_cpu": cpu[daphne],
            "daphne_us_per_token": 1e6 * meters[daphne].seconds / max(1, tokens_total),
            "daphne_waited": meters[daphne].waited,
            "cpu": cpu,  # every process's, % of one core (scaled_bench.py: each Daphne)
            "waited": {k: m.waited for k, m in meters.items()},
            "upstream_cpu": cpu["upstream"],
            "client_cpu": cpu["client"],
            "ok": ok,
            "timeouts": timeouts,
        }

    # ------------------------------------------------------------------ 6. realtime

    async def realtime(self) -> None:
        """Issue #15: what one upstream read costs at a real-time rate, before and after.

        The upstream writes each token as its own SSE event in its own HTTP chunk and its own
        write, 1 ms apart, as a real server streaming 1,000 tok/s does. With --baseline, the
        same measurements run on a second Daphne serving the baseline revision, interleaved.
        """
        q = self.args.quick
        sides = [("after", self.url, "daphne")]
        if self.s_url:
            sides.insert(0, (f"before ({self.args.baseline})", self.s_url, "daphne_base"))
        n = 2000 if q else self.args.realtime_tokens
        rounds = 2 if q else self.args.realtime_rounds
        socks = {}
        for label, base, _ in sides:
            socks[label] = await self.connect(await self.new_playground(base), base)
        one: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in sides}
        cap: dict[str, dict[str, Any]] = {}
        try:
            for r in range(rounds):  # interleaved: both sides see the same machine noise
                for label, _base, key in sides if r % 2 == 0 else sides[::-1]:
                    one[label].append(await self._one_stream(socks[label], key, 1000.0, n, r))
            fast = 30_000 if q else 100_000
            for label, _base, key in sides:
                cap[label] = await self._one_stream(socks[label], key, 100_000.0, fast, 99)
        finally:
            for ws in socks.values():
                await ws.close()
        rows = []
        for label, _, _ in sides:
            runs = one[label]
            us = [x["us_per_token"] for x in runs]
            rows.append(
                [
                    label,
                    f"{len(runs)} x {n:,}",
                    "yes" if all(x["ok"] for x in runs) else "NO",
                    f"{statistics.median(x['tokens_per_write'] for x in runs):.2f}",
                    f"{statistics.median(x['delivered'] for x in runs):,.0f}",
                    f"{statistics.median(x['tokens_per_frame'] for x in runs):.1f}",
                    f"{statistics.median(us):.1f}",
                    f"{min(us):.1f}-{max(us):.1f}",
                    f"{statistics.median(x['waited'] for x in runs):.0f}%",
                    f"{cap[label]['tokens_per_frame']:.0f} / {cap[label]['max_frame_tokens']:,}",
                ]
            )
        self.emit("## 6. Per-token cost at a real-time rate (issue #15)")
        self.emit(
            table(
                [
                    "Daphne",
                    "turns x tokens",
                    "text ok",
                    "upstream tok/write",
                    "delivered tok/s",
                    "tok/frame",
                    "CPU us per relayed token p50",
                    "range",
                    "waited",
                    "at 100k tok/s: tok/frame mean / max",
                ],
                rows,
            )
        )
        self.emit(
            "One stream at 1,000 tok/s, each token its own SSE event, HTTP chunk and write (1 ms"
            " apart). CPU us per\nrelayed token = Daphne's CPU time (all threads,"
            " /proc schedstat) across the turn / tokens relayed (idle\nCPU included);"
            " waited = % of the turn Daphne was runnable but had no CPU. Last column: one"
            " stream\nat 100k tok/s, tokens per gen.delta frame (FLINT_FRAME_MAX_TOKENS=256)."
            " Target: <= 50 us per token."
        )
        self.emit()
        levels = [10] if q else self.args.realtime_streams
        secs = 2.0 if q else self.args.seconds
        rows = []
        res: dict[str, Any] = {"one_stream": one, "cap": cap, "streams": {}}
        for c in levels:
            for label, base, key in sides:
                pids = [await self.new_playground(base) for _ in range(c)]
                try:
                    r = await self._concurrent_once(pids, 1000.0, secs, base, key)
                except RuntimeError as exc:
                    rows.append([label, c, f"failed: {exc}"] + [""] * 9)
                    continue
                res["streams"][f"{label} {c}"] = r
                rows.append(
                    [
                        label,
                        c,
                        f"{r['emitted_total']:,.0f}",
                        f"{r['delivered_total']:,.0f}",
                        f"{r['lat_p50']:.1f}",
                        f"{r['lat_p95']:.1f}",
                        f"{r['lat_p99']:.1f}",
                        f"{r['tokens_per_write']:.1f}",
                        f"{r['daphne_cpu']:.0f}%",
                        f"{r['daphne_waited']:.0f}%",
                        f"{r['daphne_us_per_token']:.1f}",
                        f"{r['upstream_cpu']:.0f}%",
                        f"{r['ok']}/{c}"
                        + (f" ({r['timeouts']} timed out)" if r["timeouts"] else ""),
                    ]
                )
                await asyncio.sleep(0.5)
        self.results["realtime"] = res
        self.emit(f"## 6b. Streams x 1,000 tok/s on one Daphne process ({secs:.0f} s of tokens)")
        self.emit(
            table(
                [
                    "Daphne",
                    "streams",
                    "emitted tok/s",
                    "delivered tok/s",
                    "frame lat p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "upstream tok/write",
                    "daphne CPU",
                    "waited",
                    "us/tok",
                    "upstream CPU",
                    "text ok",
                ],
                rows,
            )
        )
        self.emit(
            "frame latency = receipt of a gen.delta - the upstream write that completed its"
            " tokens. upstream tok/write:\nthe scripted upstream writes every token due at"
            " each 1 ms tick; when it falls behind (2 shared cores)\nits writes carry more"
            " tokens than a real server's would. Target: p95 <= 50 ms at 100 streams."
        )
        self.emit()

    async def _one_stream(
        self, ws: aiohttp.ClientWebSocketResponse, key: str, rate: float, n: int, i: int
    ) -> dict[str, Any]:
        tokens = code_tokens(n)
        await self.up_post("/_reset", {})
        await self.up_post("/_script", {"tokens": tokens, "rate": rate, "ttft": 0.0, "chunk": 1})
        pid = self.pids[key]
        run0, wait0, t0 = *schedstat(pid), mono()
        turn = await ws_turn(ws, Turn(mark(f"rt{key.replace('_', '')}", i)), limit=60 + n / rate)
        run1, wait1, t1 = *schedstat(pid), mono()
        s = (await self.streams_by_mark(writes=True))[turn.mark]
        content = [w for w in s["writes"] if w[1]]
        return {
            "ok": turn.text == "".join(tokens) and turn.reason == "stop",
            "us_per_token": (run1 - run0) / 1e3 / max(1, turn.tokens),
            "waited": 100 * (wait1 - wait0) / 1e9 / max(1e-9, t1 - t0),
            "delivered": turn.delivered_rate() or float("nan"),
            "tokens_per_write": s["tokens_emitted"] / max(1, len(content)),
            "tokens_per_frame": turn.tokens / max(1, len(turn.frames)),
            "max_frame_tokens": max((k for _, k in turn.frames), default=0),
        }

    # ------------------------------------------------------------------ driver

    async def run(self, sections: list[str]) -> None:
        # limit=0: the default pool (100) would block the 101st socket of section 4.
        # unsafe=True: keep cookies from an IP host (127.0.0.1), such as the owner cookie
        # a new playground sets; the sockets and the HTTP turns send it back.
        self.jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=self.jar
        ) as self.http:
            idle = CpuMeter(self.pids["daphne"])
            idle.start()
            await asyncio.sleep(1.0)
            self.emit(f"Daphne idle CPU: {idle.stop():.1f}% of one core\n")
            for name in SECTIONS:
                if name in sections:
                    with self.profiled(name):
                        await getattr(self, name)()
                    self.emit(f"(after {name}: load {os.getloadavg()[0]:.2f}, {cpu_pressure()})\n")

    @contextlib.contextmanager
    def profiled(self, name: str) -> Any:
        """With --py-spy DIR: sample Daphne with py-spy during the section (collapsed stacks)."""
        if not self.args.py_spy:
            yield
            return
        self.args.py_spy.mkdir(parents=True, exist_ok=True)
        spies = []
        gil = ["--gil"] if self.args.py_spy_gil else []
        for key, pid in self.pids.items():  # every Daphne of the run
            if not key.startswith("daphne"):
                continue
            out = self.args.py_spy / f"{key}-{name}.txt"
            spy = subprocess.Popen(
                [*PY_SPY, *gil, "--pid", str(pid), "--output", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            spies.append((spy, out))
        time.sleep(0.5)  # let them attach
        try:
            yield
        finally:
            for spy, _ in spies:
                spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            for spy, out in spies:
                try:
                    spy.wait(30)
                except subprocess.TimeoutExpired:
                    spy.kill()
                    spy.wait(5)
                self.emit(f"(py-spy samples of a Daphne during {name}: {out})\n")


def start_baseline(
    procs: Procs, work: Path, rev: str, up_base: str, common: dict[str, str]
) -> tuple[int, str]:
    """A Daphne on the code of git revision ``rev`` on the SSE upstream (section realtime)."""
    tree = work / "baseline"
    if not tree.exists():
        export_tree(rev, tree)
    env = flint_env(work / "var-base", FLINT_BASE_URL=up_base, **common)
    env["PYTHONPATH"] = str(tree)
    migrate_tree(env, tree)
    return procs.start_daphne(env, "daphne-base", tree)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a fast smoke run (small counts)")
    p.add_argument("--only", action="append", choices=SECTIONS, help="run only this (repeatable)")
    p.add_argument("--ttft-turns", type=int, default=200, help="turns per TTFT row (default 200)")
    p.add_argument("--turns", type=int, default=200, help="turns per transport (default 200)")
    p.add_argument("--steers", type=int, default=40, help="steers per upstream (upstreams)")
    p.add_argument("--concurrency", type=int, nargs="+", default=[50, 100, 200])
    p.add_argument("--seconds", type=float, default=10.0, help="streaming time per stream")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--realtime-tokens", type=int, default=5000, help="realtime: tokens per turn")
    p.add_argument("--realtime-rounds", type=int, default=4, help="realtime: turns per Daphne")
    p.add_argument(
        "--realtime-streams", type=int, nargs="+", default=[100], help="realtime: stream counts"
    )
    p.add_argument(
        "--py-spy", type=Path, metavar="DIR", help="profile Daphne per section with py-spy into DIR"
    )
    p.add_argument(
        "--baseline",
        metavar="REV",
        help="upstreams: also run the WebSocket-upstream socket turns and steers through a"
        " Daphne of git revision REV (exported to a temporary directory), interleaved;"
        " realtime: every figure on a Daphne of REV on the SSE upstream too",
    )
    p.add_argument(
        "--py-spy-gil",
        action="store_true",
        help="with --py-spy: sample only the thread holding the GIL (where Python spends CPU)",
    )
    args = p.parse_args(argv)
    sections = args.only or list(SECTIONS)

    started = datetime.datetime.now().astimezone()
    print(
        f"# Flint live-loop benchmark, {started:%Y-%m-%d %H:%M %Z}; {platform.python_version()},"
        f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, {cpu_pressure()}"
        + (" (--quick)" if args.quick else ""),
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="flint-bench-") as tmp:
        work = Path(tmp)
        procs = Procs(work)
        try:
            up_pid, up_base = procs.start_upstream()
            common = dict(BENCH_ENV)
            env = flint_env(work / "var", FLINT_BASE_URL=up_base, **common)
            migrate(env)
            d_pid, url = procs.start_daphne(env)
            bench = Bench(
                args, url, up_base.removesuffix("/v1"), {"daphne": d_pid, "upstream": up_pid}
            )
            print(f"daphne pid {d_pid} at {url}; upstream pid {up_pid} at {up_base}", flush=True)
            if "upstreams" in sections:
                # A second Daphne on the WebSocket upstream (FLINT_API=responses).
                r_up_pid, r_up_base = procs.start_upstream("playground.testing.responses_ws")
                r_env = flint_env(
                    work / "var-r", FLINT_BASE_URL=r_up_base, FLINT_API="responses", **common
                )
                migrate(r_env)
                r_pid, r_url = procs.start_daphne(r_env, "daphne-r")
                bench.r_url, bench.r_up = r_url, r_up_base.removesuffix("/v1")
                bench.pids.update(daphne_r=r_pid, upstream_r=r_up_pid)
                if args.baseline:
                    tree = export_tree(args.baseline, work / "baseline")
                    b_env = {**r_env, "FLINT_VAR_DIR": str(work / "var-b"), "PYTHONPATH": str(tree)}
                    migrate_tree(b_env, tree)
                    b_pid, bench.b_url = procs.start_daphne(b_env, "daphne-b", tree)
                    bench.pids["daphne_b"] = b_pid
                    print(f"daphne at {args.baseline} pid {b_pid} at {bench.b_url}", flush=True)
                print(
                    f"daphne (responses) pid {r_pid} at {r_url}; WebSocket upstream pid"
                    f" {r_up_pid} at {r_up_base}",
                    flush=True,
                )
            if args.baseline and "realtime" in sections:
                b_pid, b_url = start_baseline(procs, work, args.baseline, up_base, common)
                bench.s_url = b_url
                bench.pids["daphne_base"] = b_pid
                print(f"daphne ({args.baseline}) pid {b_pid} at {b_url}", flush=True)
            print(flush=True)
            asyncio.run(bench.run(sections))
            if args.json:
                args.json.write_bytes(orjson.dumps(bench.results, option=orjson.OPT_INDENT_2))
        finally:
            procs.stop()
            err = work / "daphne.err.log"
            with contextlib.suppress(OSError):
                tail = err.read_text()[-3000:].strip()
                if tail:
                    print("--- daphne stderr (tail) ---\n" + tail, file=sys.stderr)
    print(f"load at end {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
