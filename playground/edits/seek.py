"""Find a run of lines in a file, with Codex's ``seek_sequence`` tolerance ladder.

Levels, tried in order, each only if the previous found nothing:
exact, ignoring trailing whitespace, ignoring leading and trailing whitespace,
and finally also folding Unicode punctuation look-alikes to ASCII.
Unlike Codex we also report whether the best level matched more than once,
so callers can refuse to guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Typographic characters models emit in place of ASCII ones (same table as Codex).
_LOOKALIKES = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f", '"'),
        **dict.fromkeys(
            "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "
        ),
    }
)


def _exact(line: str) -> str:
    return line


def _rstrip(line: str) -> str:
    return line.rstrip()


def _strip(line: str) -> str:
    return line.strip()


def _fold(line: str) -> str:
    return line.strip().translate(_LOOKALIKES)


LEVELS: tuple[Callable[[str], str], ...] = (_exact, _rstrip, _strip, _fold)


@dataclass(frozen=True)
class Match:
    index: int | None  # first line of the first match, None if not found
    ambiguous: bool  # more than one match at the level that matched


def _find_all(lines: list[str], pattern: list[str], start: int, limit: int) -> list[int]:
    """Up to ``limit`` start indices where ``pattern`` occurs at or after ``start``."""
    found: list[int] = []
    last = len(lines) - len(pattern)
    head = pattern[0]
    i = start
    while i <= last and len(found) < limit:
        try:
            # list.index scans at C speed; verifying the rest is rarely needed.
            i = lines.index(head, i, last + 1)
        except ValueError:
            break
        if lines[i : i + len(pattern)] == pattern:
            found.append(i)
        i += 1
    return found


def seek(lines: Sequence[str], pattern: Sequence[str], start: int = 0, eof: bool = False) -> Match:
    """Locate ``pattern`` in ``lines`` at or after ``start``.

    ``eof`` says the pattern should end at the end of the file: that position is
    tried first and, being a single position, is never ambiguous.
    """
    if not pattern:
        return Match(start, False)
    if len(pattern) > len(lines):
        return Match(None, False)
    base = lines if isinstance(lines, list) else list(lines)
    for norm in LEVELS:
        # Normalised views are built only when the stricter levels failed.
        view = base if norm is _exact else [norm(line) for line in base]
        want = [norm(line) for line in pattern]
        if eof and _find_all(view, want, len(view) - len(want), 1):
            return Match(len(view) - len(want), False)
        hits = _find_all(view, want, start, 2)
        if hits:
            return Match(hits[0], len(hits) > 1)
    return Match(None, False)
