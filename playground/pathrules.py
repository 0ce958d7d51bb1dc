"""The one set of rules for a file's path and a file's text, wherever they come from.

The edit engine (a path the model writes, playground/edits/paths.py) and the
save rules (a path the page, an import or the API sends, persistence/files.py)
both ask ``path_problem``, so the model can never propose a file that cannot be
saved. A path must be a clean relative POSIX path that every operating system
can write back out of an exported zip:

* not empty, at most MAX_PATH characters, ``/`` between folders (no ``\\``);
* no control character, no bidirectional override or isolate (which make
  ``evil‮txt.js`` display as something else);
* not absolute, no drive letter, no empty, ``.`` or ``..`` segment;
* no segment ending in a dot or a space (Windows drops them: ``a.`` is ``a``);
* no Windows device name as a segment (``con``, ``nul.txt``, ``COM1``…).

Across a file set, two paths may not differ only in case (``App.js`` and
``app.js`` are one file on macOS and Windows), nor may a file share its path
with a folder. ``text_problem`` is the rule for a file's text. Pure: no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from playground.limits import MAX_PATH

# U+200E/F marks, U+061C Arabic letter mark, U+202A-E embeddings and overrides,
# U+2066-9 isolates: each can reorder how a name is displayed.
_BIDI = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DEVICES = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"{name}{n}" for name in ("com", "lpt") for n in [*"123456789", "¹", "²", "³"]]
)
# Text may hold tab, newline, carriage return and form feed; any other C0
# control character marks a binary file (and JSON would spell it in 6 bytes).
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot name a file in a project, or None if it can."""
    if not isinstance(path, str) or not path:
        return "A file path is empty; give every file a name."
    if len(path) > MAX_PATH:
        return f"Path {path[:40]!r}… is over {MAX_PATH} characters; shorten it."
    if "\\" in path:
        return f"Path {path!r} contains a backslash; use / between folders."
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in path):
        return f"Path {path!r} contains a control character (or NUL); remove it."
    if any(ch in _BIDI for ch in path):
        return (
            f"Path {path!r} contains a text-direction control character, which can make "
            "a name look like another; remove it."
        )
    if path.startswith("/"):
        return f"Path {path!r} is absolute; make it relative to the project."
    if len(path) >= 2 and path[1] == ":" and path[0].isalpha():
        return f"Path {path!r} starts with a drive letter; make it relative."
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return (
                f"Path {path!r} has an empty, '.' or '..' segment; files must stay "
                "inside the project."
            )
        if part[-1] in ". ":
            return f"Path {path!r} has a name ending in a dot or a space; remove it."
        if part.split(".", 1)[0].rstrip(" ").lower() in _DEVICES:
            return f"Path {path!r} uses {part!r}, a reserved device name on Windows; rename it."
    return None


def collision_problem(paths: Iterable[str]) -> str | None:
    """Why these paths cannot live side by side in one project, or None."""
    seen: dict[str, str] = {}
    for path in paths:
        key = path.casefold()
        if key in seen and seen[key] != path:
            return (
                f"Paths {seen[key]!r} and {path!r} differ only in case, which is one file "
                "on macOS and Windows; rename one."
            )
        seen[key] = path
    for key, path in seen.items():
        parts = key.split("/")
        for n in range(1, len(parts)):
            folder = "/".join(parts[:n])
            if folder in seen:
                return f"{seen[folder]!r} is a file and also a folder of {path!r}; rename one."
    return None


def text_problem(path: str, text: str) -> str | None:
    """Why ``text`` cannot be the content of a file, or None if it can."""
    if "\x00" in text:
        # PostgreSQL cannot store NUL in text or jsonb; it also marks a binary file.
        return f"{path!r} contains a NUL character; only text files can be saved."
    if (found := _TEXT_CONTROLS.search(text)) is not None:
        line = text.count("\n", 0, found.start()) + 1
        return (
            f"{path!r} contains the control character U+{ord(found.group()):04X} on line "
            f"{line}; only text files can be saved (tabs, newlines and form feeds are fine)."
        )
    return None
