"""A file seen as lines, for line-based matching, with its line-ending style.

Matching ignores the ``\\r`` of CRLF files; replacements are written back with the
file's own line ending so a CRLF file stays CRLF.
"""

from __future__ import annotations

from collections.abc import Sequence

from playground.edits.model import Span
from playground.edits.seek import Match, seek


def detect_eol(text: str) -> str:
    """The file's dominant line ending (LF unless CRLF is the majority)."""
    crlf = text.count("\r\n")
    if crlf and crlf * 2 >= text.count("\n"):
        return "\r\n"
    return "\n"


def to_eol(text: str, eol: str) -> str:
    """Rewrite every line ending of ``text`` (LF or CRLF) as ``eol``."""
    normalized = text.replace("\r\n", "\n")
    return normalized if eol == "\n" else normalized.replace("\n", eol)


def trim_blank_edges(lines: Sequence[str]) -> list[str]:
    """``lines`` without blank lines at the start and the end."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return list(lines[start:end])


class LineTable:
    """``text`` seen as lines, built lazily: a hunk in a 500 KB file should not pay
    for splitting the whole file. Exact matches are found with ``str.find`` on the
    text itself; the split list is made only when a tolerant search needs it.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.eol = detect_eol(text)
        self.final_newline = text.endswith("\n")
        self.count = text.count("\n") + (0 if self.final_newline or not text else 1)
        self._known: dict[int, int] = {0: 0}  # line number -> start offset
        self._raw: list[str] | None = None
        self._lines: list[str] | None = None

    @classmethod
    def of(cls, text: str) -> LineTable:
        return cls(text)

    @property
    def raw(self) -> list[str]:
        """Lines as split on "\\n" ("\\r" kept): their lengths give offsets."""
        if self._raw is None:
            self._raw = self.text.split("\n")
            if self.final_newline or not self.text:
                self._raw.pop()  # the empty string after the last terminator is no line
        return self._raw

    @property
    def lines(self) -> list[str]:
        """Line texts without terminators (CRLF's "\\r" removed)."""
        if self._lines is None:
            raw = self.raw
            self._lines = [line.removesuffix("\r") for line in raw] if "\r" in self.text else raw
        return self._lines

    @property
    def last_line_blank(self) -> bool:
        text = self.text
        return text in ("\n", "\r\n") or text.endswith(("\n\n", "\n\r\n"))

    def offset(self, line_no: int) -> int:
        """Character offset where line ``line_no`` starts (``len(text)`` past the end)."""
        if line_no >= self.count:
            return len(self.text)
        known = self._known.get(line_no)
        if known is not None:
            return known
        base = max(k for k in self._known if k <= line_no)
        if self._raw is not None or line_no - base > 64:
            # Each raw line is followed by exactly one "\n"; summing runs at C speed.
            return sum(map(len, self.raw[:line_no])) + line_no
        pos = self._known[base]
        for _ in range(line_no - base):  # a few lines past a known one: just walk
            pos = self.text.index("\n", pos) + 1
        self._known[line_no] = pos
        return pos

    def line_range(self, first: int, count: int) -> list[str]:
        """Lines ``[first, first+count)`` without terminators."""
        if self._lines is not None:
            return self._lines[first : first + count]
        chunk = self.text[self.offset(first) : self.offset(first + count)]
        parts = chunk.split("\n")[:count]
        return [part.removesuffix("\r") for part in parts]

    def find(self, pattern: Sequence[str], start: int = 0, eof: bool = False) -> Match:
        """:func:`seek` on these lines, with a fast path for exact matches."""
        if len(pattern) > self.count:
            return Match(None, False)
        if pattern and "\r" not in self.text and not any("\n" in p for p in pattern):
            found = self._find_exact(list(pattern), start, eof)
            if found.index is not None:
                return found
        return seek(self.lines, pattern, start, eof)

    def _find_exact(self, pattern: list[str], start: int, eof: bool) -> Match:
        needle = "\n".join(pattern) + "\n"
        hay = self.text if self.final_newline else self.text + "\n"
        size = len(pattern)
        if eof and size <= self.count and hay.endswith(needle):
            pos = len(hay) - len(needle)
            if pos == 0 or hay[pos - 1] == "\n":
                return self._hit(self.count - size, pos, len(needle), size, False)
        begin = self.offset(start)
        hits: list[int] = []
        pos = hay.find(needle, begin)
        while pos >= 0 and len(hits) < 2:
            if pos == 0 or hay[pos - 1] == "\n":  # only whole lines count
                hits.append(pos)
            pos = hay.find(needle, pos + 1)
        if not hits:
            return Match(None, False)
        line = start + self.text.count("\n", begin, hits[0])
        return self._hit(line, hits[0], len(needle), size, len(hits) > 1)

    def _hit(self, line: int, pos: int, length: int, size: int, ambiguous: bool) -> Match:
        # Remember where the match starts and ends: replace() will ask for both.
        self._known[line] = pos
        self._known[line + size] = pos + length
        return Match(line, ambiguous)

    def replace(self, first: int, count: int, new_lines: Sequence[str]) -> Span:
        """Span replacing lines ``[first, first+count)`` with ``new_lines``.

        Keeps the file's line ending, and keeps "no newline at end of file" when
        the replaced range reaches the end.
        """
        start = self.offset(first)
        end = self.offset(first + count)
        body = "".join(line + self.eol for line in new_lines)
        at_end = first + count >= self.count
        if at_end and not self.final_newline and self.count:
            if count == 0 and new_lines:
                # Appending after an unterminated last line: terminate it instead.
                body = self.eol + body[: -len(self.eol)]
            elif new_lines:
                body = body[: -len(self.eol)]
            elif first > 0:
                # Deleting the last lines: also drop the terminator before them.
                start -= 2 if self.text.startswith("\r\n", start - 2) else 1
        return Span(start, end, body)
