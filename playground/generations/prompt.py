"""Build the chat messages for one generation, within the model's context budget.

Two profiles, chosen by model size (issue #11; measured with bench/edit_quality.py,
docs/benchmarks.md "Edit quality"):

- **1B parameters and more**: the files in ``<file path="…">`` sections around a fence
  labelled with the path; rules that ask for the smallest unit (one CSS rule, one
  element, one function) in a fenced block labelled with its path, with an example of
  the playground's own kind; after the request, a one-line reminder (not the open tab);
  the answer ends where it starts copying a file section back (``STOP``).
  Measured on qwen2.5-coder-1.5b, the default local model (docs/benchmarks.md).
- **Under 1B**: the pre-#11 layout ("# Project files", "## path", labelled fences) and
  wording, asking for the complete changed file. qwen2.5-coder-0.5b did worse with
  every tagged, unit-first variant tried (it copies what it was last shown: a literal
  fence in the rules, the example's change, the ``</file>`` after a file, the open-file
  note); its echoes of the old headers are the edit engine's to strip.

Both: examples and file names are the playground's own (the old "like ```html
index.html" brought index.html answers to Python playgrounds), and the system message
opens the prompt, rules first (they never change) and then the files sorted by path, so
it stays byte-identical from turn to turn and tab to tab while the files do, and
llama.cpp's prompt cache (and hosted prefix caches) skip re-reading it. The request
comes last, in the user message.

Token counts: the model's own tokenizer when the backend offers one (the local model's
server), else ~4 characters per token. Counting is skipped when even one token per byte
(the most a byte-level BPE can produce) fits the budget, which is the usual case.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from playground.errors import FlintError
from playground.inference.base import Message

# Fallback when the model's tokenizer is not at hand (stock tiktoken downloads its
# tables, so remote models are estimated).
CHARS_PER_TOKEN = 4

TokenCounter = Callable[[str], int | None]  # None: cannot count right now


class ContextTooLargeError(FlintError):
    code = "gen.too_large"
    status = 400


@dataclass(frozen=True)
class Kind:
    """What kind of playground the prompt is for, and the answers that fit it."""

    name: str  # "web" | "python" | "files"
    intro: str
    label: str  # a fence label of this kind, as the answer should write it
    units: str  # the smallest unit to answer with, per file type
    example: str  # one learner request and the answer wanted
    note: str = ""  # a rule of this kind, for every profile


WEB = Kind(
    name="web",
    intro="a live web page playground: index.html, style.css and script.js make one page "
    "that repaints as you edit",
    label="```html index.html",
    units=(
        "- a style: only the CSS rule you change or add, selector and braces;\n"
        "- what the page says or shows (its text, new or removed elements): the whole "
        "changed element in index.html (an element with an id, or all of <main>), or "
        "the complete index.html; CSS cannot change text;\n"
        "- what the page does (a click, a toggle, a counter): the complete new script.js, "
        "and in index.html any element it needs."
    ),
    # Not a change any starter invites (no links in them): an example the learner's
    # request resembles gets copied instead of the request answered.
    example=(
        "Learner: make the links orange\n"
        "Answer:\n```css style.css\na {\n  color: orange;\n}\n```\nLinks are now orange."
    ),
)
PYTHON = Kind(
    name="python",
    intro="a Python playground: main.py runs when the learner presses Run, and its output "
    "is what they see",
    label="```python main.py",
    units=(
        "- to change one function: only that whole function;\n"
        "- anything else: the complete new main.py."
    ),
    # Not the starter's greet: qwen2.5-coder-1.5b answered "also greet Ada" with this
    # example's shouting greet, copied.
    example=(
        "Learner: let total take a discount\n"
        "Answer:\n```python main.py\ndef total(prices, discount=0):\n"
        "    return sum(prices) - discount\n```\ntotal now takes a discount."
    ),
    note='Code that runs goes inside the if __name__ == "__main__": block, never above it.',
)
FILES = Kind(
    name="files",
    intro="a live coding playground",
    label="```python app.py",
    units=(
        "- CSS: only the rule you change or add;\n- HTML: the whole changed element;\n"
        "- code: the whole changed function or class, or the complete file."
    ),
    example=(
        "Learner: rename the helper to total\n"
        "Answer:\n```python app.py\ndef total(values):\n    return sum(values)\n```\n"
        "The helper is now called total."
    ),
)

_OTHER_FORMATS = {
    "search_replace": (
        "To change a file, answer with SEARCH/REPLACE blocks. Each block is: the file path on "
        "its own line, then\n<<<<<<< SEARCH\n(exact lines from the file)\n=======\n(the new "
        "lines)\n>>>>>>> REPLACE\nKeep SEARCH short but unique: a few lines of the one rule, "
        "element or function you change. Use several blocks for several changes. To create a "
        "file, use an empty SEARCH."
    ),
    "apply_patch": (
        "To change files, answer with one patch in the apply_patch format: *** Begin Patch, "
        "then *** Update File: <path> with @@ chunks of context/-/+ lines (or *** Add File: / "
        "*** Delete File:), then *** End Patch. Change as few lines as you can."
    ),
}


def playground_kind(files: Mapping[str, str]) -> Kind:
    """The starter the files came from, by their names (docs: persistence/starters.py)."""
    suffixes = {path.rsplit(".", 1)[-1].lower() for path in files if "." in path}
    if suffixes & {"html", "htm"}:
        return WEB
    if suffixes and suffixes <= {"py", "txt", "md", "json", "csv"} and "py" in suffixes:
        return PYTHON
    return FILES


def model_params(model: str | None) -> float | None:
    """Parameters in billions, read from a model name like qwen2.5-coder-0.5b; None if unsaid."""
    if not model:
        return None
    found = re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)([bm])(?![a-z])", model.lower().replace("-", " "))
    if not found:
        return None
    value, unit = found[-1]
    return float(value) / (1000 if unit == "m" else 1)


def whole_files_for(model: str | None) -> bool:
    """Models under 1B parameters get the whole-file profile (see the module docstring).

    Measured (docs/benchmarks.md, "Edit quality"): asked for one rule or function,
    qwen2.5-coder-0.5b often copied an unrelated unit unchanged; the starters' files
    are small enough to answer whole.
    """
    params = model_params(model)
    return params is not None and params < 1


def system_prompt(edit_format: str, kind: Kind = FILES, model: str | None = None) -> str:
    """The rules: constant per (format, kind, model size), so they stay in the prompt cache."""
    head = (
        f"You are Flint, a coding assistant in {kind.intro}. The learner's files follow, "
        'each in a <file path="…"> section.\n'
    )
    note = f"{kind.note}\n" if kind.note else ""
    if edit_format in _OTHER_FORMATS:
        rules = "Make the smallest change that does what the learner asks.\n"
        return head + rules + note + _OTHER_FORMATS[edit_format]
    if whole_files_for(model):
        # Measured: the pre-#11 wording and layout served qwen2.5-coder-0.5b better than
        # every tagged, unit-first variant tried; only its label is now the playground's
        # own (it said ```html index.html to Python playgrounds too).
        return (
            "You are Flint, a coding assistant inside a live browser playground. The user's "
            "project files are below. Make the smallest change that does what the user asks, "
            "explain in one or two sentences, and keep the code valid at every step.\n"
            "To change a file, answer with the complete new file in one fenced code block "
            f"whose info line names the language and the path, like {kind.label}. For a small "
            "change to a big file you may instead give just the complete changed functions, "
            "classes or CSS rules in the fenced block. Never leave placeholders such as "
            "'rest unchanged'."
        )
    return head + (
        "Make the smallest change that does what the learner asks. Answer with only the "
        "part you change, in a fenced code block whose first line names the language and "
        f"the file:\n{kind.units}\n{note}Use one block per file you change. After the "
        "blocks, one short sentence. Never write placeholders such as '...'.\n"
        f"\nExample (not the learner's project):\n{kind.example}"
    )


# Where an answer ends: a model that starts a line with a file section of the prompt
# is copying the prompt, not answering (measured: qwen2.5-coder-1.5b followed a correct
# block with `<file path="…">` copies of the files, one with made-up contents, in 7 of
# 46 answers). Only at a line start: one answer opened its block with
# ```python <file path="main.py">, and the engine reads that one right. Sent as Chat
# Completions ``stop``; the Responses API has no such field, so there the edit engine's
# echo stripping is the only guard.
STOP = ('\n<file path="',)

# Repeated after the request for models of 1B and more. No literal fence: at the very
# end of the prompt, a small model continued "like ```css style.css." as its first line.
REMINDER = "Answer with just the changed parts, each in a fenced code block labelled with its path."


def build_messages(
    *,
    instruction: str,
    files: Mapping[str, str],
    active: str | None,
    edit_format: str,
    budget_tokens: int,
    selection: tuple[str, str] | None = None,
    history: tuple[Message, ...] = (),
    model: str | None = None,
    count_tokens: TokenCounter | None = None,
) -> tuple[Message, ...]:
    """Return the messages; drop other files, then history, to fit the budget.

    ``model`` picks the size profile and ``count_tokens`` counts with the model's own
    tokenizer; left out, both come from the backend of the running event loop.
    """
    if model is None and count_tokens is None:
        model, count_tokens = _running_backend()
    kind = playground_kind(files)
    system = system_prompt(edit_format, kind, model)
    # A tiny model reads the reminder and the open file as something to answer about
    # (it edited index.html when style.css was asked for): it gets the request alone.
    plain = edit_format in _OTHER_FORMATS or whole_files_for(model)
    reminder = None if plain else REMINDER
    tail = _instruction_block(instruction, selection, reminder)
    sizes = _Sizer(count_tokens, model)
    block = _markdown_block if whole_files_for(model) else _file_block
    pieces = {p: block(p, files[p]) for p in sorted(files)}
    if sizes.surely_fits([system, tail, *pieces.values(), *(m.content for m in history)],
                         budget_tokens):  # fmt: skip
        included, kept_history = list(pieces), history
    else:
        included, kept_history = _fit(sizes, system, tail, pieces, active, history, budget_tokens)
    project = "\n\n".join(pieces[p] for p in included)
    if project and block is _markdown_block:
        project = "# Project files\n\n" + project
    return (
        Message("system", f"{system.rstrip()}\n\n{project}" if project else system),
        *kept_history,
        Message("user", tail),
    )


def _fit(
    sizes: _Sizer,
    system: str,
    tail: str,
    pieces: dict[str, str],
    active: str | None,
    history: tuple[Message, ...],
    budget: int,
) -> tuple[list[str], tuple[Message, ...]]:
    fixed = sizes(system) + sizes(tail) + (sizes(pieces[active]) if active in pieces else 0)
    if fixed > budget:
        raise ContextTooLargeError(
            f"The file and instruction are about {fixed} tokens, over the model's budget of "
            f"{budget}. Shorten the file or raise FLINT_CONTEXT_TOKENS."
        )
    included, used = [], fixed
    for path, piece in pieces.items():
        size = sizes(piece) if path != active else 0
        if used + size <= budget:
            included.append(path)
            used += size
    kept: list[Message] = []
    room = budget - used
    for message in reversed(history):
        room -= sizes(message.content)
        if room < 0:
            break
        kept.append(message)
    return included, tuple(reversed(kept))


class _Sizer:
    """Token sizes of prompt pieces: the model's tokenizer, memoised, else the estimate."""

    _memo: OrderedDict[tuple[str, str], int] = OrderedDict()
    MEMO_SIZE = 512

    def __init__(self, count: TokenCounter | None, model: str | None) -> None:
        self.count = count
        self.model = model or ""

    @staticmethod
    def surely_fits(texts: list[str], budget: int) -> bool:
        # A byte-level BPE token covers at least one byte; the estimate is looser still.
        # Small per-message overheads are covered by the backend's own margin.
        return sum(len(t.encode("utf-8")) for t in texts) <= budget

    def __call__(self, text: str) -> int:
        if self.count is None:
            return estimate_tokens(text)
        key = (self.model, hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest())
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        counted = self.count(text)
        if counted is None:
            return estimate_tokens(text)
        self._memo[key] = counted
        if len(self._memo) > self.MEMO_SIZE:
            self._memo.popitem(last=False)
        return counted


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def _running_backend() -> tuple[str | None, TokenCounter | None]:
    # The generation service passes only the edit format; the backend it uses is the
    # running loop's configured one, so the model and its tokenizer come from there.
    try:
        from playground.inference import get_backend

        backend = get_backend()
    except (RuntimeError, ImportError):  # no running loop: a plain call (scripts, tests)
        return None, None
    return backend.info.model, getattr(backend, "count_tokens", None)


def _file_block(path: str, text: str) -> str:
    body = text if text.endswith("\n") or not text else text + "\n"
    # The fence inside names the path as an answer's should: a small model copies the
    # file to change it, and the copy then lands in the right file.
    return f'<file path="{path}">\n```{_language(path)} {path}\n{body}```\n</file>'


def _markdown_block(path: str, text: str) -> str:
    return f"## {path}\n```{_language(path)} {path}\n{text}\n```"


def _language(path: str) -> str:
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return {"py": "python", "js": "javascript", "ts": "typescript", "htm": "html"}.get(ext, ext)


def _instruction_block(
    instruction: str, selection: tuple[str, str] | None, reminder: str | None
) -> str:
    # Not the open tab: told index.html was open, qwen2.5-coder-1.5b answered style
    # changes with the whole of index.html and an inline style (docs/benchmarks.md).
    parts = [instruction.strip()]
    if selection is not None:
        path, selected = selection
        parts.append(f"(The learner selected this part of {path}:)\n```\n{selected}\n```")
    if reminder:
        parts.append(reminder)
    return "\n\n".join(parts)
