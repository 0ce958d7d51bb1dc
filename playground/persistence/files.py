"""The rules every saved set of files obeys: how many, which paths, how big.

Pure (no Django): the save service, the zip importer and the HTTP API all call
``validate_files`` so a file set that is stored anywhere passed the same checks.
"""

from __future__ import annotations

from collections.abc import Mapping

from playground.errors import InvalidInputError
from playground.protocol import MAX_FILES, MAX_PATH

MAX_TOTAL_BYTES = 2 * 1024 * 1024  # sum of the UTF-8 sizes of every file's text


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
    """Return ``path`` if it is a clean relative path, else raise BadPathError."""
    if not isinstance(path, str) or not path:
        raise BadPathError("A file path is empty; give every file a name.")
    if len(path) > MAX_PATH:
        raise BadPathError(f"Path {path[:40]!r}… is over {MAX_PATH} characters; shorten it.")
    if "\\" in path:
        raise BadPathError(f"Path {path!r} contains a backslash; use / between folders.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise BadPathError(f"Path {path!r} contains a control character (or NUL); remove it.")
    if path.startswith("/"):
        raise BadPathError(f"Path {path!r} is absolute; make it relative to the project.")
    if len(path) >= 2 and path[1] == ":" and path[0].isalpha():
        raise BadPathError(f"Path {path!r} starts with a drive letter; make it relative.")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise BadPathError(
                f"Path {path!r} has an empty, '.' or '..' segment; files must stay "
                "inside the project."
            )
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
        if "\x00" in text:
            # PostgreSQL cannot store NUL in text or jsonb; it also marks a binary file.
            raise FilesError(f"{path!r} contains a NUL character; only text files can be saved.")
        total += len(text.encode("utf-8", "surrogatepass"))
    if total > MAX_TOTAL_BYTES:
        raise FilesTooLargeError(
            f"The files add up to {total} bytes; the limit is {MAX_TOTAL_BYTES} bytes "
            "(2 MB). Remove or shorten some files."
        )
    return dict(files)
