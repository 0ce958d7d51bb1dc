"""Measure the embedded local models through the real llama.cpp server.

For each model x thread count (x idle / one core kept busy by another process):
load time, TTFT cold (long prompt, empty KV cache), TTFT with a prefix hit (same
long prefix, new question), decode tokens/s, and the server's RSS (current and peak).
The server is started by Flint's supervisor and streamed through LocalModelBackend,
exactly as the web process does it.

    python bench/local_model_bench.py                       # every fetched model
    python bench/local_model_bench.py --models smollm2-135m --threads 1 2 --busy both
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playground.inference.base import ChatRequest, Message
from playground.inference.local.backend import LocalModelBackend
from playground.inference.local.paths import model_path
from playground.inference.local.registry import MODELS
from playground.inference.local.server import stop_shared

SYSTEM = "You are a coding assistant. Answer with the whole updated file in one code block."
# A realistic Flint prompt: a source file of ~1000 tokens, then the instruction.
FILE = "\n".join(
    f"def handler_{i}(request, items):\n"
    f'    """Return the items of request {i} that pass the filter."""\n'
    f"    out = [x for x in items if x % {i + 2} == 0]\n"
    f"    return {{'id': {i}, 'count': len(out), 'items': out}}\n"
    for i in range(28)
)


@dataclass
class Result:
    model: str
    threads: int
    busy: bool
    load_s: float
    ttft_cold: float
    ttft_hit: float
    decode_tps: float
    tokens: int
    prompt_tokens: int
    rss_mb: float
    peak_mb: float
    load1: float  # 1-min load average at the end: this machine may be shared


def request(question: str, max_tokens: int) -> ChatRequest:
    user = f"Here is app.py:\n```python\n{FILE}\n```\n\n{question}"
    return ChatRequest(
        messages=(Message("system", SYSTEM), Message("user", user)),
        max_tokens=max_tokens,
        temperature=0.0,
    )


async def timed(backend: LocalModelBackend, req: ChatRequest) -> tuple[float, float, int, int]:
    """(ttft, decode tokens/s, completion tokens, prompt tokens) for one request."""
    start = time.perf_counter()
    first = last = 0.0
    pieces = prompt = 0
    completion = 0
    async for delta in backend.stream(req):
        now = time.perf_counter()
        if delta.text:
            pieces += 1
            first = first or now
            last = now
        if delta.usage:
            completion, prompt = delta.usage.completion_tokens, delta.usage.prompt_tokens
    tokens = completion or pieces
    tps = (tokens - 1) / (last - first) if tokens > 1 and last > first else 0.0
    return first - start, tps, tokens, prompt


def count_tokens(base_url: str, text: str) -> int:
    """Prompt size via the server's own tokenizer (the stream reports no usage)."""
    body = json.dumps({"input": text}).encode()
    req = urllib.request.Request(
        f"{base_url}/extras/tokenize/count", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return int(json.load(resp)["count"])


def proc_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(model: str, threads: int, busy: bool, max_tokens: int) -> Result:
    hog = None
    if busy:  # another process keeps one core at 100%
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        return asyncio.run(_measure(model, threads, busy, max_tokens))
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()


async def _measure(model: str, threads: int, busy: bool, max_tokens: int) -> Result:
    backend = LocalModelBackend(model=model, threads=threads, max_tokens=max_tokens)
    # Warm-up: loads the model and pages the weights in; a short prompt, so the
    # "cold" request below still finds nothing of its prompt in the KV cache.
    await timed(backend, ChatRequest(messages=(Message("user", "Hi"),), max_tokens=4))
    server = backend._server
    assert server is not None
    assert server.pid is not None
    cold_req = request("Add type hints to every function.", max_tokens)
    cold, tps, tokens, prompt = await timed(backend, cold_req)
    if not prompt:
        text = "\n".join(m.content for m in cold_req.messages)
        prompt = await asyncio.to_thread(count_tokens, server.base_url, text)
    hit, tps2, tokens2, _ = await timed(
        backend, request("Rename handler_0 to first_handler.", max_tokens)
    )
    pid = server.pid
    result = Result(
        model=model, threads=threads, busy=busy, load_s=server.loaded_in or 0.0,
        ttft_cold=cold, ttft_hit=hit, decode_tps=(tps + tps2) / 2, tokens=tokens + tokens2,
        prompt_tokens=prompt, rss_mb=proc_mb(pid, "VmRSS"), peak_mb=proc_mb(pid, "VmHWM"),
        load1=os.getloadavg()[0],
    )  # fmt: skip
    await backend.aclose()
    stop_shared()
    return result


def main() -> None:
    # SIGTERM -> SystemExit, so the finally blocks stop the core hog and the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--busy", choices=["no", "yes", "both"], default="both")
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    models = args.models or [m for m in MODELS if model_path(m).exists()]
    busy_modes = {"no": [False], "yes": [True], "both": [False, True]}[args.busy]
    header = (
        f"{'model':<20} {'thr':>3} {'busy':>4} {'load s':>6} {'prompt':>6} {'TTFT cold':>9} "
        f"{'TTFT hit':>8} {'decode t/s':>10} {'RSS MB':>6} {'peak MB':>7} {'load1':>5}"
    )
    rows = []
    for model in models:
        for threads in args.threads:
            for busy in busy_modes:
                print(f"--- {model}, {threads} thread(s), busy={busy}", file=sys.stderr)
                r = measure(model, threads, busy, args.max_tokens)
                rows.append(
                    f"{r.model:<20} {r.threads:>3} {'yes' if r.busy else 'no':>4} "
                    f"{r.load_s:>6.1f} {r.prompt_tokens:>6} {r.ttft_cold:>8.2f}s "
                    f"{r.ttft_hit:>7.2f}s {r.decode_tps:>10.1f} {r.rss_mb:>6.0f} {r.peak_mb:>7.0f} "
                    f"{r.load1:>5.1f}"
                )
                print(rows[-1], file=sys.stderr)
    print(header)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
