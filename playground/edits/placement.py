"""Whole-symbol edits: put each definition of a code block where it belongs.

A definition that exists in the file (same kind and name, or failing that the
only definition with that name) replaces it; a new one goes after the file's
last definition (so before an ``if __name__ == "__main__":`` tail), or before
``</body>`` in HTML. New imports go after the file's last import.
"""

from __future__ import annotations

from playground.edits.lines import detect_eol, to_eol
from playground.edits.model import Span
from playground.edits.symbols import Item, html_elements, top_level_items

_NO_DEFINITIONS = (
    "The code block has no top-level definitions to place, and it does not look like "
    "the whole file."
)


def _find(item: Item, items: list[Item]) -> Item | None:
    exact = [i for i in items if i.key == item.key]
    if exact:
        return exact[0]
    same_name = [i for i in items if i.is_symbol and i.name == item.name]
    return same_name[0] if len(same_name) == 1 else None


def plan_symbols(lang: str, old: str, block: str) -> list[Span] | str:
    """Spans placing the block's definitions in ``old``, or a reason it cannot."""
    spans = _plan_html(old, block) if lang == "html" else _plan_code(lang, old, block)
    if isinstance(spans, str):
        return spans
    eol = detect_eol(old)
    return [Span(s.start, s.end, to_eol(s.insert, eol)) for s in spans]


def _plan_code(lang: str, old: str, block: str) -> list[Span] | str:
    file_items = top_level_items(lang, old) or []
    block_items = top_level_items(lang, block) or []
    spans: list[Span] = []
    new_defs: list[str] = []
    new_imports: list[str] = []
    known = {i.key for i in file_items}
    for item in block_items:
        text = block[item.start : item.end]
        if item.is_symbol:
            target = _find(item, file_items)
            if target is None:
                new_defs.append(text)
            else:
                spans.append(Span(target.start, target.end, text))
        elif item.kind == "import" and item.key not in known:
            new_imports.append(text)
    if not spans and not new_defs and not new_imports:
        return _NO_DEFINITIONS
    if new_defs:
        spans.append(_append_definitions(lang, old, file_items, new_defs))
    if new_imports:
        spans.append(_add_imports(old, file_items, new_imports))
    return spans


def _append_definitions(lang: str, old: str, items: list[Item], texts: list[str]) -> Span:
    gap = "\n\n\n" if lang == "python" else "\n\n"  # PEP 8: two blank lines
    joined = gap.join(texts)
    definitions = [i for i in items if i.is_symbol]
    if definitions:
        end = max(i.end for i in definitions)
        return Span(end, end, gap + joined)
    if not old.strip():
        return Span(0, len(old), joined + "\n")
    prefix = ("" if old.endswith("\n") else "\n") + gap[1:]
    return Span(len(old), len(old), prefix + joined + "\n")


def _add_imports(old: str, items: list[Item], texts: list[str]) -> Span:
    joined = "\n".join(texts)
    imports = [i for i in items if i.kind == "import"]
    if imports:
        end = imports[-1].end
        return Span(end, end, "\n" + joined)
    first = items[0] if items else None
    if first is not None and first.kind == "statement" and first.name[:1] in "\"'":
        # Keep a module docstring first.
        return Span(first.end, first.end, "\n" + joined)
    return Span(0, 0, joined + "\n\n")


def _indent_at(text: str, index: int) -> str:
    line_start = text.rfind("\n", 0, index) + 1
    prefix = text[line_start:index]
    return prefix if not prefix.strip() else ""


def _reindent(text: str, source_indent: str, target_indent: str) -> str:
    """Move continuation lines from the block's indentation to the target's."""
    lines = text.split("\n")
    moved = [
        target_indent + line.removeprefix(source_indent) if line.strip() else line
        for line in lines[1:]
    ]
    return "\n".join([lines[0], *moved])


def _plan_html(old: str, block: str) -> list[Span] | str:
    targets = html_elements(old)
    spans: list[Span] = []
    new_parts: list[str] = []
    for item in top_level_items("html", block) or []:
        text = block[item.start : item.end]
        target = _find(item, targets) if item.kind == "element" else None
        if target is None:
            new_parts.append(_reindent(text, _indent_at(block, item.start), ""))
            continue
        moved = _reindent(text, _indent_at(block, item.start), _indent_at(old, target.start))
        spans.append(Span(target.start, target.end, moved))
    if not spans and not new_parts:
        return _NO_DEFINITIONS
    if new_parts:
        spans.append(_before_body_end(old, new_parts))
    return spans


def _before_body_end(old: str, parts: list[str]) -> Span:
    at = old.lower().rfind("</body>")
    if at < 0:
        tail = "" if old.endswith("\n") or not old else "\n"
        return Span(len(old), len(old), tail + "\n".join(parts) + "\n")
    indent = "  " + _indent_at(old, at)
    line_start = old.rfind("\n", 0, at) + 1
    body = "".join(indent + _reindent(p, "", indent) + "\n" for p in parts)
    if old[line_start:at].strip():  # </body> shares its line with content
        return Span(at, at, "\n" + body)
    return Span(line_start, line_start, body)
