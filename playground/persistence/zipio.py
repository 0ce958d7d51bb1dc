"""Zip export and import of a playground's files.

Pure (stdlib zipfile, no Django). Import treats the archive as hostile: every
limit is checked against the sizes the archive declares *and* against the
bytes actually inflated, so a lying header cannot get past either; paths go
through the same rules as any save (persistence/files.py, playground/pathrules.py).

Only stored and deflated entries are read. zipfile inflates deflate in steps
of the size asked for, but bzip2 and LZMA in whole blocks whatever is asked:
one read of a 1 KB-declared bzip2 entry could inflate gigabytes before any
count could stop it. No tool Flint's users export from needs them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from playground.limits import MAX_FILES, MIB
from playground.persistence.files import MAX_TOTAL_BYTES, FilesError, validate_files, validate_path

MAX_RATIO = 100  # uncompressed / compressed, per entry, above SMALL_ENTRY bytes
SMALL_ENTRY = 64 * 1024  # tiny files may compress very well; the total cap covers them
MAX_ENTRIES = 4 * MAX_FILES  # directories and skipped junk included
_CHUNK = 64 * 1024
_UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8 (APPNOTE 4.4.4)
_ENCRYPTED_FLAG = 0x1  # general purpose bit 0
# Methods whose reads are bounded by the size asked for (zipfile passes
# max_length to zlib); every other one could inflate without bound per read.
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db")


class ZipImportError(FilesError):
    """An archive that cannot be imported; the message says why."""


def files_to_zip(files: Mapping[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(files):
            # zipfile sets the UTF-8 flag itself for non-ASCII names.
            zf.writestr(path, files[path].encode("utf-8"))
    return buf.getvalue()


def files_from_zip(data: bytes) -> dict[str, str]:
    """The files in a zip archive, or ZipImportError naming the first problem."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ZipImportError(f"The upload is not a readable zip archive ({exc}).") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ZipImportError(
                f"The archive has {len(infos)} entries; at most {MAX_FILES} files can be imported."
            )
        entries = [i for i in infos if not i.is_dir() and not _is_junk(_name(i))]
        if len(entries) > MAX_FILES:
            raise ZipImportError(
                f"The archive has {len(entries)} files; the limit is {MAX_FILES}. Remove some."
            )
        declared = sum(i.file_size for i in entries)
        if declared > MAX_TOTAL_BYTES:
            raise ZipImportError(
                f"The archive unpacks to {declared} bytes; the limit is {MAX_TOTAL_BYTES} "
                f"({MAX_TOTAL_BYTES // MIB} MiB)."
            )
        for info in entries:
            _check_method(info)
        files: dict[str, str] = {}
        budget = MAX_TOTAL_BYTES
        for info in entries:
            path = _checked_path(_name(info))
            raw = _read_capped(zf, info, budget)
            budget -= len(raw)
            files[path] = _decode(path, raw)
    return validate_files(files)


def _name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    # Without the flag zipfile decodes names as CP437, but many tools (macOS,
    # Linux zip) write UTF-8 anyway: prefer UTF-8 when the bytes are valid UTF-8.
    raw = info.filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.filename


def _is_junk(name: str) -> bool:
    return name.startswith(_JUNK[0]) or name.rsplit("/", 1)[-1] in _JUNK[1:]


def _checked_path(name: str) -> str:
    try:
        return validate_path(name)
    except FilesError as exc:
        raise ZipImportError(f"Refusing the archive: {exc}") from None


def _check_method(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise ZipImportError(f"{info.filename!r} is encrypted; export it without a password.")
    if info.compress_type not in _METHODS:
        raise ZipImportError(
            f"{info.filename!r} is compressed with method {info.compress_type}; only stored "
            "and deflate entries can be imported (the default of every zip tool)."
        )


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    if info.file_size > SMALL_ENTRY and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ZipImportError(
            f"{info.filename!r} inflates {info.file_size // max(info.compress_size, 1)}x; "
            "that looks like a zip bomb, so the archive is refused."
        )
    # Count what is really inflated: the declared size may be a lie. Each read
    # inflates at most _CHUNK bytes (deflate honours max_length), so the most
    # ever held is the limit plus one chunk.
    limit = min(info.file_size, budget)
    out = bytearray()
    try:
        with zf.open(info) as stream:
            while chunk := stream.read(min(_CHUNK, limit + 1 - len(out))):
                out += chunk
                if len(out) > limit:
                    raise ZipImportError(
                        f"{info.filename!r} inflates past its declared size or past the "
                        f"{MAX_TOTAL_BYTES}-byte total; the archive is refused."
                    )
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError) as exc:
        raise ZipImportError(f"Cannot read {info.filename!r} from the archive ({exc}).") from None
    return bytes(out)


def _decode(path: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ZipImportError(
            f"{path!r} is not UTF-8 text (byte {exc.start}); only text files can be imported."
        ) from None


def files_from_upload(items: list[tuple[str, bytes]]) -> dict[str, str]:
    """One uploaded .zip, or several plain text files (named by their file names)."""
    if not items:
        raise ZipImportError("Nothing was uploaded; choose a .zip or some text files.")
    if len(items) == 1 and (
        items[0][0].lower().endswith(".zip") or items[0][1][:4] == b"PK\x03\x04"
    ):
        return files_from_zip(items[0][1])
    if len(items) > MAX_FILES:
        raise ZipImportError(f"{len(items)} files is over the limit of {MAX_FILES}.")
    files: dict[str, str] = {}
    for name, raw in items:
        path = _checked_path(name)
        if path in files:
            raise ZipImportError(f"Two uploaded files are both named {path!r}; rename one.")
        files[path] = _decode(path, raw)
    try:
        return validate_files(files)
    except FilesError as exc:
        raise ZipImportError(str(exc)) from None
