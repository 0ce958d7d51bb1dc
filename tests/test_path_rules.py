"""The page's path rules (frontend/src/editor/path-rules.js) against the server's."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from playground.persistence.files import BadPathError, validate_path

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    "index.html", "src/app.js", "a/b/c.d.txt", "My File.md", "día.txt", "con-game.js",
    "", "a\\b.js", "a\x00b", "a\x1fb", "a\x7fb", "a\x85b", "evil\u202etxt.js", "x\u200fy",
    "/etc/passwd", "C:x.txt", "c:/x", "a//b", "../up.js", "a/./b", "a/..", "./a", "a/",
    "name.", "folder /x", "con", "NUL.txt", "lib/com1.js", "LPT9", "aux .txt", "x" * 200,
    "x" * 201, " lead.txt", "tab\tname", "emoji😀.js",
]  # fmt: skip


def _js_verdicts() -> list[bool]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        "import { pathProblem } from './src/editor/path-rules.js';"
        "const cases = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(cases.map((c) => pathProblem(c) === null)));"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script, json.dumps(CASES)],
        cwd=ROOT / "frontend",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return list(json.loads(out.stdout))


def _server_accepts(path: str) -> bool:
    try:
        validate_path(path)
    except BadPathError:
        return False
    return True


def test_the_page_never_accepts_a_path_the_server_refuses() -> None:
    page = dict(zip(CASES, _js_verdicts(), strict=True))
    wrong = [p for p, ok in page.items() if ok and not _server_accepts(p)]
    assert wrong == []
    assert page["index.html"] and page["src/app.js"] and not page["../up.js"]


def test_the_page_and_the_one_path_rule_agree_exactly() -> None:
    try:
        rules = importlib.import_module("playground.pathrules")
    except ImportError:
        pytest.skip("playground.pathrules (the security branch's one rule) is not here yet")
    page = dict(zip(CASES, _js_verdicts(), strict=True))
    server = {p: rules.path_problem(p) is None for p in CASES}
    assert page == server
