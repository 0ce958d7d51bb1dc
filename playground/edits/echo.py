"""Text a model copied from its prompt, which must never land in a file.

Small models echo the prompt's layout. Today ``playground/prompting.py`` shows
the files as::

    # Project files

    ## index.html
    ```html index.html
    <text>
    ```

and a selection as ``(The user selected this part of <path>:)``; models also
echo an ``Instruction:``/``### Response:`` label they were trained on. Inside a
code block those lines are not code: they are recognised by their *shape*
(a markdown heading that is "Project files" or a file path, a chat label, the
prompt's own notes), not by the exact wording of today's prompt, and dropped
from the start and the end of a block. A line the file itself already has (a
real ``# main.py`` comment) is kept.

Stray fence lines (a ```` ```lang ```` line inside a block, a fence closed by
prose) are the stream's business (``stream.py``); this module only judges lines.

``is_echo_line`` is public so the prompt can check that a new layout is still
recognised (or, better, cannot be echoed at all).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from playground.edits.paths import path_in_line

# The prompt's "# Project files" heading (any level, any case, optional colon).
_PROJECT_HEADING = re.compile(r"#{1,6}\s*(?:the\s+)?(?:project\s+)?files\s*:?", re.IGNORECASE)
# Any markdown heading: "## index.html", "### Updated code".
_HEADING = re.compile(r"(#{1,6})\s+(\S.*?)\s*:?")
# Chat-template labels: "Instruction: make it red", "### Response:", "User:".
# What follows the label must read as words, so ``user: str = name`` stays code.
_LABEL = re.compile(
    r"(?:#{1,6}\s*)?(?:instructions?|task|request|user|assistant|response)\s*:(?:\s[^=(){};]*)?",
    re.IGNORECASE,
)
# The prompt's own notes around a selection or an interruption.
_NOTE = re.compile(r"\(The user (?:selected this part of .+|interrupted your answer.*)", re.I)


def is_echo_line(line: str, paths: Collection[str] = (), lang: str | None = None) -> bool:
    """True if ``line`` is the prompt's layout (or a chat label), not code.

    In Python a ``#`` line is a comment, so only the layout's own headings count
    (``# Project files``, ``## <path>``); in other languages any markdown heading
    does, since ``# words`` is never code there (it would show on a web page).
    """
    text = line.strip()
    if not text:
        return False
    if _PROJECT_HEADING.fullmatch(text) or _LABEL.fullmatch(text) or _NOTE.match(text):
        return True
    heading = _HEADING.fullmatch(text)
    if heading is None:
        return False
    return lang != "python" or path_in_line(heading.group(2), paths) is not None


@dataclass(frozen=True)
class Cleaned:
    lines: list[str]
    head_path: str | None  # a path named by a dropped "## <path>" heading before the code
    tail_path: str | None  # ... after it (the layout of the *next* file)


def strip_echo(
    lines: Sequence[str],
    paths: Collection[str] = (),
    lang: str | None = None,
    old: str | None = None,
) -> Cleaned:
    """``lines`` without echoed prompt lines at their start and end.

    Blank lines between dropped lines go too. A line that ``old`` (the file's
    current text) has as one of its own lines is kept.
    """
    keep = set(old.splitlines()) if old else set()
    named: list[str | None] = [None, None]  # head, tail

    def echo(line: str, edge: int) -> bool:
        if not line.strip():
            return True
        if line.rstrip("\r") in keep or not is_echo_line(line, paths, lang):
            return False
        heading = _HEADING.fullmatch(line.strip())
        found = path_in_line(heading.group(2), paths) if heading else None
        if edge == 0:
            named[0] = found or named[0]  # the heading nearest the code names it
        else:
            named[1] = named[1] or found  # the last heading names the next file
        return True

    start, end = 0, len(lines)
    while start < end and echo(lines[start], 0):
        start += 1
    while end > start and echo(lines[end - 1], 1):
        end -= 1
    # Blank lines are only dropped together with echo lines: restore the block's
    # own blank edges when nothing was dropped there.
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), -1)
    if start == first:
        start = 0
    if end == last + 1:
        end = len(lines)
    return Cleaned(list(lines[start:end]), named[0], named[1])
