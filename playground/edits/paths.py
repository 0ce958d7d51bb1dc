"""Recognising and resolving file paths that models write around their edits."""

from __future__ import annotations

import re
from collections.abc import Collection

_DECORATION = re.compile(r"^[#>*_`\s]+|[*_`:\s]+$")
_LABEL = re.compile(r"^(?:file(?:name)?|path)\s*:\s*", re.IGNORECASE)
_PATHISH = re.compile(r"[\w@.+\-]+(?:/[\w@.+\-]+)*")


def bad_path(path: str) -> str | None:
    """Why ``path`` may not be edited, or None if it is fine."""
    if not path:
        return "The change does not name a file, so it was not applied."
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return (
            f"The change is for {path}, an absolute path; Flint only edits files inside "
            "the project, so it was not applied."
        )
    if ".." in path.split("/"):
        return f"The change is for {path}, which is outside the project, so it was not applied."
    return None


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
    """``path`` itself if it exists, else the one existing file it is a suffix of."""
    path = path.removeprefix("./")
    if path in files:
        return path
    matches = [name for name in files if name.endswith("/" + path)]
    return matches[0] if len(matches) == 1 else path
