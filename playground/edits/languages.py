"""Which tree-sitter grammar a file or fence uses; grammars and parsers are cached."""

from __future__ import annotations

from functools import cache
from pathlib import PurePosixPath

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
