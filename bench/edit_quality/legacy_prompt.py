"""The prompt as it was before issue #11 (commit 1c24dda), kept only to measure against.

bench/edit_quality_settings.py swaps it in with FLINT_BENCH_PROMPT=legacy, so the
edit-quality suite can compare the old and the new prompt on the same model, engine
and page in one run. Not used by Flint itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from playground.inference.base import Message

# No tokenizer ships offline for every model (stock tiktoken downloads its
# tables), so budgets use the usual ~4 characters per token estimate.
CHARS_PER_TOKEN = 4

_FORMAT_RULES = {
    "search_replace": (
        "To change a file, answer with SEARCH/REPLACE blocks. Each block is: the file "
        "path on its own line, then\n<<<<<<< SEARCH\n(exact lines from the file)\n=======\n"
        "(the new lines)\n>>>>>>> REPLACE\nKeep SEARCH short but unique. Use several "
        "blocks for several changes. To create a file, use an empty SEARCH."
    ),
    "apply_patch": (
        "To change files, answer with one patch in the apply_patch format: *** Begin Patch, "
        "then *** Update File: <path> with @@ chunks of context/-/+ lines (or *** Add File: / "
        "*** Delete File:), then *** End Patch."
    ),
    "whole_file": (
        "To change a file, answer with the complete new file in one fenced code block whose "
        "info line names the language and the path, like ```html index.html. For a small "
        "change to a big file you may instead give just the complete changed functions, "
        "classes or CSS rules in the fenced block. Never leave placeholders such as "
        "'rest unchanged'."
    ),
}


class ContextTooLargeError(ValueError):
    pass


def system_prompt(edit_format: str) -> str:
    rules = _FORMAT_RULES.get(edit_format, _FORMAT_RULES["search_replace"])
    return (
        "You are Flint, a coding assistant inside a live browser playground. The user's "
        "project files are below. Make the smallest change that does what the user asks, "
        "explain in one or two sentences, and keep the code valid at every step.\n" + rules
    )


def build_messages(
    *,
    instruction: str,
    files: Mapping[str, str],
    active: str | None,
    edit_format: str,
    budget_tokens: int,
    selection: tuple[str, str] | None = None,
    history: tuple[Message, ...] = (),
    **_later: object,  # arguments the new prompt takes, ignored here
) -> tuple[Message, ...]:
    """Return the messages; drop other files, then history, to fit the budget."""
    ordered = sorted(files, key=lambda p: (p != active, p))
    system = system_prompt(edit_format)
    tail = _instruction_block(instruction, selection)
    fixed = len(system) + len(tail)
    if active in files:
        fixed += len(files[active])
    budget = budget_tokens * CHARS_PER_TOKEN
    if fixed > budget:
        raise ContextTooLargeError(
            f"The file and instruction are about {fixed // CHARS_PER_TOKEN} tokens, over the "
            f"model's budget of {budget_tokens}. Shorten the file or raise FLINT_CONTEXT_TOKENS."
        )
    included, used = [], fixed
    for path in ordered:
        size = len(files[path]) if path != active else 0
        if used + size <= budget:
            included.append(path)
            used += size
    kept_history = _fit_history(history, budget - used)
    project = "\n\n".join(_file_block(p, files[p]) for p in included)
    return (
        Message("system", system + "\n\n# Project files\n\n" + project),
        *kept_history,
        Message("user", tail),
    )


def _fit_history(history: tuple[Message, ...], room: int) -> tuple[Message, ...]:
    kept: list[Message] = []
    for message in reversed(history):
        room -= len(message.content)
        if room < 0:
            break
        kept.append(message)
    return tuple(reversed(kept))


def _file_block(path: str, text: str) -> str:
    return f"## {path}\n```{_language(path)} {path}\n{text}\n```"


def _instruction_block(instruction: str, selection: tuple[str, str] | None) -> str:
    if selection is None:
        return instruction
    path, selected = selection
    return f"{instruction}\n\n(The user selected this part of {path}:)\n```\n{selected}\n```"


def _language(path: str) -> str:
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return {"py": "python", "js": "javascript", "ts": "typescript", "htm": "html"}.get(ext, ext)
