from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from playground.edits.diffing import minimal_spans
from playground.edits.spans import apply_spans


def test_a_one_word_change_in_a_big_file_is_a_one_word_op() -> None:
    old = "".join(f"line {i} of the file\n" for i in range(2000))
    new = old.replace("line 1000 of", "line 1000 in")
    spans = minimal_spans(old, new)
    assert len(spans) == 1
    assert spans[0].end - spans[0].start <= 2
    assert apply_spans(old, spans) == new


def test_equal_texts_need_no_spans() -> None:
    assert minimal_spans("same\n", "same\n") == []


def test_spans_are_sorted_and_disjoint() -> None:
    spans = minimal_spans("a\nb\nc\nd\n", "a\nB\nc\nD\ne\n")
    assert all(x.end <= y.start for x, y in itertools.pairwise(spans))


_lines = st.lists(st.sampled_from(["a", "b", "def f():", "  x", "", "😀", "é"]), max_size=12)
_texts = st.builds(lambda ls, nl: "\n".join(ls) + nl, _lines, st.sampled_from(["", "\n"]))


@settings(max_examples=200)
@given(_texts, _texts)
def test_applying_the_minimal_diff_of_a_to_b_gives_b(a: str, b: str) -> None:
    spans = minimal_spans(a, b)
    assert apply_spans(a, spans) == b
    assert all(x.end <= y.start for x, y in itertools.pairwise(spans))
