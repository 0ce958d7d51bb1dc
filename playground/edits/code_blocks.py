"""Fenced code blocks: pick the target file, then apply as whole file or as parts.

Target file: an explicit path (in the fence info, e.g. ```` ```python app.py ````,
or on the line before the fence, or an echoed ``## path`` heading), else the
single file of the fence's language, else the active file. Fences in a language
we do not edit (``bash``, ``text``…) are explanations, not edits, and are skipped.

A block for a file the playground cannot use (``index.html`` in a Python
playground) is refused; when its code is in fact Python, the refusal carries the
ops that would put it into the Python file ("Apply anyway").
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field, replace

from playground.edits.diffing import minimal_spans
from playground.edits.echo import strip_echo
from playground.edits.languages import (
    KIND_NAMES,
    PlaygroundKind,
    display_name,
    fits,
    fits_path,
    language_for_fence,
    language_for_path,
    same_family,
)
from playground.edits.lines import trim_blank_edges
from playground.edits.model import EditEvent, EditRejected, Span
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
    reason: str = ""  # why there is no target (when path is None), a full sentence
    foreign: bool = False  # the code is of a language the playground cannot use


@dataclass(frozen=True)
class Plan:
    """What a fenced block would do, or why it cannot be applied."""

    path: str
    spans: list[Span] | None = None  # against the file as it is now
    new_text: str | None = None  # the text of a new file
    refusal: str | None = None
    lines: list[str] = field(default_factory=list)  # the lines a refusal is about
    code: str = ""  # the block's code, for "Copy"

    @property
    def apply_spans(self) -> list[Span] | None:
        """What "Apply anyway" would do."""
        if self.new_text is not None:
            return [Span(0, 0, self.new_text)]
        return self.spans


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


def _not_for_this_playground(kind: PlaygroundKind, what: str) -> str:
    return f"This is a {KIND_NAMES[kind]} playground; the answer's {what} was not added."


def choose_target(
    fence: Fence, files: list[str], active: str | None, kind: PlaygroundKind | None = None
) -> Target | None:
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
        if len(files) == 1:
            return Target(files[0])
        return Target(None, "Flint cannot tell which file this code block is for.")
    if kind is not None and not fits(kind, lang):
        what = f"{display_name(lang)} code"
        return Target(None, _not_for_this_playground(kind, what), foreign=True)
    matching = [f for f in files if same_family(language_for_path(f), lang)]
    if len(matching) == 1:
        return Target(matching[0])
    if active in matching:
        return Target(active)
    name = display_name(lang)
    if matching:
        return Target(
            None,
            f"Flint cannot tell which {name} file this code block is for ({', '.join(matching)}).",
        )
    return Target(None, f"There is no {name} file for this code block, and it names none.")


def _looks_like(lang: str | None, code: str) -> bool:
    """Whether ``code`` parses cleanly as ``lang`` (HTML: and has a tag)."""
    if lang is None or not code.strip():
        return lang is None and bool(code.strip())
    from playground.edits.syntax import parse_full

    if lang == "html" and "<" not in code:
        return False
    return parse_full(lang, code).errors == 0


def _python_file(names: list[str], active: str | None) -> str | None:
    if active is not None and language_for_path(active) == "python" and active in names:
        return active
    python = [n for n in names if language_for_path(n) == "python"]
    return python[0] if len(python) == 1 else None


def _elsewhere(
    ws: Workspace,
    fence: Fence,
    active: str | None,
    kind: PlaygroundKind,
    what: str,
    path: str,
    code: str,
) -> Plan:
    """Refuse a block the playground cannot use; offer its Python to the Python file."""
    reason = _not_for_this_playground(kind, what)
    names = sorted(ws.files)
    python = _python_file(names, active) if kind == "python" else None
    if python is not None and _looks_like("python", code) and not code.lstrip().startswith("<"):
        alt = plan_fence(ws, Fence("python", python, fence.lines), active, kind)
        if alt is not None and alt.refusal is None and alt.apply_spans:
            return Plan(
                python,
                spans=alt.apply_spans,
                refusal=f"{reason} Its code looks like Python: Apply anyway puts it into {python}.",
                code=code,
            )
    return Plan(path, refusal=f"{reason} Copy the code if you want to keep it.", code=code)


def _mislabelled(
    ws: Workspace,
    fence: Fence,
    active: str | None,
    kind: PlaygroundKind | None,
    said: str,
    path: str,
    code: str,
) -> Plan:
    """A block labelled with one file but written in another file's language."""
    name, file_lang = display_name(said), display_name(language_for_path(path) or "")
    reason = (
        f"The answer's {name} code is labelled {path}, but it is not {file_lang}, so it was "
        "not applied: the code block is probably meant for another file."
    )
    names = sorted(ws.files)
    others = [n for n in names if same_family(language_for_path(n), said)]
    if len(others) == 1:
        alt = plan_fence(ws, Fence(said, others[0], fence.lines), active, kind)
        if alt is not None and alt.refusal is None and alt.apply_spans:
            reason = f"{reason} Apply anyway puts it into {others[0]}."
            return Plan(others[0], spans=alt.apply_spans, refusal=reason, code=code)
    return Plan(path, refusal=f"{reason} Copy the code if you want to keep it.", code=code)


