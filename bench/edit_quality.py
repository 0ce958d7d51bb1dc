"""Edit quality: does a learner's request end in the change that was asked for?

Drives the real Flint page in headless Chromium through a real Daphne, task by task:
opens a fresh playground from the Web or Python starter, types the learner's
instruction, presses Send, waits for gen.done, and then looks where the learner
would look: web tasks run a check inside the live preview frame (computed styles,
DOM, what a click does); Python tasks run the resulting main.py with CPython under a
timeout and check its output. Tasks are in bench/edit_quality/tasks.toml.

Per task it prints pass/fail, tokens emitted, the time from Send until the correct
edit was visible (and stayed), the size of the change, and every refusal
(gen.edit_rejected) with its reason; then the success rate per variant.

    python bench/edit_quality.py --backend local --model qwen2.5-coder-0.5b
    python bench/edit_quality.py --backend local --variant qwen2.5-coder-0.5b:legacy \\
        --variant qwen2.5-coder-0.5b:new --variant qwen2.5-coder-0.5b:new:draft
    python bench/edit_quality.py --base-url https://api.example/v1 --model NAME
    python bench/edit_quality.py --replay bench/edit_quality/answers/qwen2.5-coder-0.5b-legacy
    options: --tasks web-heading,py- (id prefixes) --record DIR --json FILE --repeat N

A variant is MODEL:PROMPT[:draft[=N]]: PROMPT is `new` (playground/generations/prompt.py)
or `legacy` (the prompt before #11); `draft` turns on llama.cpp prompt-lookup drafting.
--record DIR saves each raw answer byte for byte (DIR/<variant>/<task>.answer, plus a
.json with what happened); --replay DIR feeds those answers through the scripted
upstream (no model) and the real engine and page. Local runs share FLINT_VAR_DIR (or
--var-dir) with `manage.py models fetch`, so models are not fetched again.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from playground.testing import browser as browsers  # noqa: E402
from playground.testing.servers import daphne_server, flint_env, migrate  # noqa: E402
from playground.testing.upstream import Reply, ScriptedUpstream  # noqa: E402

HERE = REPO / "bench" / "edit_quality"
TASKS_FILE = HERE / "tasks.toml"
CHECKS_JS = (HERE / "checks.js").read_text()
CHROMIUM = "/usr/bin/chromium"
NO_LIMITS = {
    "FLINT_LIMIT_GENERATIONS": "100000 per 10 minutes",
    "FLINT_LIMIT_GENERATIONS_IP": "100000 per 10 minutes",
    "FLINT_LIMIT_TOKENS": "100000000 per hour",
    "FLINT_LIMIT_TOKENS_IP": "100000000 per hour",
}


# --------------------------------------------------------------------- tasks ----


@dataclass(frozen=True)
class Task:
    id: str
    starter: str  # "web" | "python"
    instruction: str
    check: str
    baseline: str = ""
    probe: str = ""
    setup: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    keeps_counter: bool = True  # web: the starter's counter must still count by one


def load_tasks(path: Path = TASKS_FILE) -> list[Task]:
    data = tomllib.loads(path.read_text())
    return [
        Task(**{**t, "tags": tuple(t.get("tags", ())), "setup": dict(t.get("setup", {}))})
        for t in data["task"]
    ]


def select_tasks(tasks: list[Task], spec: str | None) -> list[Task]:
    """Tasks whose id starts with one of the comma-separated prefixes (or has the tag)."""
    if not spec:
        return tasks
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    return [t for t in tasks if any(t.id.startswith(w) or w in t.tags for w in wanted)]


# ------------------------------------------------------------------ checking ----


def run_python(files: dict[str, str], probe: str = "", timeout: float = 10.0) -> dict[str, Any]:
    """Run main.py (and the task's probe) in a scratch folder, as the learner's Run would."""
    with tempfile.TemporaryDirectory(prefix="flint-eq-") as tmp:
        for path, text in files.items():
            target = Path(tmp, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        result = _run([sys.executable, "-E", "-s", "main.py"], tmp, timeout)
        if probe and result["rc"] == 0:
            result["probe"] = _run(
                [sys.executable, "-E", "-s", "-c", f"import main\n{probe}"], tmp, timeout
            )["out"]
        return result


def _run(argv: list[str], cwd: str, timeout: float) -> dict[str, Any]:
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return {"rc": -1, "out": "", "err": f"timed out after {timeout:.0f} s", "probe": ""}
    return {"rc": done.returncode, "out": done.stdout, "err": done.stderr[-2000:], "probe": ""}


def python_check(task: Task, files: dict[str, str]) -> tuple[bool, str]:
    """(passed, what the learner saw) for a Python task."""
    ran = run_python(files, task.probe)
    lines = [line.strip() for line in ran["out"].splitlines() if line.strip()]
    seen = (ran["out"] + ran["err"]).strip()[-400:]
    if ran["rc"] != 0:
        return False, seen
    scope = {
        "out": ran["out"],
        "lines": lines,
        "files": files,
        "probe": ran["probe"],
        "re": re,
        "has": lambda n, line: re.search(rf"(?<![\d.]){n}(?![\d.])", line) is not None,
        "in_order": _in_order,
    }
    try:
        return bool(eval(task.check, scope)), seen  # our own task file
    except Exception as exc:  # the answer's output did not have the expected shape
        return False, f"{seen} ({type(exc).__name__}: {exc})"


def _in_order(lines: list[str], patterns: list[str]) -> bool:
    """Each pattern matches a later line than the one before (case-insensitive)."""
    i = 0
    for pattern in patterns:
        while i < len(lines) and not re.search(pattern, lines[i], re.IGNORECASE):
            i += 1
        if i == len(lines):
            return False
        i += 1
    return True


def changed_chars(before: dict[str, str], after: dict[str, str]) -> int:
    """Characters inserted or deleted between two sets of files (a size of the change)."""
    total = 0
    for path in set(before) | set(after):
        a, b = before.get(path, ""), after.get(path, "")
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                total += max(i2 - i1, j2 - j1)
    return total


# ---------------------------------------------------------------------- page ----

RECORDER = """
const s = window.flint.session;
if (!window.__eq) {
  window.__eq = {events: []};
  const original = s.receive.bind(s);
  s.receive = (msg) => {
    window.__eq.events.push({t: performance.now(), msg});
    return original(msg);
  };
}
"""
SET_FILE = """
const [path, text] = arguments;
const ws = window.flint.workspace;
ws.open(path);
ws.view.dispatch({changes: {from: 0, to: ws.view.state.doc.length, insert: text}});
"""


def new_driver() -> Any:
    return browsers.new_driver(prefix="flint-eq-chrome-", page_load_timeout=60)


def quit_driver(driver: Any) -> None:
    with contextlib.suppress(Exception):
        driver.quit()
    shutil.rmtree(driver.flint_profile, ignore_errors=True)


class Page:
    """One Flint playground page in the browser, as the learner uses it."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver = driver
        self.base = base

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def open(self, starter: str, setup: dict[str, str]) -> None:
        self.driver.get(f"{self.base}/?template={starter}")
        self._wait(lambda: self.js("return !!(window.flint && window.flint.socket.isOpen)"), 30)
        for path, text in setup.items():
            self.js(SET_FILE, path, text)
        if starter == "web":
            self._wait(self.preview_settled, 30)
        self.js(RECORDER)

    def preview_settled(self) -> bool:
        return bool(
            self.js(
                "const p = window.flint.preview;"
                " return !!(p && p.shown && p.shown.state === 'shown' && !p.pending)"
            )
        )

    def files(self) -> dict[str, str]:
        return dict(self.js("return window.flint.workspace.files()"))

    def send(self, instruction: str) -> float:
        from selenium.webdriver.common.by import By

        self._wait(lambda: self.js("return !document.querySelector('[data-testid=send]').disabled"))
        box = self.driver.find_element(By.CSS_SELECTOR, '[data-testid="instruction"]')
        box.clear()
        box.send_keys(instruction)
        started = time.monotonic()
        self.driver.find_element(By.CSS_SELECTOR, '[data-testid="send"]').click()
        return started

    def drain(self) -> list[dict[str, Any]]:
        return list(self.js("const e = window.__eq.events; window.__eq.events = []; return e;"))

    def in_preview(self, body: str, base: Any) -> Any:
        from selenium.webdriver.common.by import By

        frame = self.driver.find_element(By.CSS_SELECTOR, '[data-testid="preview"]')
        self.driver.switch_to.frame(frame)
        try:
            guarded = f"try {{ {body}\n }} catch (e) {{ return {{error: String(e)}}; }}"
            script = f"const base = arguments[0];\n{CHECKS_JS}\n{guarded}"
            return self.driver.execute_script(
                f"return (function() {{ {script} }}).apply(null, arguments);", base
            )
        finally:
            self.driver.switch_to.default_content()

    def web_check(self, task: Task, base: Any) -> tuple[bool, str]:
        body = task.check
        if task.keeps_counter:
            body = (
                f"const asked = (function() {{ {body}\n }})();\n"
                "if (asked !== true) return asked;\n"
                "return counterCounts() || 'the counter stopped counting';"
            )
        try:
            value = self.in_preview(body, base)
        except Exception as exc:  # the frame was being replaced: not visible yet
            return False, type(exc).__name__
        if isinstance(value, dict) and "error" in value:
            return False, str(value["error"])
        return value is True, json.dumps(value)

    def _wait(self, predicate: Any, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the page did not get ready")
            time.sleep(0.05)


# ---------------------------------------------------------------------- runs ----


@dataclass
class Outcome:
    task: str
    variant: str
    passed: bool
    tokens: int | None
    visible_s: float | None  # Send -> the check passed (and kept passing)
    total_s: float  # Send -> gen.done
    changed_chars: int
    edits: int
    rejections: list[dict[str, Any]]
    reason: str  # gen.done reason
    seen: str  # what the check saw, for a failure
    edit_kinds: list[str] = field(default_factory=list)  # gen.edit kinds, in order
    ttft_s: float | None = None  # the generation's own figures (gen.done stats)
    tokens_per_s: float | None = None
    leaks: list[str] = field(default_factory=list)  # prompt text / fences now in a file
    answer: str = ""  # the raw answer (recorded, not reported)
    files: dict[str, str] = field(default_factory=dict)  # the files after (not reported)

    def report(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("answer", "files")}


def run_task(page: Page, task: Task, variant: str, timeout: float, reply: Reply | None = None,
             upstream: ScriptedUpstream | None = None) -> Outcome:  # fmt: skip
    page.open(task.starter, task.setup)
    before = page.files()
    base = page.in_preview(task.baseline, None) if task.baseline else None
    if upstream is not None and reply is not None:
        upstream.script(reply)
    started = page.send(task.instruction)
    events: list[dict[str, Any]] = []
    visible: float | None = None
    done: dict[str, Any] | None = None
    looks_right = LiveCheck(page, task, base)
    while done is None:
        now = time.monotonic()
        if now - started > timeout:
            page.js("window.flint.session.stop()")
            break
        fresh = page.drain()
        events.extend(fresh)
        done = next((e["msg"] for e in fresh if e["msg"].get("type") == "gen.done"), None)
        if not looks_right():
            visible = None
        elif visible is None:
            visible = now - started
        time.sleep(0.15)
    total = time.monotonic() - started
    if task.starter == "web":
        with contextlib.suppress(TimeoutError):
            page._wait(page.preview_settled, 15)
    time.sleep(0.3)  # the last frame's repaint
    events.extend(page.drain())
    if done is None:  # stopped at the timeout: its gen.done came after
        done = next((e["msg"] for e in events if e["msg"].get("type") == "gen.done"), None)
    after = page.files()
    if task.starter == "web":
        passed, seen = page.web_check(task, base)
    else:
        passed, seen = python_check(task, after)
    if passed and visible is None:
        visible = time.monotonic() - started
    messages = [e["msg"] for e in events]
    stats = (done or {}).get("stats") or {}
    return Outcome(
        task=task.id,
        variant=variant,
        passed=passed,
        tokens=stats.get("tokens"),
        visible_s=round(visible, 2) if passed and visible is not None else None,
        total_s=round(total, 2),
        changed_chars=changed_chars(before, after),
        edits=sum(1 for m in messages if m.get("type") == "gen.edit"),
        edit_kinds=[str(m.get("kind")) for m in messages if m.get("type") == "gen.edit"],
        ttft_s=round(stats["ttft_ms"] / 1000, 2) if stats.get("ttft_ms") is not None else None,
        tokens_per_s=stats.get("tokens_per_s"),
        rejections=[
            {"path": m.get("path"), "reason": m.get("reason")}
            for m in messages
            if m.get("type") == "gen.edit_rejected"
        ],
        reason=str((done or {}).get("reason", "timeout")),
        seen="" if passed else seen,
        leaks=leaks(before, after),
        answer="".join(m.get("text", "") for m in messages if m.get("type") == "gen.delta"),
        files=after,
    )


# Text of the prompt's layout, or a fence line: none of it belongs in a learner's file.
LEAK_MARKERS = ("```", '<file path="', "</file>", "# Project files", "Example (not the")


def leaks(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """``path: marker`` for each prompt marker a file has now and did not have before."""
    return [
        f"{path}: {marker}"
        for path, text in sorted(after.items())
        for marker in LEAK_MARKERS
        if marker in text and marker not in before.get(path, "")
    ]


class LiveCheck:
    """The task's check as the answer streams: the preview now, or main.py's output.

    main.py is run again only when the files changed since the last look.
    """

    def __init__(self, page: Page, task: Task, base: Any) -> None:
        self.page, self.task, self.base = page, task, base
        self._last: tuple[str, bool] | None = None

    def __call__(self) -> bool:
        if self.task.starter == "web":
            return self.page.web_check(self.task, self.base)[0]
        files = self.page.files()
        key = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        if self._last is None or self._last[0] != key:
            self._last = (key, python_check(self.task, files)[0])
        return self._last[1]


# ------------------------------------------------------------------ variants ----


@dataclass(frozen=True)
class Variant:
    model: str
    prompt: str = "new"  # new | legacy
    draft: int = 0  # prompt-lookup draft tokens (local model); 0 = off

    @property
    def label(self) -> str:
        return f"{self.model}-{self.prompt}" + (f"-draft{self.draft}" if self.draft else "")

    @classmethod
    def parse(cls, spec: str) -> Variant:
        model, *rest = spec.split(":")
        prompt, draft = "new", 0
        for part in rest:
            if part in ("new", "legacy"):
                prompt = part
            elif part.startswith("draft"):
                draft = int(part.partition("=")[2] or 10)
            else:
                raise SystemExit(f"variant {spec!r}: unknown part {part!r}")
        return cls(model, prompt, draft)


def _server_env(variant: Variant) -> dict[str, str]:
    return {
        **NO_LIMITS,
        "DJANGO_SETTINGS_MODULE": "bench.edit_quality_settings",
        "FLINT_BENCH_PROMPT": variant.prompt,
        "FLINT_BENCH_DRAFT": str(variant.draft),
    }


@contextlib.contextmanager
def replay_flint(variant: Variant | None = None) -> Iterator[tuple[str, ScriptedUpstream]]:
    """Flint on the scripted upstream (answers come from ``upstream.script``), no model.

    Asks for the local model's answer format, so the page and engine see what they
    see with the local model. Yields (base URL, upstream).
    """
    extra = _server_env(variant or Variant("replay"))
    with tempfile.TemporaryDirectory(prefix="flint-eq-var-") as var, ScriptedUpstream() as up:
        env = flint_env(
            Path(var),
            FLINT_BASE_URL=up.base_url,
            FLINT_MODEL="replay",
            FLINT_EDIT_FORMAT="whole_file",
            **extra,
        )
        migrate(env)
        with daphne_server(env) as base:
            yield base, up


@contextlib.contextmanager
def flint_for(args: argparse.Namespace, variant: Variant) -> Iterator[tuple[str, Any]]:
    """A Flint server for the variant; yields (base URL, scripted upstream or None)."""
    if args.replay:
        with replay_flint(variant) as served:
            yield served
        return
    extra = _server_env(variant)
    var_dir = Path(args.var_dir)
    if args.base_url:
        remote = {"FLINT_BASE_URL": args.base_url, "FLINT_MODEL": variant.model}
        if os.environ.get("FLINT_API_KEY"):
            remote["FLINT_API_KEY"] = os.environ["FLINT_API_KEY"]
        env = flint_env(var_dir, **remote, **extra)
    else:
        local = {"FLINT_LOCAL_MODEL": variant.model, "FLINT_LOCAL_THREADS": str(args.threads)}
        env = flint_env(var_dir, **local, **extra)
    migrate(env)
    with daphne_server(env) as base:
        yield base, None


def warm_up(page: Page, timeout: float) -> None:
    """Load the model (not timed): one short generation in a Python playground."""
    page.open("python", {})
    page.send("Reply with the word ready.")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e["msg"].get("type") == "gen.done" for e in page.drain()):
            return
        time.sleep(0.2)
    raise TimeoutError("the model did not answer the warm-up request")


def run_variant(args: argparse.Namespace, variant: Variant, tasks: list[Task]) -> list[Outcome]:
    replies = _recorded(Path(args.replay)) if args.replay else {}
    if args.replay:
        tasks = [t for t in tasks if t.id in replies]
    outcomes: list[Outcome] = []
    with flint_for(args, variant) as (base, upstream):
        driver = new_driver()
        try:
            page = Page(driver, base)
            if upstream is None:
                warm_up(page, args.load_timeout)
            print(
                f"\n== {variant.label} ({len(tasks)} tasks x {args.repeat}), {machine_state()} ==",
                flush=True,
            )
            for task in tasks:
                for _ in range(args.repeat):
                    reply = Reply(text=replies[task.id], rate=0) if task.id in replies else None
                    outcome = run_task(page, task, variant.label, args.timeout, reply, upstream)
                    print(format_outcome(outcome), flush=True)
                    if args.record:
                        record(Path(args.record) / variant.label, outcome)
                    outcomes.append(outcome)
        finally:
            quit_driver(driver)
    return outcomes


def machine_state() -> str:
    """Load and CPU pressure: on a shared 2-core machine they explain slow runs."""
    state = f"load {os.getloadavg()[0]:.2f}"
    with contextlib.suppress(OSError):
        some = Path("/proc/pressure/cpu").read_text().split("\n")[0]
        state += f", CPU pressure {some.split('avg10=')[1].split()[0]}% (10 s)"
    return state


def _recorded(folder: Path) -> dict[str, str]:
    found = {p.stem: p.read_bytes().decode("utf-8") for p in sorted(folder.glob("*.answer"))}
    if not found:
        raise SystemExit(f"{folder}: no recorded answers (*.answer)")
    return found


def record(folder: Path, outcome: Outcome) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{outcome.task}.answer").write_bytes(outcome.answer.encode("utf-8"))
    meta = outcome.report()
    (folder / f"{outcome.task}.json").write_text(
        json.dumps(meta, indent=1, ensure_ascii=False) + "\n"
    )


# ------------------------------------------------------------------- report ----


def format_outcome(o: Outcome) -> str:
    mark = "PASS" if o.passed else "fail"
    visible = f"{o.visible_s:6.1f}s" if o.visible_s is not None else "     - "
    line = (
        f"{mark} {o.task:28} tokens {o.tokens if o.tokens is not None else '-':>4}"
        f"  visible {visible}  done {o.total_s:6.1f}s  changed {o.changed_chars:4} chars"
        f"  edits {o.edits}"
    )
    if o.reason != "stop":
        line += f"  [{o.reason}]"
    for r in o.rejections:
        line += f"\n     refused {r['path'] or '?'}: {r['reason']}"
    for leak in o.leaks:
        line += f"\n     PROMPT TEXT IN A FILE: {leak}"
    if not o.passed and o.seen:
        line += f"\n     saw: {o.seen[:200]!r}"
    return line


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    passed = [o for o in outcomes if o.passed]
    css = [o.visible_s for o in passed if o.task in _CSS_ONE_RULE and o.visible_s is not None]
    tokens = [o.tokens for o in outcomes if o.tokens]
    changed = [o.changed_chars for o in outcomes if o.tokens]
    return {
        "tasks": len(outcomes),
        "passed": len(passed),
        "success_rate": round(len(passed) / len(outcomes), 3) if outcomes else None,
        "web": _rate([o for o in outcomes if o.task.startswith("web-")]),
        "python": _rate([o for o in outcomes if o.task.startswith("py-")]),
        "refusals": sum(len(o.rejections) for o in outcomes),
        "leaks": sum(len(o.leaks) for o in outcomes),
        "p50_css_one_rule_visible_s": round(statistics.median(css), 2) if css else None,
        "css_one_rule_passed": len(css),
        "tokens_per_task_median": statistics.median(tokens) if tokens else None,
        "changed_chars_median": statistics.median(changed) if changed else None,
        "tokens_per_changed_char": round(sum(tokens) / sum(changed), 2) if sum(changed) else None,
        "ttft_s_median": _median([o.ttft_s for o in outcomes]),
        "tokens_per_s_median": _median([o.tokens_per_s for o in outcomes]),
    }


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 2) if known else None


def _rate(outcomes: list[Outcome]) -> str:
    return f"{sum(o.passed for o in outcomes)}/{len(outcomes)}"


_CSS_ONE_RULE: set[str] = set()


def _p50(summary: dict[str, Any]) -> str:
    p50 = summary["p50_css_one_rule_visible_s"]
    return f"{p50} s (of {summary['css_one_rule_passed']})" if p50 is not None else "-"


def markdown(results: dict[str, Any]) -> str:
    """The run as Markdown tables (for docs/benchmarks.md): variants, then task by task."""
    variants = results["variants"]
    lines = [
        f"`{results['command']}` ({results['started']} UTC)",
        "",
        "| variant | success | web | python | refusals | p50 Send→visible, one-rule CSS "
        "| tokens/task (median) | changed chars (median) | tokens per changed char "
        "| TTFT (median) | decode tok/s (median) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, data in variants.items():
        s = data["summary"]
        lines.append(
            f"| {label} | {s['passed']}/{s['tasks']} ({(s['success_rate'] or 0):.0%}) "
            f"| {s['web']} | {s['python']} | {s['refusals']} "
            f"| {_p50(s)} "
            f"| {s['tokens_per_task_median']} | {s['changed_chars_median']} "
            f"| {s['tokens_per_changed_char']} | {s.get('ttft_s_median')} s "
            f"| {s.get('tokens_per_s_median')} |"
        )
    labels = list(variants)
    lines += ["", "| task | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    by_task: dict[str, dict[str, dict[str, Any]]] = {}
    for label, data in variants.items():
        for o in data["outcomes"]:
            by_task.setdefault(o["task"], {})[label] = o
    for task, row in by_task.items():
        cells = []
        for label in labels:
            o = row.get(label)
            if o is None:
                cells.append("")
                continue
            mark = "pass" if o["passed"] else "fail"
            visible = f", {o['visible_s']} s" if o["visible_s"] is not None else ""
            refused = f", {len(o['rejections'])} refused" if o["rejections"] else ""
            cells.append(f"{mark} ({o['tokens']} tok, {o['changed_chars']} ch{visible}{refused})")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--backend", choices=("local", "remote"), default=None)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--prompt", choices=("new", "legacy"), default="new")
    parser.add_argument("--draft", type=int, default=0, help="prompt-lookup draft tokens (0 = off)")
    parser.add_argument("--variant", action="append", default=[], help="MODEL:PROMPT[:draft[=N]]")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (FLINT_API_KEY from env)")
    parser.add_argument("--tasks", help="comma-separated task id prefixes or tags")
    parser.add_argument("--record", help="save each raw answer under DIR/<variant>/")
    parser.add_argument("--replay", help="feed the answers recorded in DIR instead of a model")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per task")
    parser.add_argument("--load-timeout", type=float, default=900.0)
    parser.add_argument(
        "--threads", type=int, default=int(os.environ.get("FLINT_LOCAL_THREADS", 1))
    )
    parser.add_argument("--var-dir", default=os.environ.get("FLINT_VAR_DIR") or str(REPO / "var"))
    parser.add_argument("--json", help="write every outcome and the summaries to FILE")
    parser.add_argument("--markdown", help="write the results as Markdown tables to FILE")
    args = parser.parse_args(argv)
    # A terminated run still stops its Daphne, model server and browser (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.backend == "remote" and not args.base_url:
        parser.error("--backend remote needs --base-url")
    all_tasks = load_tasks()
    _CSS_ONE_RULE.update(t.id for t in all_tasks if "css-one-rule" in t.tags)
    tasks = select_tasks(all_tasks, args.tasks)
    # Tasks of one starter run back to back, so the model's prompt cache can reuse
    # the shared prefix (the starter files) from one task to the next.
    tasks.sort(key=lambda t: t.starter != "web")
    variants = [Variant.parse(v) for v in args.variant] or [
        Variant(args.model if not args.replay else "replay", args.prompt, args.draft)
    ]
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    results: dict[str, Any] = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                               "started": started, "variants": {}}  # fmt: skip
    for variant in variants:
        outcomes = run_variant(args, variant, tasks)
        summary = {**summarize(outcomes), "machine_after": machine_state()}
        results["variants"][variant.label] = {
            "summary": summary,
            "outcomes": [o.report() for o in outcomes],
        }
        if args.json:  # after each variant, so a long run keeps what it measured
            Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        if args.markdown:
            Path(args.markdown).write_text(markdown(results))
    print("\n== summary ==")
    for label, data in results["variants"].items():
        s = data["summary"]
        print(
            f"{label:40} success {s['passed']}/{s['tasks']} ({(s['success_rate'] or 0):.0%})"
            f"  web {s['web']}  python {s['python']}  refusals {s['refusals']}"
            f"  leaks {s['leaks']}"
            f"  p50 css-one-rule visible {s['p50_css_one_rule_visible_s']}s"
            f"  tokens/task {s['tokens_per_task_median']}"
            f"  changed chars {s['changed_chars_median']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
