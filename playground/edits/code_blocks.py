"""Fenced code blocks: pick the target file, then apply as whole file or as symbols.

Target file: an explicit path (in the fence info, e.g. ```` ```python app.py ````,
or on the line before the fence), else the single file of the fence's language,
else the active file. Fences in a language we do not edit (``bash``, ``text``…)
are explanations, not edits, and are skipped.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace

from playground.edits.diffing import minimal_spans
from playground.edits.echo import strip_echo
from playground.edits.languages import language_for_fence, language_for_path, same_family
from playground.edits.model import EditEvent
from playground.edits.paths import bad_path, path_in_line, resolve
from playground.edits.placement import Refusal, plan_symbols
from playground.edits.wholefile import is_whole_file, whole_file_text
from playground.edits.workspace import Workspace

# Languages whose blocks may be indented as a whole (a statement lifted out of a body).
_INDENTED_OK = frozenset({"python", "javascript", "typescript", "tsx"})


@dataclass(frozen=True)
class Fence:
    info: str  # text after the opening backticks
    path: str | None  # path named on the line before the fence
    lines: list[str]


@dataclass(frozen=True)
class Target:
    path: str | None
    reason: str = ""  # why there is no target (when path is None)


def _read_info(info: str, files: list[str]) -> tuple[str | None, str | None, bool]:
    """(language, path, names_other_language) from a fence info string."""
    lang: str | None = None
    path: str | None = None
    other = False
    for token in info.replace("{", " ").replace("}", " ").split():
        token = token.split("=", 1)[-1].strip("\"'")
        if lang is None and language_for_fence(token):
            lang = language_for_fence(token)
        elif path is None and (found := path_in_line(token, files)) is not None:
            path = found
        elif lang is None and path is None:
            other = True
    return lang, path, other


def choose_target(fence: Fence, files: list[str], active: str | None) -> Target | None:
    """The file a fence edits; ``None`` when the fence is not an edit at all."""
    lang, info_path, other = _read_info(fence.info, files)
    explicit = info_path or fence.path
    if explicit:
        return Target(resolve(explicit, files))
    if other:
        return None
    if lang is None:
        if active is not None:
            return Target(active)
        return Target(files[0]) if len(files) == 1 else Target(None, "no file was named")
    matching = [f for f in files if same_family(language_for_path(f), lang)]
    if len(matching) == 1:
        return Target(matching[0])
    if active in matching:
        return Target(active)
    if matching:
        return Target(None, f"several {lang} files could be meant; name the file")
    return Target(None, f"there is no {lang} file to put it in; name the file")


def apply_fence(ws: Workspace, fence: Fence, active: str | None, hunk: int) -> EditEvent | None:
    names = sorted(ws.files)
    echoed = strip_echo(fence.lines, names)
    if fence.path is None and echoed.head_path is not None:
        fence = replace(fence, path=echoed.head_path)  # "## index.html" echoed inside the block
    target = choose_target(fence, names, active)
    if target is None:
        return None
    if target.path is None:
        return ws.reject(
            "", hunk, f"Hunk {hunk}: cannot tell which file the code block edits: {target.reason}."
        )
    path = target.path
    problem = bad_path(path)
    if problem:
        return ws.reject(path, hunk, problem, [path])
    lang = language_for_path(path)
    lines = strip_echo(fence.lines, names, lang, ws.files.get(path)).lines
    block = "".join(line + "\n" for line in lines)
    if path not in ws.files:
        return ws.add(path, hunk, whole_file_text(None, lines))
    old = ws.files[path]
    if lang in _INDENTED_OK:
        block = textwrap.dedent(block)  # a fragment copied from inside a function
    if lang is None or is_whole_file(lang, old, block):
        return ws.update(path, hunk, minimal_spans(old, whole_file_text(old, lines)))
    # The block stays LF here; placement converts what it inserts to the file's EOL.
    planned = plan_symbols(lang, old, block, path)
    if isinstance(planned, Refusal):
        return ws.reject(path, hunk, planned.reason, lines[:1], planned.spans)
    return ws.update(path, hunk, planned)
