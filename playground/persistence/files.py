"""The rules every saved set of files obeys: how many, which paths, how big.

Pure (no Django): the save service, the zip importer and the HTTP API all call
``validate_files`` so a file set that is stored anywhere passed the same checks.
The path and text rules themselves are playground/pathrules.py (the edit engine
asks the same ones); the sizes are playground/limits.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from playground.errors import InvalidInputError
from playground.limits import MAX_FILES, MAX_PROJECT_BYTES, MIB
from playground.pathrules import collision_problem, path_problem, text_problem

MAX_TOTAL_BYTES = MAX_PROJECT_BYTES  # sum of the UTF-8 sizes of every file's text


class FilesError(InvalidInputError):
    """A file set that cannot be stored; the message says what to change."""

    code = "files.invalid"
    rule = "invalid"  # which rule: detail.rule on the wire

    def __init__(self, message: str) -> None:
        super().__init__(message, rule=self.rule)


class TooManyFilesError(FilesError):
    rule = "too_many"


class BadPathError(FilesError):
    rule = "bad_path"


class FilesTooLargeError(FilesError):
    rule = "too_large"


def validate_path(path: str) -> str:
    """Return ``path`` if it is a clean relative path, else raise BadPathError.

    The rules live in playground/pathrules.py, shared with the edit engine.
    """
    if (problem := path_problem(path)) is not None:
        raise BadPathError(problem)
    return path


def validate_files(files: Mapping[str, str]) -> dict[str, str]:
    """Check a whole file set (count, every path, total size); return a plain dict."""
    if not isinstance(files, Mapping):
        raise FilesError("Files must be an object mapping each path to its text.")
    if len(files) > MAX_FILES:
        raise TooManyFilesError(
            f"{len(files)} files is over the limit of {MAX_FILES}; remove some files."
        )
    total = 0
    for path, text in files.items():
        validate_path(path)
        if not isinstance(text, str):
            raise FilesError(f"The content of {path!r} must be text.")
        if (problem := text_problem(path, text)) is not None:
            raise FilesError(problem)
        total += len(text.encode("utf-8", "surrogatepass"))
    if (problem := collision_problem(files)) is not None:
        raise BadPathError(problem)
    if total > MAX_TOTAL_BYTES:
        raise FilesTooLargeError(
            f"The files add up to {total} bytes; the limit is {MAX_TOTAL_BYTES} bytes "
            f"({MAX_TOTAL_BYTES // MIB} MiB). Remove or shorten some files."
        )
    return dict(files)
