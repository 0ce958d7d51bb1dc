"""Whole-symbol edits: put each part of a code block where it belongs.

A definition that exists in the file (same kind and name, or failing that the
only definition with that name) replaces it; a new one goes after the file's
last definition (so before an ``if __name__ == "__main__":`` tail). New imports
go after the file's last import. The block's other top-level statements are
placed by ``fragments.py``, never dropped.

CSS: a rule replaces the rule with the same selector; a new selector is added
after the last rule. A bare declaration (no selector) cannot be placed.

HTML: an element whose ``id`` exists replaces that element, one with a unique
tag (``<main>``, ``<title>``…) the only such element; otherwise the one element
with the same tag (narrowed by ``class``, and for ``<script>``/``<link>``/
``<style>`` by ``src``/``href``). An element with a new ``id``, or a tag the page
does not have, is added at the end of the body (before the body's closing
scripts). An element that could be one of several is refused, with the ops that
would add it as new.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.edits.fragments import block_statements, plan_statements
from playground.edits.lines import detect_eol, to_eol
from playground.edits.model import Span
from playground.edits.symbols import Item, Tag, html_tags, top_level_items


@dataclass(frozen=True)
class Refusal:
    """Why a block cannot be placed, and what "Apply anyway" would do (if anything)."""

    reason: str
    spans: list[Span] | None = None


def _find(item: Item, items: list[Item]) -> Item | None:
    exact = [i for i in items if i.key == item.key]
    if exact:
        return exact[0]
    same_name = [i for i in items if i.is_symbol and i.name == item.name]
    return same_name[0] if len(same_name) == 1 else None


def plan_symbols(lang: str, old: str, block: str, path: str) -> list[Span] | Refusal:
    """Spans placing the block's parts in ``old`` (``path``), or why it cannot."""
    planned = _plan_html(old, block, path) if lang == "html" else _plan_code(lang, old, block, path)
    eol = detect_eol(old)
    if isinstance(planned, Refusal):
        if planned.spans is None:
            return planned
        return Refusal(
            planned.reason, [Span(s.start, s.end, to_eol(s.insert, eol)) for s in planned.spans]
        )
    return [Span(s.start, s.end, to_eol(s.insert, eol)) for s in planned]


def _nothing_to_place(path: str) -> Refusal:
    return Refusal(
        f"The code block for {path} has no code in it (only comments or blank lines), "
        "so nothing was changed."
    )


def _plan_code(lang: str, old: str, block: str, path: str) -> list[Span] | Refusal:
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
    if new_defs:
        spans.append(_append_definitions(lang, old, file_items, new_defs))
    statements = block_statements(block_items)
    if lang == "css":
        # Text that does not parse is added as it is: the syntax check then says why.
        broken = [block[i.start : i.end] for i in statements if i.node == "ERROR"]
        if broken:
            spans.append(_append_definitions(lang, old, file_items, broken))
        statements = [i for i in statements if i.node != "ERROR"]
    if lang == "css" and statements:
        return Refusal(
            f"Some of the CSS for {path} has no selector (like `h1 {{ ... }}`), so Flint "
            "cannot tell which rule it belongs to; nothing was changed. Ask the model for "
            "the whole rule, or copy the lines into the right rule yourself."
        )
    spans += plan_statements(lang, old, file_items, block, statements)
    if new_imports:
        spans.append(_add_imports(old, file_items, new_imports))
    if not block_items:
        return _nothing_to_place(path)
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


# Attributes that tell two elements with the same tag apart.
_IDENTIFYING = {"script": ("src",), "link": ("href", "rel"), "style": ("media",)}


def _same_tag(element: Tag, page: list[Tag]) -> list[Tag]:
    """The page's elements this (id-less) element of the block could be."""
    found = [t for t in page if t.tag == element.tag]
    for attr in _IDENTIFYING.get(element.tag, ()):
        found = [t for t in found if t.attrs.get(attr, "") == element.attrs.get(attr, "")]
    if len(found) > 1 and "class" in element.attrs:
        found = [t for t in found if t.attrs.get("class") == element.attrs["class"]]
    return found


def _plan_html(old: str, block: str, path: str) -> list[Span] | Refusal:
    page = html_tags(old)
    spans: list[Span] = []
    new_parts: list[str] = []
    unsure: list[str] = []
    for element in html_tags(block, top_level=True):
        item = element.item
        text = block[item.start : item.end]
        own_indent = _indent_at(block, item.start)
        if item.name.startswith("#") or element.tag in ("html", "head", "body", "main"):
            keyed = [t for t in page if t.item.key == item.key]
        else:
            keyed = _same_tag(element, page)
        if len(keyed) > 1:
            unsure.append(f"<{element.tag}>")
        if len(keyed) != 1:
            new_parts.append(_reindent(text, own_indent, ""))
            continue
        target = keyed[0].item
        moved = _reindent(text, own_indent, _indent_at(old, target.start))
        spans.append(Span(target.start, target.end, moved))
    if not spans and not new_parts:
        return Refusal(
            f"The HTML for {path} has no element (like `<p>...</p>`) that Flint could put "
            "in the page, so nothing was changed. Ask the model for the whole element or "
            "the whole page, or copy the code yourself."
        )
    if new_parts:
        spans.append(_before_body_end(old, new_parts))
    if unsure:
        what = " and ".join(dict.fromkeys(unsure))
        return Refusal(
            f"There is more than one {what} element in {path} and the answer does not say "
            "which one it changes, so nothing was changed. Ask the model to give the element an "
            "id or to send the whole page; Apply anyway adds the answer's element at the "
            "end of the page instead.",
            spans,
        )
    return spans


def _body_end(old: str) -> tuple[int, str] | None:
    """Where new elements go and their indentation: before ``</body>``, but above
    the scripts that close the body (they usually look the new elements up)."""
    close = old.lower().rfind("</body>")
    if close < 0:
        return None
    at, indent = close, "  " + _indent_at(old, close)
    tags = html_tags(old)
    body = next((t for t in tags if t.tag == "body"), None)
    if body is None:
        return at, indent
    children: list[Tag] = []
    covered = -1
    for tag in tags:  # document order: a child starts after the previous child ends
        if body.item.start < tag.item.start < body.item.end and tag.item.start >= covered:
            children.append(tag)
            covered = tag.item.end
    while children and children[-1].tag == "script" and not old[children[-1].item.end : at].strip():
        at = children.pop().item.start
        indent = _indent_at(old, at)
    return at, indent


def _before_body_end(old: str, parts: list[str]) -> Span:
    found = _body_end(old)
    if found is None:
        tail = "" if old.endswith("\n") or not old else "\n"
        return Span(len(old), len(old), tail + "\n".join(parts) + "\n")
    at, indent = found
    line_start = old.rfind("\n", 0, at) + 1
    body = "".join(indent + _reindent(p, "", indent) + "\n" for p in parts)
    if old[line_start:at].strip():  # the closing tag shares its line with content
        return Span(at, at, "\n" + body)
    return Span(line_start, line_start, body)
