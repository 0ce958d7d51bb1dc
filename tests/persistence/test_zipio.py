"""Zip export and import: round trips with non-ASCII, and hostile archives refused."""

from __future__ import annotations

import io
import struct
import zipfile

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from playground import persistence
from playground.limits import MAX_IMPORT_BYTES
from playground.models import Playground, Revision
from playground.persistence.ownership import OWNER_COOKIE
from playground.persistence.zipio import (
    ZipImportError,
    files_from_upload,
    files_from_zip,
    files_to_zip,
)

UNICODE_FILES = {
    "données/é.py": "# 你好世界 🎉🐍\nprint('ça marche — 日本語')\n",
    "index.html": "<h1>Ünïcödé ✓</h1>\n",
    "日本/メモ.txt": "絵文字 👩‍💻\n",
}


def make_zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buf.getvalue()


def refused(data: bytes, words: str) -> None:
    with pytest.raises(ZipImportError) as info:
        files_from_zip(data)
    assert words in str(info.value), str(info.value)


def test_a_zip_round_trip_keeps_non_ascii_names_and_contents() -> None:
    data = files_to_zip(UNICODE_FILES)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert all(i.flag_bits & 0x800 for i in zf.infolist() if not i.filename.isascii())
    assert files_from_zip(data) == UNICODE_FILES


def test_utf8_names_without_the_utf8_flag_are_read_as_utf8() -> None:
    # What many zip tools write: UTF-8 bytes, flag bit 11 unset.
    data = make_zip({"xx.py": b"ok\n"}).replace(b"xx.py", "é.py".encode())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert not zf.infolist()[0].flag_bits & 0x800
    assert files_from_zip(data) == {"é.py": "ok\n"}


def test_folders_and_mac_junk_are_skipped() -> None:
    data = make_zip(
        {"src/": b"", "src/a.js": b"1", "__MACOSX/src/._a.js": b"\0", ".DS_Store": b"\0"}
    )
    assert files_from_zip(data) == {"src/a.js": "1"}


def test_a_zip_bomb_is_refused_by_its_declared_size() -> None:
    refused(make_zip({"bomb.txt": b"0" * (3 * 1024 * 1024)}), "limit is 2097152")


def test_a_zip_bomb_is_refused_by_its_compression_ratio() -> None:
    refused(make_zip({"bomb.txt": b"\0" * (1024 * 1024)}), "zip bomb")


