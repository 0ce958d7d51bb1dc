"""Recognising and resolving file paths that models write around their edits."""

from __future__ import annotations

import re
from collections.abc import Collection

from playground.pathrules import path_problem

_DECORATION = re.compile(r"^[#>*_`\s]+|[*_`:\s]+$")
_LABEL = re.compile(r"^(?:file(?:name)?|path)\s*:\s*", re.IGNORECASE)
_PATHISH = re.compile(r"[\w@.+\-]+(?:/[\w@.+\-]+)*")


def bad_path(path: str) -> str | None:
    """Why ``path`` may not be edited, or None if it is fine.

    The same rules as every save (playground/pathrules.py): an edit the engine
    accepts is one the page can store.
    """
    if not path:
        return "The change does not name a file, so it was not applied."
    return path_problem(path)


def path_in_line(line: str, files: Collection[str]) -> str | None:
    """The path a line names on its own (``app.py``, ``**src/x.js**``, ``# File: a.css``).

    A bare word counts only if it has an extension or is an existing file name,
    so prose lines are not mistaken for paths.
    """
    text = _LABEL.sub("", _DECORATION.sub("", line.strip()))
    text = _DECORATION.sub("", text).removeprefix("./")
    if not text or not _PATHISH.fullmatch(text):
        return None
    has_extension = re.search(r"\.[A-Za-z0-9]+$", text) is not None
    if text in files or (has_extension and not text.startswith(".")) or "/" in text:
        return text
    return None


def resolve(path: str, files: Collection[str]) -> str:
    """``path`` itself if it exists, else the one existing file it is a suffix of.

    A path that differs from an existing one only in case is that file: the
    save rules refuse two such paths side by side.
    """
    path = path.removeprefix("./")
    if path in files:
        return path
    same = [name for name in files if name.casefold() == path.casefold()]
    if len(same) == 1:
        return same[0]
    matches = [name for name in files if name.endswith("/" + path)]
    return matches[0] if len(matches) == 1 else path