def plan_fence(
    ws: Workspace, fence: Fence, active: str | None, kind: PlaygroundKind | None = None
) -> Plan | None:
    """What ``fence`` would do to the files; ``None`` when it is not an edit at all."""
    names = sorted(ws.files)
    said = _read_info(fence.info, names)[0]  # the language the fence says
    echoed = strip_echo(fence.lines, names, said)
    if fence.path is None and echoed.head_path is not None:
        fence = replace(fence, path=echoed.head_path)  # "## index.html" echoed inside the block
    code = "\n".join(trim_blank_edges(echoed.lines))
    target = choose_target(fence, names, active, kind)
    if target is None:
        return None
    if target.path is None:
        if target.foreign and kind is not None:
            written = display_name(said or "")
            return _elsewhere(ws, fence, active, kind, f"{written} code", "", code)
        reason = f"{target.reason} Ask the model to name the file, or copy the code yourself."
        return Plan("", refusal=reason, code=code)
    path = target.path
    problem = bad_path(path)
    if problem:
        return Plan(path, refusal=problem, lines=[path], code=code)
    if path not in ws.files and kind is not None and not fits_path(kind, path):
        return _elsewhere(ws, fence, active, kind, path, path, code)
    lang = language_for_path(path)
    mislabelled = lang is not None and said is not None and not same_family(said, lang)
    if mislabelled and not _looks_like(lang, code) and _looks_like(said, code):
        return _mislabelled(ws, fence, active, kind, said or "", path, code)
    lines = strip_echo(fence.lines, names, lang, ws.files.get(path)).lines
    code = "\n".join(trim_blank_edges(lines))
    if path not in ws.files:
        return Plan(path, new_text=whole_file_text(None, lines), code=code)
    old = ws.files[path]
    block = "".join(line + "\n" for line in lines)
    if lang in _INDENTED_OK:
        block = textwrap.dedent(block)  # a fragment copied from inside a function
    if lang is None or is_whole_file(lang, old, block):
        return Plan(path, spans=minimal_spans(old, whole_file_text(old, lines)), code=code)
    # The block stays LF here; placement converts what it inserts to the file's EOL.
    planned = plan_symbols(lang, old, block, path)
    if isinstance(planned, Refusal):
        return Plan(path, planned.spans, refusal=planned.reason, lines=lines[:1], code=code)
    return Plan(path, spans=planned, code=code)


def _syntax_reason(event: EditRejected, fence: Fence, names: list[str]) -> str:
    """Say so when the block's language is not the file's (a mislabelled block)."""
    said = _read_info(fence.info, names)[0]
    lang = language_for_path(event.path)
    if said is None or lang is None or same_family(said, lang):
        return event.reason
    return (
        f"The answer's {display_name(said)} code would break the {display_name(lang)} syntax "
        f"of {event.path} at line {event.line}, column {event.column}, so it was not applied: "
        f"the code block is probably meant for another file. Ask the model which file it is "
        "for, or copy the code yourself."
    )


def apply_fence(
    ws: Workspace,
    fence: Fence,
    active: str | None,
    hunk: int,
    kind: PlaygroundKind | None = None,
) -> EditEvent | None:
    plan = plan_fence(ws, fence, active, kind)
    if plan is None:
        return None
    if plan.refusal is not None:
        return ws.reject(plan.path, hunk, plan.refusal, plan.lines, plan.apply_spans, plan.code)
    if plan.new_text is not None:
        event = ws.add(plan.path, hunk, plan.new_text)
    else:
        event = ws.update(plan.path, hunk, plan.spans or [])
    if isinstance(event, EditRejected):
        names = sorted(ws.files)
        return replace(event, reason=_syntax_reason(event, fence, names), code=plan.code)
    return event


def unclosed_fence(
    ws: Workspace,
    fence: Fence,
    active: str | None,
    hunk: int,
    kind: PlaygroundKind | None = None,
) -> EditEvent | None:
    """The answer ended inside ``fence``: refuse it, with the ops it would have applied."""
    plan = plan_fence(ws, fence, active, kind)
    if plan is None:
        return None
    if not fence.info.strip() and not _looks_like(language_for_path(plan.path), plan.code):
        return None  # prose after a stray fence line, not code
    where = f" for {plan.path}" if plan.path else ""
    reason = (
        f"The code block{where} was not closed (the answer ended first), so it may be cut "
        "short and was not applied."
    )
    if plan.refusal is not None:
        reason = f"{reason} {plan.refusal}"
    elif plan.apply_spans:
        reason = f"{reason} If the code looks complete, use Apply anyway."
    return ws.reject(plan.path, hunk, reason, [], plan.apply_spans, plan.code)
