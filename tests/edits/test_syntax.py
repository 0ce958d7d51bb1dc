from __future__ import annotations

from playground.edits.languages import language_for_path, parser
from playground.edits.model import Span
from playground.edits.spans import apply_spans
from playground.edits.syntax import SyntaxChecker, Verdict, error_nodes, parse_full

GOOD = "def f(x):\n    return x\n"


def _check(checker: SyntaxChecker, path: str, old: str, spans: list[Span]) -> Verdict:
    return checker.check(path, old, apply_spans(old, spans), spans)


def test_it_rejects_an_edit_that_breaks_syntax() -> None:
    broken = _check(SyntaxChecker(), "a.py", GOOD, [Span(5, 6, "")])  # remove "("
    assert broken.problem is not None
    assert broken.problem.line == 1
    fine = _check(SyntaxChecker(), "a.py", GOOD, [Span(6, 7, "y")])
    assert fine.problem is None


def test_the_report_points_at_the_new_error_with_a_caret() -> None:
    old = "a = 1\nb = 2\nc = 3\n"
    verdict = _check(SyntaxChecker(), "a.py", old, [Span(6, 11, "b = (2")])
    problem = verdict.problem
    assert problem is not None
    assert problem.line_text in {"b = (2", "c = 3"}
    caret_line = problem.snippet.split("\n")[1]
    assert caret_line.strip() == "^"
    assert len(caret_line) - 1 == problem.column - 1


def test_an_already_broken_file_may_be_edited_if_it_gets_no_worse() -> None:
    old = "def f(:\n    pass\n\nx = 1\n"
    verdict = _check(SyntaxChecker(), "a.py", old, [Span(12, 13, "")])
    assert verdict.problem is None
    assert verdict.parsed is not None
    assert verdict.parsed.errors >= 1


def test_fixing_a_broken_file_is_accepted() -> None:
    old = "def f(:\n    pass\n"
    verdict = _check(SyntaxChecker(), "a.py", old, [Span(6, 6, ")")])
    assert verdict.problem is None
    assert verdict.parsed is not None
    assert verdict.parsed.errors == 0


def test_unknown_extensions_are_not_checked() -> None:
    verdict = _check(SyntaxChecker(), "notes.txt", "x", [Span(0, 1, "def (:")])
    assert verdict.parsed is None
    assert verdict.problem is None


def test_incremental_parse_matches_a_full_parse() -> None:
    checker = SyntaxChecker()
    text = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(50))
    for i in range(5):
        span = Span(text.index(f"x + {i * 7}"), text.index(f"x + {i * 7}") + 1, "y")
        verdict = checker.check("m.py", text, apply_spans(text, [span]), [span])
        assert verdict.parsed is not None
        checker.store("m.py", verdict.parsed)
        text = apply_spans(text, [span])
        assert str(verdict.parsed.tree.root_node) == str(parse_full("python", text).tree.root_node)


def test_incremental_parse_handles_non_ascii_text() -> None:
    checker = SyntaxChecker()
    old = 'name = "😀 中文"\nvalue = 1\n'
    span = Span(old.index("1"), old.index("1") + 1, "(2")
    verdict = checker.check("u.py", old, apply_spans(old, [span]), [span])
    assert verdict.problem is not None
    assert verdict.problem.line == 2


def test_missing_nodes_count_as_errors() -> None:
    tree = parser("python").parse(b"def f(:\n  pass\n")
    assert [n.type for n in error_nodes(tree.root_node)] == [")"]


def test_languages_come_from_extensions() -> None:
    assert [language_for_path(p) for p in ("a.py", "b.mjs", "c.TSX", "d.htm", "e.json")] == [
        "python",
        "javascript",
        "tsx",
        "html",
        "json",
    ]
    assert language_for_path("Makefile") is None


def test_each_language_parses_valid_code_without_errors() -> None:
    samples = {
        "python": "x = 1\n",
        "javascript": "const x = () => 1;\n",
        "typescript": "let x: number = 1;\n",
        "tsx": "const a = <div>{1}</div>;\n",
        "html": "<p>hi</p>\n",
        "css": "a { color: red; }\n",
        "json": '{"a": [1, 2]}\n',
    }
    for lang, text in samples.items():
        assert parse_full(lang, text).errors == 0, lang
