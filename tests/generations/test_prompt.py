"""The prompt builder: per playground kind and model size, cache-stable, tokenizer-aware."""

from __future__ import annotations

import re

import pytest

from playground.generations import prompt
from playground.generations.prompt import (
    ContextTooLargeError,
    build_messages,
    estimate_tokens,
    model_params,
    playground_kind,
)
from playground.inference.base import Message

WEB = {
    "index.html": "<!doctype html>\n<html><body><main><h1>Hi</h1></main></body></html>\n",
    "style.css": "h1 {\n  color: #b4441c;\n}\n",
    "script.js": "let clicks = 0;\n",
}
PYTHON = {"main.py": 'def greet(name):\n    return f"Hello, {name}!"\n'}


@pytest.fixture(autouse=True)
def _forget_counts() -> None:
    prompt._Sizer._memo.clear()  # counts are memoised per model name across calls


def build(files: dict[str, str], **kw: object) -> tuple[Message, ...]:
    args: dict[str, object] = {
        "instruction": "make the heading green",
        "files": files,
        "active": next(iter(files)),
        "edit_format": "whole_file",
        "budget_tokens": 8000,
        "model": "qwen2.5-coder-1.5b",
    }
    args.update(kw)
    return build_messages(**args)  # type: ignore[arg-type]


def everything(messages: tuple[Message, ...]) -> str:
    return "\n".join(m.content for m in messages)


def test_a_python_playground_never_sees_web_file_names_or_examples() -> None:
    for model in ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "gpt-4.1-mini"):
        text = everything(build(PYTHON, instruction="print 1 to 10", model=model))
        assert "main.py" in text
        for web_word in ("index.html", "style.css", "script.js", "```css", "```html"):
            assert web_word not in text, (model, web_word)


def test_a_web_playground_gets_a_css_example_and_its_own_file_names() -> None:
    for model in ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"):
        system = build(WEB, model=model)[0].content
        assert "css style.css" in system
        assert "main.py" not in system and "python" not in system


def test_a_tiny_model_gets_the_measured_markdown_layout_with_its_own_label() -> None:
    # The pre-#11 layout served qwen2.5-coder-0.5b best (docs/benchmarks.md); only the
    # label is the playground's own now.
    system = build(PYTHON, model="qwen2.5-coder-0.5b")[0].content
    assert "like ```python main.py" in system
    assert "# Project files\n\n## main.py\n```python main.py\n" in system
    web = build(WEB, model="qwen2.5-coder-0.5b")[0].content
    assert "like ```html index.html" in web and "## style.css\n```css style.css\n" in web


def test_files_sit_in_tagged_sections_not_markdown_headers() -> None:
    system = build(WEB)[0].content
    for path, text in WEB.items():
        language = {"html": "html", "css": "css", "js": "javascript"}[path.rsplit(".")[-1]]
        assert f'<file path="{path}">\n```{language} {path}\n{text}```\n</file>' in system
    # The old layout's headers were echoed into answers and files.
    assert "# Project files" not in system and "## index.html" not in system


def test_the_system_message_comes_first_and_is_identical_across_turns() -> None:
    first = build(WEB, instruction="make it green", active="style.css")
    second = build(WEB, instruction="center everything", active="index.html")
    assert first[0].role == "system"
    assert first[0].content == second[0].content, "a stable prefix for the prompt cache"
    assert first[-1].content != second[-1].content


def test_files_are_ordered_by_path_not_by_the_open_tab() -> None:
    system = build(WEB, active="style.css")[0].content
    positions = [
        system.index(f'<file path="{p}">') for p in ("index.html", "script.js", "style.css")
    ]
    assert positions == sorted(positions)


def test_the_request_repeats_the_answer_shape_but_not_the_open_tab() -> None:
    user = build(WEB, active="index.html", model="qwen2.5-coder-1.5b")[-1]
    assert user.role == "user"
    assert user.content.startswith("make the heading green")
    # Told index.html was open, qwen2.5-coder-1.5b answered style changes with the
    # whole of index.html and an inline style (a median 122 tokens a task, not 31).
    assert "index.html" not in user.content
    assert "each in a fenced code block labelled with its path" in user.content
    assert "```" not in user.content, "a fence at the end of the prompt gets continued"


def test_a_selection_is_still_quoted_with_its_file() -> None:
    selection = ("style.css", "h1 {\n  color: #b4441c;\n}")
    user = build(WEB, selection=selection, model="qwen2.5-coder-1.5b")[-1]
    assert "selected this part of style.css" in user.content


def test_examples_are_not_changes_the_starters_invite() -> None:
    # An example that resembles the learner's request is copied instead of answered:
    # "also greet Ada" got the example's shouting greet.
    for files, starter_words in ((WEB, ("p {", "h1", "button")), (PYTHON, ("greet",))):
        system = build(files, model="qwen2.5-coder-1.5b")[0].content
        example = system[system.index("Example") : system.index("<file")]
        for word in starter_words:
            assert word not in example, word


def test_web_rules_ask_for_the_script_with_the_elements_it_needs() -> None:
    system = build(WEB, model="qwen2.5-coder-1.5b")[0].content
    assert "the complete new script.js, and in index.html any element it needs" in system