def _lie_about_size(data: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size in the local and central headers."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    out[local + 22 : local + 26] = struct.pack("<I", size)
    central = out.find(b"PK\x01\x02")
    out[central + 24 : central + 28] = struct.pack("<I", size)
    return bytes(out)


def test_an_entry_that_inflates_past_its_declared_size_is_refused() -> None:
    honest = make_zip({"a.txt": bytes(range(32, 127)) * 4000})  # ~380 kB, compresses modestly
    refused(_lie_about_size(honest, 1000), "a.txt")


@pytest.mark.parametrize(
    "name",
    ["../evil.py", "a/../../evil.py", "/etc/passwd", "C:/Windows/x.py", "..\\evil.py", "a/./b.py"],
)
def test_traversal_names_are_refused(name: str) -> None:
    refused(make_zip({name: b"x"}), "Refusing the archive")


def test_too_many_files_are_refused() -> None:
    refused(make_zip({f"f{i}.txt": b"x" for i in range(51)}), "limit is 50")


def test_non_utf8_content_is_refused() -> None:
    refused(make_zip({"latin1.txt": "café".encode("latin-1")}), "not UTF-8")


def test_a_file_that_is_not_a_zip_is_refused() -> None:
    refused(b"PK\x03\x04 this is not really a zip", "not a readable zip")


def test_several_plain_files_import_without_a_zip() -> None:
    files = files_from_upload([("a.py", "é = 1\n".encode()), ("b.css", b"p{}")])
    assert files == {"a.py": "é = 1\n", "b.css": "p{}"}
    with pytest.raises(ZipImportError, match="not UTF-8"):
        files_from_upload([("a.py", b"\xff\xfe")])
    with pytest.raises(ZipImportError, match="Nothing was uploaded"):
        files_from_upload([])


# --- the HTTP side ------------------------------------------------------------------


@pytest.mark.django_db
def test_export_then_import_round_trips_through_http(client: Client) -> None:
    resp = client.get("/")
    token = resp.cookies[OWNER_COOKIE].value
    pid = resp["Location"].strip("/").split("/")[-1]
    persistence.playground_save(pid, UNICODE_FILES, base_version=1)

    export = client.get(f"/p/{pid}/export.zip")
    assert export.status_code == 200 and export["Content-Type"] == "application/zip"
    assert export["Content-Disposition"].startswith("attachment;")

    newcomer = Client()
    upload = SimpleUploadedFile("mon projet.zip", export.content, "application/zip")
    resp = newcomer.post("/import", {"files": upload})
    assert resp.status_code == 302
    new = Playground.objects.get(id=resp["Location"].strip("/").split("/")[-1])
    assert new.files == UNICODE_FILES and new.title == "mon projet" and new.template == "web"
    assert Revision.objects.get(playground=new, number=1).author == "import"
    new_token = resp.cookies[OWNER_COOKIE].value
    assert persistence.is_owner(new, new_token) and not persistence.is_owner(new, token)


@pytest.mark.django_db
def test_import_of_python_files_makes_a_python_playground(client: Client) -> None:
    uploads = [SimpleUploadedFile("main.py", b"print(1)\n"), SimpleUploadedFile("util.py", b"")]
    resp = client.post("/import", {"files": uploads}, headers={"Accept": "application/json"})
    body = orjson.loads(resp.content)
    assert resp.status_code == 201 and body["url"].endswith(f"/p/{body['id']}/")
    assert Playground.objects.get(id=body["id"]).template == "python"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("upload", "status", "words"),
    [
        (lambda: make_zip({"../x.py": b"x"}), 400, "Refusing the archive"),
        (lambda: make_zip({"bomb": b"\0" * (3 * 1024 * 1024)}), 400, "2 MiB"),
        (
            lambda: b"PK\x03\x04" + b"\0" * (MAX_IMPORT_BYTES + 10),
            413,
            f"over {MAX_IMPORT_BYTES} bytes",
        ),
    ],
)
def test_bad_uploads_get_a_clear_error_as_json_or_as_the_form(
    client: Client, upload: object, status: int, words: str
) -> None:
    data = upload()  # type: ignore[operator]
    as_json = client.post(
        "/import",
        {"files": SimpleUploadedFile("p.zip", data)},
        headers={"Accept": "application/json"},
    )
    err = orjson.loads(as_json.content)
    assert as_json.status_code == status and err["type"] == "error" and words in err["message"]
    as_form = client.post("/import", {"files": SimpleUploadedFile("p.zip", data)})
    assert as_form.status_code == status and words in as_form.content.decode()
    assert not Playground.objects.exists()


@pytest.mark.django_db
def test_uploading_more_than_fifty_files_is_refused(client: Client) -> None:
    uploads = [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(60)]
    resp = client.post("/import", {"files": uploads}, headers={"Accept": "application/json"})
    assert resp.status_code == 400 and "limit is 50" in orjson.loads(resp.content)["message"]


@pytest.mark.django_db
def test_the_import_form_works_without_javascript(client: Client) -> None:
    html = client.get("/import").content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="csrfmiddlewaretoken"' in html


# --- issue #12: bombs that lie about their size --------------------------------------

DATA = __import__("pathlib").Path(__file__).parents[1] / "data"


def _peak_while(call: object) -> tuple[int, BaseException | None]:
    import tracemalloc

    tracemalloc.start()
    try:
        call()  # type: ignore[operator]
        raised = None
    except BaseException as exc:
        raised = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, raised


@pytest.mark.parametrize("name", ["bomb-bzip2.zip", "bomb-lzma.zip"])
def test_a_bzip2_or_lzma_bomb_is_refused_without_inflating_it(name: str) -> None:
    data = (DATA / name).read_bytes()  # 1 GB / 512 MB of zeros declared as 1 KB
    peak, raised = _peak_while(lambda: files_from_zip(data))
    assert isinstance(raised, ZipImportError) and "only stored and deflate" in str(raised)
    assert peak < 5 * 1024 * 1024, f"{peak} bytes allocated"


def test_a_deflate_entry_lying_about_its_size_is_cut_off_at_the_limit() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.html", b"\0" * (64 * 1024 * 1024))
    data = bytearray(buf.getvalue())
    struct.pack_into("<I", data, 22, 1024)  # local header: uncompressed size
    struct.pack_into("<I", data, data.index(b"PK\x01\x02") + 24, 1024)  # central one
    peak, raised = _peak_while(lambda: files_from_zip(bytes(data)))
    assert isinstance(raised, ZipImportError)
    assert peak < 5 * 1024 * 1024, f"{peak} bytes allocated"


def test_an_encrypted_entry_is_refused_by_name() -> None:
    data = bytearray(make_zip({"a.txt": b"x"}))
    struct.pack_into("<H", data, 6, 1)  # local header flag bits: encrypted
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, 1)
    with pytest.raises(ZipImportError, match="encrypted"):
        files_from_zip(bytes(data))
