from __future__ import annotations

from playground.edits.seek import seek

LINES = ["def f():", "    x = 1  ", "    return x", "", "def g():", "    return x"]


def test_it_finds_an_exact_run_of_lines() -> None:
    assert seek(LINES, ["    return x", "", "def g():"]).index == 2


def test_it_tolerates_trailing_whitespace() -> None:
    assert seek(LINES, ["    x = 1"]).index == 1


def test_it_tolerates_leading_whitespace() -> None:
    assert seek(LINES, ["x = 1", "return x"]).index == 1


def test_it_folds_unicode_punctuation_lookalikes() -> None:
    lines = ['print("it\'s - ok")']
    assert seek(lines, ["print(\u201cit\u2019s \u2014 ok\u201d)"]).index == 0
    assert seek(["a\u00a0=\u00a01"], ["a = 1"]).index == 0


def test_it_reports_ambiguity_at_the_best_level() -> None:
    found = seek(LINES, ["    return x"])
    assert found.index == 2
    assert found.ambiguous


def test_an_exact_match_wins_over_looser_ones_without_ambiguity() -> None:
    found = seek(["x = 1", "x = 1 "], ["x = 1 "])
    assert (found.index, found.ambiguous) == (1, False)


def test_it_searches_from_a_start_line() -> None:
    found = seek(LINES, ["    return x"], start=3)
    assert (found.index, found.ambiguous) == (5, False)


def test_end_of_file_prefers_the_last_position() -> None:
    found = seek(LINES, ["    return x"], eof=True)
    assert (found.index, found.ambiguous) == (5, False)


def test_missing_lines_are_not_found() -> None:
    assert seek(LINES, ["nope"]).index is None
    assert seek(["a"], ["a", "b"]).index is None
