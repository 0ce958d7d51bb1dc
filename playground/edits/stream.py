"""``EditStream``: apply a model's answer while it streams in.

Deltas are cut into complete lines (a partial last line waits for the next
delta), so feeding costs O(delta) and any chunking gives the same events as
feeding the whole answer at once. Each line moves a small state machine that
recognises the three formats; an edit is applied the moment its terminator
line arrives:

* apply_patch: a file operation completes at the next ``*** `` header or at
  ``*** End Patch`` (a Delete at its own header line);
* SEARCH/REPLACE: at ``>>>>>>> REPLACE``;
* fenced code blocks: at the closing fence.

At ``finish()`` an unterminated SEARCH/REPLACE block or code block is rejected,
not applied; an open apply_patch envelope is closed as if ``*** End Patch`` had
arrived, so its last complete operation is applied (its chunks were already
whole lines, and the syntax check still guards it).

With ``fmt="auto"``, once an apply_patch envelope or SEARCH/REPLACE block has
been seen, later plain code fences are taken as illustrations, not edits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum, auto
from typing import Literal

from playground.edits.code_blocks import Fence, apply_fence, unclosed_fence
from playground.edits.echo import strip_echo
from playground.edits.languages import PlaygroundKind, playground_kind
from playground.edits.model import EditEvent
from playground.edits.patch_apply import apply_item
from playground.edits.patch_parse import BEGIN, Item, PatchParser, is_header
from playground.edits.paths import path_in_line
from playground.edits.search_replace import Block, apply_block, is_search
from playground.edits.workspace import Workspace

Format = Literal["auto", "patch", "search_replace", "code_blocks"]
FORMATS: tuple[Format, ...] = ("auto", "patch", "search_replace", "code_blocks")
# First characters of a line that may open an edit: ``` / ~~~ fences,
# <<<<<<< SEARCH, *** Begin Patch.
_EDIT_OPENERS = frozenset("`~<*")
_FENCE = re.compile(r"\s*(`{3,}|~{3,})\s*([^`]*?)\s*")
# Prose that opens a fence at its end: "Here is the new code: ```python".
# Words after a fence marker that are a sentence, not an info string.
_PROSE = re.compile(r"[A-Za-z][^=\s]*(?:\s+[^=\s]+){2,}")
_FENCE_AFTER_PROSE = re.compile(r".*?[^`\s]\s*(`{3,})([A-Za-z][\w+#.\-]*(?:\s+[\w@./+\-]+)?)\s*")


class _State(Enum):
    TEXT = auto()  # prose between edits
    FENCE_FIRST = auto()  # just after an opening fence
    FENCE_CODE = auto()  # inside a code block
    FENCE_SKIP = auto()  # inside a fence we only wait to close
    FENCE_SR = auto()  # inside a fence, between SEARCH/REPLACE blocks
    PATCH = auto()  # inside an apply_patch envelope
    BLOCK = auto()  # inside a SEARCH/REPLACE block


class EditStream:
    """Incremental edit engine; see the module docstring for when edits apply."""

    def __init__(
        self,
        files: Mapping[str, str],
        active: str | None = None,
        fmt: Format = "auto",
        kind: PlaygroundKind | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
        # The playground's kind decides which new files are of any use; by default
        # it comes from the files (any .html: web; only .py: python).
        self.kind: PlaygroundKind | None = kind if kind is not None else playground_kind(files)
        self._ws = Workspace(files, self.kind)
        self._active = active
        self._fmt = fmt
        self._pending: list[str] = []  # pieces of the current, incomplete line
        self._pending_len = 0  # kept up to date: a long line must not cost O(n) per delta
        self._consumed = 0  # answer characters in complete lines so far
        self._safe = 0  # see safe_chars
        self._hunks = 0
        self._state = _State.TEXT
        self._fence = ""  # the enclosing fence's opening marker
        self._fence_info = ""
        self._fence_path: str | None = None
        self._code: list[str] = []
        self._patch = PatchParser()
        self._patch_fenced = False
        self._block = Block(None)
        self._block_return = _State.TEXT
        self._last_path: str | None = None  # path named by the latest prose line
        self._structured = False  # an envelope or S/R block has been seen
        self._after_nested = False  # a block opened inside another one just closed
        self._finished = False
        self.events: list[EditEvent] = []

    @property
    def files(self) -> dict[str, str]:
        """The current files (a copy)."""
        return dict(self._ws.files)

    @property
    def between_edits(self) -> bool:
        """No edit is half-received: an answer cut here discards nothing."""
        return self._state is _State.TEXT

    @property
    def pending_chars(self) -> int:
        """Length of the incomplete last line, not yet interpreted."""
        return self._pending_len

    @property
    def safe_chars(self) -> int:
        """How much of the answer (in str characters) ends at a point between edits.

        The latest such point, checked after every complete line, so a delta that
        finishes one edit and starts the next still leaves a safe point between
        them. A half-written line of prose counts too, unless it could be the start
        of an edit (a fence, a SEARCH marker, a patch header). Used to cut the
        answer when the user steers mid-answer; O(pending line), so ask rarely.
        """
        if self._state is _State.TEXT and self._safe == self._consumed and self._pending:
            head = "".join(self._pending).lstrip()
            if head and head[0] not in _EDIT_OPENERS:
                return self._consumed + self._pending_len
        return self._safe

    def feed(self, delta: str) -> list[EditEvent]:
        """Take more answer text; return events for the edits it completed."""
        if self._finished:
            raise RuntimeError("feed() after finish()")
        parts = delta.split("\n")
        if len(parts) == 1:
            self._pending.append(delta)
            self._pending_len += len(delta)
            return []
        first = "".join(self._pending) + parts[0]
        self._pending = [parts[-1]] if parts[-1] else []
        self._pending_len = len(parts[-1])
        return self._lines([first, *parts[1:-1]])

    def finish(self) -> list[EditEvent]:
        """End of the answer: handle the last line and any unterminated edit."""
        if self._finished:
            return []
        tail = "".join(self._pending)
        self._pending = []
        self._pending_len = 0
        events = self._lines([tail], newline=False) if tail else []
        self._finished = True
        return events + self._close()

    def _lines(self, lines: Iterable[str], newline: bool = True) -> list[EditEvent]:
        events: list[EditEvent] = []
        for line in lines:
            events += self._line(line.removesuffix("\r"))
            self._consumed += len(line) + newline
            if self._state is _State.TEXT:
                self._safe = self._consumed
        self.events += events
        return events

    def _allows(self, fmt: Format) -> bool:
        return self._fmt in ("auto", fmt)

    def _emit(self, event: EditEvent | None) -> list[EditEvent]:
        if event is None:
            return []
        self._hunks = event.hunk
        return [event]

    def _closes_fence(self, line: str) -> bool:
        text = line.strip()
        if len(text) >= len(self._fence) and set(text) == {self._fence[0]}:
            return True
        # "``` This makes the button red.": a closing fence with the prose after it.
        fence = _FENCE.fullmatch(line)
        return (
            fence is not None
            and self._is_marker_like_ours(fence.group(1))
            and _PROSE.fullmatch(fence.group(2)) is not None
        )

    def _line(self, line: str) -> list[EditEvent]:
        handler = {
            _State.TEXT: self._text,
            _State.FENCE_FIRST: self._fence_first,
            _State.FENCE_CODE: self._fence_code,
            _State.FENCE_SKIP: self._fence_skip,
            _State.FENCE_SR: self._fence_sr,
            _State.PATCH: self._patch_line,
            _State.BLOCK: self._block_line,
        }[self._state]
        return handler(line)

    # -- starting constructs -------------------------------------------------

    def _try_start(self, line: str, fenced: bool) -> tuple[bool, list[EditEvent]]:
        """Start an envelope or S/R block if ``line`` opens one."""
        text = line.strip()
        if self._allows("patch") and (text == BEGIN or is_header(text)):
            self._structured = True
            self._patch = PatchParser()
            self._patch_fenced = fenced
            self._state = _State.PATCH
            return True, [] if text == BEGIN else self._patch_line(line)
        if self._allows("search_replace") and is_search(text):
            self._structured = True
            path = self._fence_path if fenced else self._last_path
            self._block = Block(path)
            self._block_return = _State.FENCE_SR if fenced else _State.TEXT
            self._state = _State.BLOCK
            return True, []
        return False, []

    def _text(self, line: str) -> list[EditEvent]:
        if self._after_nested and line.strip():
            self._after_nested = False
            bare = _FENCE.fullmatch(line)
            if bare and not bare.group(2):
                return []  # the closing line of the fence the model echoed around a block
        started, events = self._try_start(line, fenced=False)
        if started:
            return events
        fence = _FENCE.fullmatch(line) or _FENCE_AFTER_PROSE.fullmatch(line)
        if fence and _PROSE.fullmatch(fence.group(2)):
            fence = None  # "``` That's it!": a stray closing fence before prose
        if fence:
            path = path_in_line(fence.group(2), self._ws.files) or self._last_path
            self._open_fence(fence.group(1), fence.group(2), path)
        elif line.strip():
            self._last_path = path_in_line(line, self._ws.files)
        return []

    def _open_fence(self, marker: str, info: str, path: str | None) -> None:
        self._fence, self._fence_info, self._fence_path = marker, info, path
        self._code = []
        self._state = _State.FENCE_FIRST

    # -- inside fences ---------------------------------------------------------

    def _fence_first(self, line: str) -> list[EditEvent]:
        if self._closes_fence(line):
            self._state = _State.TEXT
            return []
        started, events = self._try_start(line, fenced=True)
        if started:
            return events
        self._state = _State.FENCE_CODE
        return self._fence_code(line)

    def _fence_code(self, line: str) -> list[EditEvent]:
        if self._closes_fence(line):
            self._state = _State.TEXT
            return self._code_block_done()
        if self._allows("search_replace") and is_search(line.strip()):
            # The fence holds S/R blocks after all; a path may be its first line.
            named = [p for p in map(self._path_of, self._code) if p]
            self._fence_path = named[-1] if named else self._fence_path
            return self._try_start(line, fenced=True)[1]
        inner = _FENCE.fullmatch(line)
        # Indented four spaces or more it is code (say, a docstring's example), as in
        # CommonMark.
        indented = len(line) - len(line.lstrip(" ")) >= 4 or line.startswith("\t")
        if inner and inner.group(2) and not indented and self._is_marker_like_ours(inner.group(1)):
            return self._nested_fence(inner.group(1), inner.group(2))
        code = self._before_closing_marker(line)
        if code is not None:  # "</html>```": the block closes on a code line
            self._code.append(code)
            self._state = _State.TEXT
            return self._code_block_done()
        self._code.append(line)
        return []

    def _is_marker_like_ours(self, marker: str) -> bool:
        return marker[0] == self._fence[0] and len(marker) >= len(self._fence)

    def _before_closing_marker(self, line: str) -> str | None:
        """The code of a line that ends with the closing fence, else ``None``."""
        text = line.rstrip()
        marker = self._fence
        if marker[0] != "`" or not text.endswith(marker):
            return None
        code = text[: -len(marker)]
        return code.rstrip() if code.strip() and not code.endswith("`") else None

    def _nested_fence(self, marker: str, info: str) -> list[EditEvent]:
        """A ```` ```lang ```` line inside a block: that block is over.

        Either the model echoed the prompt's layout inside its own fence
        (```` ```html ````, ``## index.html``, ```` ```html index.html ````), or the
        previous fence was a stray one and what followed it was prose, or the model
        forgot to close the previous block. Only the last is code to apply; the
        fence line itself never becomes part of a file.
        """
        cleaned = strip_echo(self._code, self._ws.files)
        events: list[EditEvent] = []
        if self._fence_info.strip() and any(line.strip() for line in cleaned.lines):
            events = self._code_block_done()
            path = cleaned.tail_path
        else:
            named = [p for p in map(self._path_of, self._code) if p]
            path = cleaned.tail_path or cleaned.head_path or (named[-1] if named else None)
        self._open_fence(marker, info, path)
        self._after_nested = True
        return events

    def _path_of(self, line: str) -> str | None:
        return path_in_line(line, self._ws.files)

    def _fence_skip(self, line: str) -> list[EditEvent]:
        if self._closes_fence(line):
            self._state = _State.TEXT
        return []

    def _fence_sr(self, line: str) -> list[EditEvent]:
        if self._closes_fence(line):
            self._state = _State.TEXT
            return []
        started, events = self._try_start(line, fenced=True)
        if not started and line.strip():
            self._fence_path = self._path_of(line) or self._fence_path
        return events

    def _code_is_edit(self) -> bool:
        if not self._allows("code_blocks"):
            return False
        return not (self._fmt == "auto" and self._structured)

    def _code_block_done(self) -> list[EditEvent]:
        if not self._code_is_edit():
            return []
        fence = Fence(self._fence_info, self._fence_path, self._code)
        return self._emit(apply_fence(self._ws, fence, self._active, self._hunks + 1, self.kind))

    # -- formats -------------------------------------------------------------

    def _apply_items(self, items: list[Item]) -> list[EditEvent]:
        events: list[EditEvent] = []
        for item in items:
            events += self._emit(apply_item(self._ws, item, self._hunks + 1))
        return events

    def _patch_line(self, line: str) -> list[EditEvent]:
        if self._patch_fenced and self._closes_fence(line):
            self._state = _State.TEXT
            return self._apply_items(self._patch.close())
        events = self._apply_items(self._patch.feed(line))
        if self._patch.done:
            self._state = _State.FENCE_SKIP if self._patch_fenced else _State.TEXT
        return events

    def _block_line(self, line: str) -> list[EditEvent]:
        if not self._block.feed(line):
            return []
        self._state = self._block_return
        return self._emit(apply_block(self._ws, self._block, self._hunks + 1))

    def _close(self) -> list[EditEvent]:
        hunk = self._hunks + 1
        events: list[EditEvent] = []
        if self._state is _State.PATCH:
            events = self._apply_items(self._patch.close())
        elif self._state is _State.BLOCK:
            reason = (
                "The SEARCH/REPLACE block was not finished (the answer ended before its "
                ">>>>>>> REPLACE line), so it was not applied. Ask the model to send the "
                "change again."
            )
            code = "\n".join(self._block.replace)
            events = self._emit(self._ws.reject(self._block.path or "", hunk, reason, code=code))
        elif self._state is _State.FENCE_CODE and self._code_is_edit():
            fence = Fence(self._fence_info, self._fence_path, self._code)
            events = self._emit(unclosed_fence(self._ws, fence, self._active, hunk, self.kind))
        self.events += events
        return events
