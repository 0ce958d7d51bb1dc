"""Which tree-sitter grammar a file or fence uses; grammars and parsers are cached."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import PurePosixPath
from typing import Literal

import tree_sitter
import tree_sitter_css
import tree_sitter_html
import tree_sitter_javascript
import tree_sitter_json
import tree_sitter_python
import tree_sitter_typescript

_BY_EXTENSION = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".html": "html",
    ".htm": "html",
    ".css": "css",
    ".json": "json",
}

# Names models put after the opening fence.
_BY_FENCE_NAME = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "javascript": "javascript",
    "js": "javascript",
    "jsx": "javascript",
    "mjs": "javascript",
    "node": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "tsx": "tsx",
    "html": "html",
    "htm": "html",
    "css": "css",
    "json": "json",
}


def language_for_path(path: str) -> str | None:
    """Grammar name for a file path, ``None`` for extensions we do not check."""
    return _BY_EXTENSION.get(PurePosixPath(path).suffix.lower())


def language_for_fence(name: str) -> str | None:
    return _BY_FENCE_NAME.get(name.strip().lower())


def same_family(a: str | None, b: str | None) -> bool:
    """TSX and TypeScript files accept each other's fences."""
    fold = {"tsx": "typescript"}
    return a is not None and fold.get(a, a) == fold.get(b or "", b)


@cache
def grammar(name: str) -> tree_sitter.Language:
    loaders = {
        "python": tree_sitter_python.language,
        "javascript": tree_sitter_javascript.language,
        "typescript": tree_sitter_typescript.language_typescript,
        "tsx": tree_sitter_typescript.language_tsx,
        "html": tree_sitter_html.language,
        "css": tree_sitter_css.language,
        "json": tree_sitter_json.language,
    }
    return tree_sitter.Language(loaders[name]())


@cache
def parser(name: str) -> tree_sitter.Parser:
    # One parser per grammar: parsers are reusable across files and edits.
    return tree_sitter.Parser(grammar(name))


_NAMES = {
    "python": "Python",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "tsx": "TypeScript",
    "html": "HTML",
    "css": "CSS",
    "json": "JSON",
}


def display_name(lang: str) -> str:
    """The language's name for a learner: ``"Python"``, ``"HTML"``…"""
    return _NAMES.get(lang, lang)


# -- what kind of playground the files make ----------------------------------------

PlaygroundKind = Literal["web", "python"]
KIND_NAMES: dict[PlaygroundKind, str] = {"web": "web page", "python": "Python"}
_WEB_SUFFIXES = frozenset({".html", ".htm", ".css", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx"})
_WEB_LANGUAGES = frozenset({"html", "css", "javascript", "typescript", "tsx"})


def playground_kind(files: Iterable[str]) -> PlaygroundKind | None:
    """``"web"`` if any file is HTML, ``"python"`` if there are Python files and no
    web files, else ``None`` (unknown: anything goes)."""
    suffixes = {PurePosixPath(path).suffix.lower() for path in files}
    if suffixes & {".html", ".htm"}:
        return "web"
    if ".py" in suffixes and not suffixes & _WEB_SUFFIXES:
        return "python"
    return None


def fits(kind: PlaygroundKind | None, lang: str | None) -> bool:
    """Whether code of ``lang`` is of any use in a playground of ``kind``."""
    if kind == "python":
        return lang not in _WEB_LANGUAGES
    if kind == "web":
        return lang != "python"
    return True


def fits_path(kind: PlaygroundKind | None, path: str) -> bool:
    """Whether a new file at ``path`` is of any use in a playground of ``kind``."""
    suffix = PurePosixPath(path).suffix.lower()
    if kind == "python":
        return suffix not in _WEB_SUFFIXES
    if kind == "web":
        return suffix not in (".py", ".pyw")
    return True