def test_web_rules_send_text_changes_to_index_html_not_css() -> None:
    # With only a CSS example, "change the heading to say …" came back as a CSS rule.
    system = build(WEB, model="qwen2.5-coder-1.5b")[0].content
    assert "what the page says or shows" in system and "CSS cannot change text" in system


def test_a_tiny_model_gets_the_request_alone() -> None:
    # It answered about the open file instead of the request, and continued the reminder.
    user = build(WEB, active="index.html", model="qwen2.5-coder-0.5b")[-1]
    assert user.content == "make the heading green"


def test_models_of_1b_and_more_are_asked_for_the_smallest_unit() -> None:
    web = build(WEB, model="qwen2.5-coder-1.5b")[0].content
    assert "only the CSS rule" in web and "whole changed element" in web
    python = build(PYTHON, model="qwen2.5-coder-1.5b")
    assert "only that whole function" in python[0].content
    assert "just the changed parts" in python[-1].content


def test_models_under_1b_are_asked_for_the_whole_changed_file() -> None:
    messages = build(PYTHON, model="qwen2.5-coder-0.5b")
    assert "complete new file" in messages[0].content
    assert "Example" not in messages[0].content, "a tiny model copies examples"


def test_python_rules_keep_code_under_the_main_guard_from_1b_up() -> None:
    for model in ("qwen2.5-coder-1.5b", "gpt-4.1-mini"):
        assert '__name__ == "__main__"' in build(PYTHON, model=model)[0].content


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("qwen2.5-coder-0.5b", 0.5),
        ("qwen2.5-coder-1.5b", 1.5),
        ("smollm2-135m", 0.135),
        ("qwen2.5-coder:7b", 7.0),
        ("gpt-4.1-mini", None),
        (None, None),
    ],
)
def test_it_reads_the_model_size_from_its_name(name: str | None, params: float | None) -> None:
    assert model_params(name) == params


def test_remote_formats_keep_their_own_rules_without_the_fence_reminder() -> None:
    messages = build(WEB, edit_format="search_replace", model="gpt-4.1-mini")
    assert "<<<<<<< SEARCH" in messages[0].content
    assert "fenced block labelled" not in messages[-1].content


def test_the_selection_is_quoted_in_the_request() -> None:
    user = build(WEB, selection=("style.css", "color: #b4441c;"))[-1].content
    assert "selected this part of style.css" in user and "color: #b4441c;" in user


def test_kinds_come_from_the_file_names() -> None:
    assert playground_kind(WEB).name == "web"
    assert playground_kind(PYTHON).name == "python"
    assert playground_kind({"app.ts": ""}).name == "files"


# -- token budget --------------------------------------------------------------------


class Counter:
    """A stand-in tokenizer: one token per word, and it records what it was asked."""

    def __init__(self, answer: bool = True) -> None:
        self.asked: list[str] = []
        self.answer = answer

    def __call__(self, text: str) -> int | None:
        self.asked.append(text)
        return len(text.split()) if self.answer else None


def big_project(n: int = 40) -> dict[str, str]:
    files = {"main.py": "x = 1\n"}
    for i in range(n):
        files[f"notes{i:02}.txt"] = "word " * 200
    return files


def test_it_does_not_count_tokens_when_one_per_byte_already_fits() -> None:
    counter = Counter()
    build(WEB, count_tokens=counter)
    assert counter.asked == []


def test_it_counts_with_the_models_tokenizer_when_the_budget_is_tight() -> None:
    files = big_project()
    counter = Counter()
    # 40 files x 200 words: 8000 "tokens" by the counter, ~10,000 by the 4-chars estimate.
    messages = build(files, active="main.py", count_tokens=counter, budget_tokens=8600)
    assert counter.asked, "the tokenizer was asked"
    kept = len(re.findall(r"^</file>$", everything(messages), re.M))
    assert kept == 41, "by the tokenizer's count every file fits"
    estimated = build(files, active="main.py", count_tokens=None, budget_tokens=8600)
    assert len(re.findall(r"^</file>$", everything(estimated), re.M)) < 41, (
        "the estimate would have dropped some"
    )


def test_the_estimate_is_the_fallback_when_the_tokenizer_cannot_answer() -> None:
    files = big_project()
    silent = Counter(answer=False)
    with_silent = build(files, active="main.py", count_tokens=silent, budget_tokens=8600)
    estimated = build(files, active="main.py", count_tokens=None, budget_tokens=8600)
    assert with_silent == estimated


def test_other_files_are_dropped_before_the_open_one() -> None:
    files = {"main.py": "print('keep me')\n", "big.txt": "word " * 5000}
    messages = build(files, active="main.py", budget_tokens=1000)
    assert "keep me" in messages[0].content
    assert "big.txt" not in messages[0].content


def test_history_is_dropped_oldest_first_to_fit() -> None:
    history = (Message("user", "old " * 3000), Message("assistant", "recent answer"))
    messages = build(PYTHON, history=history, budget_tokens=1000)
    assert [m.content for m in messages[1:-1]] == ["recent answer"]


def test_it_refuses_an_open_file_over_the_budget_with_the_count() -> None:
    files = {"main.py": "x = 1\n" * 4000}
    with pytest.raises(ContextTooLargeError, match="FLINT_CONTEXT_TOKENS"):
        build(files, active="main.py", budget_tokens=1000)


def test_the_estimate_is_four_characters_per_token_rounded_up() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcde") == 2
