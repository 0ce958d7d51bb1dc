from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from playground.edits.lines import LineTable, detect_eol, to_eol
from playground.edits.seek import seek
from playground.edits.spans import apply_spans


def _replace(text: str, first: int, count: int, new: list[str]) -> str:
    return apply_spans(text, [LineTable.of(text).replace(first, count, new)])


def test_crlf_lines_match_without_their_carriage_return() -> None:
    table = LineTable.of("a\r\nb\r\n")
    assert table.lines == ["a", "b"]
    assert table.eol == "\r\n"


def test_inserted_lines_in_a_crlf_file_use_crlf() -> None:
    assert _replace("a\r\nb\r\nc\r\n", 1, 1, ["x", "y"]) == "a\r\nx\r\ny\r\nc\r\n"


def test_a_file_without_final_newline_keeps_it_missing() -> None:
    assert _replace("a\nb", 1, 1, ["c"]) == "a\nc"
    assert _replace("a\nb", 2, 0, ["c"]) == "a\nb\nc"
    assert _replace("a\nb", 1, 1, []) == "a"


def test_replacing_in_the_middle_keeps_the_rest() -> None:
    assert _replace("1\n2\n3\n", 1, 1, ["two"]) == "1\ntwo\n3\n"
    assert _replace("", 0, 0, ["x"]) == "x\n"


def test_offsets_count_crlf_terminators() -> None:
    table = LineTable.of("ab\r\ncd\r\nef")
    assert [table.offset(i) for i in range(4)] == [0, 4, 8, 10]


def test_eol_detection_and_conversion() -> None:
    assert detect_eol("a\nb\n") == "\n"
    assert detect_eol("a\r\nb\r\nc\n") == "\r\n"
    assert to_eol("a\nb\r\n", "\r\n") == "a\r\nb\r\n"


_line = st.sampled_from(["a", "b", "", " a", "a "])


@settings(max_examples=300)
@given(
    st.lists(_line, max_size=12),
    st.booleans(),
    st.lists(_line, min_size=1, max_size=3),
    st.integers(0, 12),
    st.booleans(),
)
def test_the_fast_exact_search_agrees_with_the_line_by_line_one(
    lines: list[str], final_newline: bool, pattern: list[str], start: int, eof: bool
) -> None:
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    table = LineTable.of(text)
    start = min(start, table.count)
    fast = table.find(pattern, start, eof)
    slow = seek(LineTable.of(text).lines, pattern, start, eof)
    assert fast == slow
    if fast.index is not None:
        # The offsets remembered by the fast path match the split lines.
        fresh = LineTable.of(text)
        _ = fresh.lines
        assert table.offset(fast.index) == fresh.offset(fast.index)
        end = fast.index + len(pattern)
        assert table.offset(end) == fresh.offset(end)
        assert table.line_range(fast.index, len(pattern)) == fresh.lines[fast.index : end]
