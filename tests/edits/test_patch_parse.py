from __future__ import annotations

from playground.edits.patch_parse import FileOp, Item, ParseError, PatchParser, is_header


def _parse(*lines: str) -> list[Item]:
    parser = PatchParser()
    items: list[Item] = []
    for line in lines:
        items += parser.feed(line)
    return items + ([] if parser.done else parser.close())


def test_an_operation_is_complete_when_the_next_header_arrives() -> None:
    parser = PatchParser()
    assert parser.feed("*** Add File: a.txt") == []
    assert parser.feed("+hello") == []
    items = parser.feed("*** Update File: b.txt")
    assert items == [FileOp("add", "a.txt", add_lines=["hello"])]


def test_a_delete_is_complete_at_its_header() -> None:
    assert PatchParser().feed("*** Delete File: gone.txt") == [FileOp("delete", "gone.txt")]


def test_it_reads_move_anchors_and_end_of_file() -> None:
    (op,) = _parse(
        "*** Update File: a.py",
        "*** Move to: b.py",
        "@@ class A:",
        "@@     def f(self):",
        " ctx",
        "-old",
        "+new",
        "*** End of File",
        "*** End Patch",
    )
    assert isinstance(op, FileOp)
    assert op.move_to == "b.py"
    (chunk,) = op.chunks
    assert chunk.anchors == ["class A:", "def f(self):"]
    assert (chunk.old, chunk.new, chunk.eof) == (["ctx", "old"], ["ctx", "new"], True)


def test_a_first_chunk_may_omit_its_at_at_line() -> None:
    (op,) = _parse("*** Update File: a", "-x", "+y", "@@", "-z", "+w")
    assert isinstance(op, FileOp)
    assert [(c.old, c.new) for c in op.chunks] == [(["x"], ["y"]), (["z"], ["w"])]


def test_an_empty_line_is_empty_context() -> None:
    (op,) = _parse("*** Update File: a", "@@", " a", "", "-b")
    assert isinstance(op, FileOp)
    assert op.chunks[0].old == ["a", "", "b"]


def test_unified_diff_range_headers_are_not_anchors() -> None:
    (op,) = _parse("*** Update File: a", "@@ -1,2 +1,2 @@", "-x", "+y")
    assert isinstance(op, FileOp)
    assert op.chunks[0].anchors == []


def test_an_invalid_header_is_a_parse_error_and_skipped_until_the_next_one() -> None:
    items = _parse("*** Frobnicate File: foo", "+junk", "*** Delete File: a")
    assert isinstance(items[0], ParseError)
    assert "Frobnicate" in items[0].reason
    assert items[1:] == [FileOp("delete", "a")]


def test_an_empty_envelope_is_an_error() -> None:
    (error,) = _parse("*** End Patch")
    assert isinstance(error, ParseError)
    assert "no file operations" in error.reason


def test_blank_lines_inside_an_add_body_survive_only_between_plus_lines() -> None:
    (op,) = _parse("*** Add File: a", "+one", "", "+two", "", "*** End Patch")
    assert isinstance(op, FileOp)
    assert op.add_lines == ["one", "", "two"]


def test_headers_are_recognised_with_padding() -> None:
    assert is_header("  *** Update File: x.py ")
    assert not is_header("*** Frobnicate File: x")
