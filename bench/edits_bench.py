"""Benchmark the edit engine on a ~500 KB file (about 128k tokens).

Per hunk: match + apply + incremental tree-sitter check, measured through the
public ``EditStream`` (one apply_patch envelope per hunk, random positions).
Whole file: the diff-match-patch minimal diff of the file against a copy with a
small change, and the full code-block path (heuristic + diff + syntax check).

Run:  python bench/edits_bench.py [--hunks 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Runnable as a plain script from anywhere: put the repository on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playground.edits import EditApplied, EditStream, apply_code_blocks
from playground.edits.diffing import minimal_spans
from playground.edits.syntax import parse_full

TARGET_BYTES = 500_000


def python_source(rng: random.Random) -> str:
    parts = ['"""Generated module for benchmarking."""\n\nimport json\nimport os\n\n']
    i = 0
    while sum(map(len, parts)) < TARGET_BYTES:
        parts.append(
            f"\n\nclass Service{i}:\n"
            f'    """Handles requests of kind {i}."""\n\n'
            f"    def __init__(self, store, limit={rng.randint(1, 99)}):\n"
            f"        self.store = store\n        self.limit = limit\n\n"
            f"    def fetch_{i}(self, key: str) -> dict[str, int]:\n"
            f"        value = self.store.get(key, {{}})\n"
            f"        if len(value) > self.limit:\n"
            f"            raise ValueError(f'too many items for {{key}}: {{len(value)}}')\n"
            f"        return {{k: v * {rng.randint(2, 9)} for k, v in value.items()}}\n\n\n"
            f"def helper_{i}(items: list[int]) -> int:\n"
            f"    total = 0\n"
            f"    for item in items:\n"
            f"        total += item % {rng.randint(3, 17)}\n"
            f"    return total + len(os.sep) + len(json.dumps(items))\n"
        )
        i += 1
    return "".join(parts)


def js_source(rng: random.Random) -> str:
    parts = ['import { api } from "./api.js";\n']
    i = 0
    while sum(map(len, parts)) < TARGET_BYTES:
        parts.append(
            f"\nexport class Widget{i} {{\n"
            f"  constructor(root, options = {{ size: {rng.randint(1, 99)} }}) {{\n"
            f"    this.root = root;\n    this.options = options;\n  }}\n\n"
            f"  render{i}(items) {{\n"
            f"    const list = items.filter((x) => x.size < this.options.size);\n"
            f"    return list.map((x) => `<li>${{x.name}}</li>`).join('');\n  }}\n}}\n\n"
            f"export function helper{i}(values) {{\n"
            f"  let total = 0;\n"
            f"  for (const v of values) {{\n    total += v % {rng.randint(3, 17)};\n  }}\n"
            f"  return api.send(total);\n}}\n"
        )
        i += 1
    return "".join(parts)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def bench_hunks(path: str, text: str, hunks: int, rng: random.Random) -> list[float]:
    stream = EditStream({path: text}, fmt="patch")
    times: list[float] = []
    counter = 0
    while len(times) < hunks + 1:
        lines = stream.files[path].split("\n")
        # A "total +=" line sits inside every helper: unique together with its context.
        candidates = [i for i, line in enumerate(lines) if "total +=" in line]
        at = rng.choice(candidates)
        counter += 1
        context = [" " + line for line in lines[at - 3 : at]]
        after = [" " + line for line in lines[at + 1 : at + 4]]
        new = lines[at].replace("total +=", f"total += {counter} *")
        patch = "\n".join(
            [
                "*** Begin Patch",
                f"*** Update File: {path}",
                "@@",
                *context,
                "-" + lines[at],
                "+" + new,
                *after,
                "*** End Patch",
                "",
            ]
        )
        events: list[object] = []
        elapsed = _time(lambda: events.extend(stream.feed(patch)))  # noqa: B023
        if not (len(events) == 1 and isinstance(events[0], EditApplied)):
            raise SystemExit(f"hunk {counter} was not applied: {events}")
        times.append(elapsed)
    return times[1:]  # the first hunk pays for the initial full parse


def bench_whole_file(path: str, text: str) -> tuple[float, float]:
    at = len(text) // 2
    at = text.index("\n", at) + 1
    changed = text[:at] + "# a small change\n" + text[at:]
    diff_ms = min(_time(lambda: minimal_spans(text, changed)) for _ in range(5))
    lang = "python" if path.endswith(".py") else "javascript"
    fence = f"```{lang} {path}\n{changed}```\n"
    if lang == "javascript":
        fence = fence.replace("# a small change", "// a small change")
    result = apply_code_blocks({path: text}, fence)
    if not result.applied or len(result.applied[0].ops) != 1:
        raise SystemExit(f"whole-file block was not a one-op diff: {result.errors}")
    full_ms = min(_time(lambda: apply_code_blocks({path: text}, fence)) for _ in range(3))
    return diff_ms, full_ms


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--hunks", type=int, default=300)
    args.add_argument("--seed", type=int, default=1)
    opts = args.parse_args()
    rng = random.Random(opts.seed)
    print(
        f"{'file':<10} {'size':>8} {'parse':>8} {'hunks':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'diff ms':>8} {'block ms':>9}"
    )
    for path, text in (("big.py", python_source(rng)), ("big.js", js_source(rng))):
        lang = "python" if path.endswith(".py") else "javascript"
        parse_ms = _time(lambda: parse_full(lang, text))  # noqa: B023
        times = bench_hunks(path, text, opts.hunks, rng)
        diff_ms, block_ms = bench_whole_file(path, text)
        print(
            f"{path:<10} {len(text) / 1000:>6.0f}KB {parse_ms:>8.1f} {len(times):>6} "
            f"{statistics.median(times):>8.2f} {_percentile(times, 0.99):>8.2f} "
            f"{max(times):>8.2f} {diff_ms:>8.1f} {block_ms:>9.1f}"
        )
    print(
        "p50/p99: one apply_patch hunk via EditStream.feed (parse + match + apply + "
        "incremental tree-sitter check); diff: dmp minimal diff, small change; "
        "block: whole-file code block end to end (heuristic + diff + check, cold trees)."
    )


if __name__ == "__main__":
    main()
