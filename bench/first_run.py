"""Time the README's run command from nothing: clone, install, build, fetch, answer.

Usage: python bench/first_run.py [--port 8799]
Clones this repository into a temporary directory, runs ``bash scripts/run.sh`` there
with an empty llama.cpp wheel cache and no pip cache (as on a fresh machine), waits
until Flint serves, then sends one instruction over the socket and waits for the
local model's first token and the end of its answer. Prints each step's time.
Everything it starts is stopped at the end; only loopback is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]


def wait_serving(url: str, proc: subprocess.Popen[bytes], limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"run.sh exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit("Flint did not start in time")


async def ask(url: str) -> tuple[float, float, str]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(url + "/") as resp:
            pid = str(resp.url).rstrip("/").rsplit("/", 1)[-1]
        ws_url = url.replace("http", "ws") + f"/ws/p/{pid}/"
        async with http.ws_connect(ws_url, origin=url) as ws:
            await ws.receive_json()
            start = time.monotonic()
            await ws.send_str(
                json.dumps(
                    {
                        "type": "gen.start",
                        "instruction": "Make the heading say Hi.",
                        "files": {"index.html": "<h1>Hello</h1>\n"},
                        "active": "index.html",
                    }
                )
            )
            first, text = None, ""
            while True:
                msg = await ws.receive_json(timeout=900)
                if msg["type"] == "gen.delta":
                    first = first or time.monotonic()
                    text += msg["text"]
                if msg["type"] == "gen.done":
                    return (first or time.monotonic()) - start, time.monotonic() - start, text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flint-first-run-"))
    subprocess.run(["git", "clone", "-q", str(REPO), str(work / "flint")], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLINT_", "VIRTUAL_ENV"))}
    env.update(PIP_NO_CACHE_DIR="1", FLINT_WHEEL_CACHE=str(work / "wheels"))
    url = f"http://127.0.0.1:{args.port}"
    t0 = time.monotonic()
    log = (work / "run.log").open("wb")
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh", f"127.0.0.1:{args.port}"],
        cwd=work / "flint",
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_serving(url, proc, limit=3600)
        serving = time.monotonic() - t0
        ttft, total, text = asyncio.run(ask(url))
        print(f"serving after        {serving:7.1f} s  (install, llama.cpp build, model fetch)")
        print(f"first token after    {ttft:7.1f} s  (cold model load + prompt)")
        print(f"answer done after    {total:7.1f} s")
        print(f"from nothing to an answer: {serving + total:.0f} s; log: {work / 'run.log'}")
        print(f"answer: {text[:200]!r}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


if __name__ == "__main__":
    sys.exit(main())
