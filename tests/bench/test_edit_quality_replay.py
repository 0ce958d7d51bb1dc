"""Real answers of the local model, replayed through the real engine and page (#11).

Every answer under bench/edit_quality/answers/ was recorded byte for byte from
qwen2.5-coder-0.5b or 1.5b on a 2-core machine (`python bench/edit_quality.py --record DIR`).
Here each is fed through the scripted upstream to a real Daphne, its edit engine and
the playground page in headless Chromium, with no model, and the test asserts what
the learner would see: the files in the editor, the preview, the output of main.py.

Every case here was lost or mangled by Flint's merge before the engine's fixes for
small models (#11); each now lands the way the learner asked.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSWERS = REPO / "bench" / "edit_quality" / "answers"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _load_suite() -> Any:
    # bench/ is scripts, not a package: load the suite by path, as the CLI runs it.
    spec = importlib.util.spec_from_file_location("edit_quality", REPO / "bench/edit_quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["edit_quality"] = module
    spec.loader.exec_module(module)
    return module


suite = _load_suite()
TASKS = {t.id: t for t in suite.load_tasks()}


@pytest.fixture(scope="module")
def page() -> Iterator[tuple[Any, Any]]:
    if not Path(suite.CHROMIUM).exists():
        pytest.fail(f"{suite.CHROMIUM} missing: run scripts/test.sh, which installs chromium")
    with suite.replay_flint() as (base, upstream):
        driver = suite.new_driver()
        try:
            yield suite.Page(driver, base), upstream
        finally:
            suite.quit_driver(driver)


_replayed: dict[str, Any] = {}


def replay(page: tuple[Any, Any], recording: str, task_id: str | None = None) -> Any:
    """Replay bench/edit_quality/answers/<recording>.answer for its task; the outcome."""
    if recording not in _replayed:
        _replayed[recording] = _replay(page, recording, task_id)
    return _replayed[recording]


def _replay(page: tuple[Any, Any], recording: str, task_id: str | None) -> Any:
    browser, upstream = page
    path = ANSWERS / f"{recording}.answer"
    task = TASKS[task_id or path.stem]
    answer = path.read_bytes().decode("utf-8")
    reply = suite.Reply(text=answer, rate=0)
    return suite.run_task(browser, task, "replay", 60.0, reply, upstream)


def main_py_output(outcome: Any) -> str:
    return str(suite.run_python(outcome.files)["out"])


def starter(name: str) -> dict[str, str]:
    from playground.persistence.starters import TEMPLATES

    return dict(TEMPLATES[name])


LEGACY = "qwen2.5-coder-0.5b-legacy"


# -- web ------------------------------------------------------------------------------


def test_a_one_rule_css_answer_turns_the_heading_green(page: Any) -> None:
    outcome = replay(page, f"{LEGACY}/web-heading-green")
    assert outcome.passed, outcome.seen
    assert outcome.rejections == []


def test_an_answer_echoing_the_prompt_headers_still_paints_the_page_light_blue(
    page: Any,
) -> None:
    # The answer opens with "# Project files / ## index.html / ```html index.html"
    # and repeats every file: the learner still gets the light-blue page.
    outcome = replay(page, f"{LEGACY}/web-background-light-blue")
    assert outcome.passed, outcome.seen
    assert not any("Project files" in text for text in outcome.files.values())


def test_echoed_copies_of_untouched_files_leave_them_byte_identical(page: Any) -> None:
    outcome = replay(page, f"{LEGACY}/web-background-light-blue")
    web = starter("web")
    assert outcome.files["index.html"] == web["index.html"]
    assert outcome.files["script.js"] == web["script.js"]


def test_an_echoed_fence_line_never_lands_in_index_html(page: Any) -> None:
    # The answer opens with "```html index.html" twice: the second is not HTML.
    outcome = replay(page, f"{LEGACY}/web-center-everything")
    assert "```" not in outcome.files["index.html"]
    assert outcome.files["index.html"].startswith("<!")


def test_an_answer_that_drops_the_script_tag_is_caught_by_the_counter(page: Any) -> None:
    # The heading is underlined, but the answer's index.html lost <script src=...>:
    # the learner's counter button stopped working, so the task is not done.
    outcome = replay(page, f"{LEGACY}/web-heading-underline")
    assert not outcome.passed
    assert "counter stopped counting" in outcome.seen
    assert "<script" not in outcome.files["index.html"]


def test_an_answer_that_changes_nothing_is_reported_as_no_change(page: Any) -> None:
    # "remove the space around the page": the answer repeats index.html unchanged.
    outcome = replay(page, f"{LEGACY}/web-no-margin")
    assert outcome.files == starter("web")
    assert outcome.edit_kinds == ["unchanged"], "the learner is told nothing changed"


# -- python ---------------------------------------------------------------------------


def test_a_changed_function_makes_greet_say_hi(page: Any) -> None:
    outcome = replay(page, f"{LEGACY}/py-greet-hi")
    assert outcome.passed, outcome.seen
    assert main_py_output(outcome).strip() == "Hi, Flint"


def test_a_complete_main_py_with_a_new_main_block_runs_the_loop(page: Any) -> None:
    # The whole file comes back with a loop inside `if __name__ == "__main__":`.
    outcome = replay(page, f"{LEGACY}/py-greet-loop")
    assert outcome.passed, outcome.seen


def test_a_complete_main_py_without_the_main_guard_keeps_its_top_level_call(
    page: Any,
) -> None:
    # The answer defines print_7_times_table() and calls it at the top level.
    outcome = replay(page, f"{LEGACY}/py-times-table")
    assert "7 x 7 = 49" in main_py_output(outcome)


def test_a_file_with_echoed_headers_still_prints_the_triangle(page: Any) -> None:
    outcome = replay(page, f"{LEGACY}/py-star-triangle")
    assert outcome.passed, outcome.seen


def test_echoed_prompt_headers_never_land_in_main_py(page: Any) -> None:
    # The block opens with "# Project files" and "## main.py": valid Python comments.
    outcome = replay(page, f"{LEGACY}/py-star-triangle")
    assert "Project files" not in outcome.files["main.py"]
    assert "## main.py" not in outcome.files["main.py"]


def test_an_echoed_header_block_is_not_refused_as_broken_python(page: Any) -> None:
    # ```python, "# Project files", "## main.py", then ```python main.py and the file.
    # The model did not add Ada, but its file is fine: it applies, and still runs.
    outcome = replay(page, f"{LEGACY}/py-greet-ada-too")
    assert outcome.rejections == []
    assert "Project files" not in outcome.files["main.py"]
    assert main_py_output(outcome) == "Hello, Flint!\n"


def test_an_index_html_block_in_a_python_playground_is_refused(page: Any) -> None:
    # "```python index.html" and a FizzBuzz web page, in a Python playground.
    outcome = replay(page, f"{LEGACY}/py-fizzbuzz")
    assert set(outcome.files) == {"main.py"}, "no web file appears in a Python playground"
    assert [r["path"] for r in outcome.rejections] == ["index.html"]


FIRST_TRY = "qwen2.5-coder-0.5b-new-first-try"


def test_a_bare_for_loop_for_main_py_is_placed_not_refused(page: Any) -> None:
    # The whole answer is a `for` loop printing "1 is odd" ... "10 is even".
    outcome = replay(page, f"{FIRST_TRY}/py-even-odd")
    assert outcome.rejections == []
    assert outcome.passed, outcome.seen


def test_a_doubled_opening_fence_still_greets_ada(page: Any) -> None:
    # "```python main.py" twice, then the file with print(greet("Ada")) in its main block.
    outcome = replay(page, f"{FIRST_TRY}/py-greet-ada-too")
    assert outcome.passed, outcome.seen


# -- qwen2.5-coder-1.5b, the smallest-unit prompt --------------------------------------
# These answers went on past a correct block into `<file path="…">` copies of the
# prompt's files; the generation's stop sequence ends them where the copy begins.

SMALLEST_UNIT = "2026-12-01/1.5b-46/qwen2.5-coder-1.5b-new"


def test_a_made_up_copy_of_main_py_after_the_answer_is_never_applied(page: Any) -> None:
    # The right greet(name, greeting="Hello"), then a "main.py" importing a module
    # that does not exist: applied, it broke the program.
    outcome = replay(page, f"{SMALLEST_UNIT}/py-greet-default")
    assert outcome.passed, outcome.seen
    assert "from helper" not in outcome.files["main.py"]


def test_an_answer_stops_where_it_starts_copying_the_prompt(page: Any) -> None:
    # One CSS rule, then every file again in <file> sections: only the rule lands.
    outcome = replay(page, f"{SMALLEST_UNIT}/web-background-light-blue")
    assert outcome.passed, outcome.seen
    assert outcome.tokens < 40, "the copied files were streamed and applied too"
    web = starter("web")
    assert outcome.files["index.html"] == web["index.html"]
    assert "<file" not in "".join(outcome.files.values())
