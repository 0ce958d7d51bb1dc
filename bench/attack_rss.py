"""Peak RSS of a real Daphne under the #12 memory attacks (zip bombs, a 100 MiB POST).

    python bench/attack_rss.py [REPO] [BOMBS]   # defaults: this checkout, tests/data

Starts a fresh Daphne per attack (SQLite in a temp dir, no model server), reads
VmHWM (peak resident size) from /proc before and after, and prints the growth.
Run it on an older checkout (``git archive <rev> | tar -x -C DIR``) to compare.
Loopback only.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parents[1]
REPO = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
BOMBS = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "tests" / "data"
MIB = 1 << 20


def status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def serve() -> tuple[subprocess.Popen[bytes], str]:
    var = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLINT_")}
    env.update(
        FLINT_VAR_DIR=var,
        DJANGO_SETTINGS_MODULE="flint.settings",
        PYTHONPATH=str(REPO),
        FLINT_BASE_URL="http://127.0.0.1:9/v1",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True
    )
    sys.path.insert(0, str(HERE))
    from playground.testing.servers import free_port

    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    with Path(var, "daphne.log").open("wb") as log:
        proc = subprocess.Popen(
            [*command, "flint.asgi:application"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return proc, base


async def post_bomb(base: str, data: bytes) -> str:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(base + "/import") as resp:
            found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await resp.text())
        assert found is not None
        form = aiohttp.FormData()
        form.add_field("csrfmiddlewaretoken", found.group(1))
        form.add_field("files", io.BytesIO(data), filename="p.zip")
        headers = {"Accept": "application/json"}
        async with http.post(base + "/import", data=form, headers=headers) as resp:
            return f"{resp.status} {(await resp.text())[:100]}"


async def post_big(base: str, path: str, size: int) -> str:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {size}\r\n\r\n".encode()
    )
    block, sent = b"x" * MIB, 0
    try:
        while sent < size:
            writer.write(block)
            await writer.drain()
            sent += MIB
        answer = await asyncio.wait_for(reader.read(200), 120)
    except (OSError, TimeoutError) as exc:
        answer = repr(exc).encode()
    writer.close()
    return answer[:40].decode(errors="replace")


async def main() -> None:
    attacks: list[tuple[str, Callable[[str], Awaitable[str]]]] = [
        ("bzip2 bomb", lambda b: post_bomb(b, (BOMBS / "bomb-bzip2.zip").read_bytes())),
        ("lzma bomb", lambda b: post_bomb(b, (BOMBS / "bomb-lzma.zip").read_bytes())),
        ("100 MiB multipart to a 404 URL", lambda b: post_big(b, "/nowhere", 100 * MIB)),
    ]
    for name, attack in attacks:
        proc, base = serve()
        try:
            before, t0 = status(proc.pid, "VmHWM"), time.monotonic()
            answer = await attack(base)
            await asyncio.sleep(0.5)
            after = status(proc.pid, "VmHWM")
            print(
                f"{name}: peak RSS {before / MIB:.0f} -> {after / MIB:.0f} MiB "
                f"(+{(after - before) / MIB:.0f}), RSS now {status(proc.pid, 'VmRSS') / MIB:.0f}"
                f" MiB, {time.monotonic() - t0:.1f} s, answer {answer!r}"
            )
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    asyncio.run(main())
