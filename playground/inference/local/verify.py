"""SHA-256 checks of model files, streaming, with a sidecar so a server start
does not re-hash a gigabyte each time."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from playground.inference.local.registry import ModelSpec

CHUNK = 4 << 20  # 4 MiB: large enough that hashing runs near memory speed

Say = Callable[[str], None]
# Told of every step of a long copy or hash: (bytes done, bytes in all).
Listener = Callable[[int, int], None]


class ModelVerificationError(Exception):
    """The file's hash is not the pinned one; the file has been removed."""


class ByteProgress:
    """Prints "label: 45% (500/1117 MB)" at most every ``interval`` seconds."""

    def __init__(
        self,
        label: str,
        total: int,
        out: TextIO | None = None,
        interval: float = 1.0,
        listener: Listener | None = None,
    ):
        self.label, self.total, self.done = label, max(total, 1), 0
        self.out = out if out is not None else sys.stderr
        self.interval = interval
        self.listener = listener
        self._last = 0.0
        self._tty = self.out.isatty()

    def add(self, n: int) -> None:
        self.done += n
        if self.listener is not None:
            self.listener(self.done, self.total)
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._print(end="\r" if self._tty else "\n")

    def finish(self) -> None:
        self._print(end="\n")

    def _print(self, end: str) -> None:
        pct = min(100, 100 * self.done // self.total)
        mb, total = self.done / 1e6, self.total / 1e6
        self.out.write(f"{self.label}: {pct:3d}% ({mb:,.0f}/{total:,.0f} MB){end}")
        self.out.flush()


def sha256_file(path: Path, progress: ByteProgress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            if progress:
                progress.add(len(chunk))
    if progress:
        progress.finish()
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def mark_verified(path: Path, sha256: str) -> None:
    st = path.stat()
    data = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _sidecar(path).write_text(json.dumps(data) + "\n")


def is_marked_verified(path: Path, spec: ModelSpec) -> bool:
    """True when the file is unchanged since it last matched ``spec.sha256``."""
    try:
        data = json.loads(_sidecar(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return bool(
        data.get("sha256") == spec.sha256
        and data.get("size") == st.st_size
        and data.get("mtime_ns") == st.st_mtime_ns
    )


def mismatch_message(spec: ModelSpec, actual: str, source: str) -> str:
    return (
        f"{spec.name}: SHA-256 mismatch for the file from {source}.\n"
        f"  expected {spec.sha256} ({spec.hash_source})\n"
        f"  got      {actual}\n"
        f"The file was deleted and will not be used. Run `python manage.py models fetch "
        f"{spec.name}` again, or pass a known-good copy with --file."
    )


def reject(path: Path, spec: ModelSpec, actual: str, source: str) -> ModelVerificationError:
    """Delete a file that failed verification and return the error to raise."""
    path.unlink(missing_ok=True)
    _sidecar(path).unlink(missing_ok=True)
    return ModelVerificationError(mismatch_message(spec, actual, source))


def verify_file(
    path: Path, spec: ModelSpec, out: TextIO | None = None, listener: Listener | None = None
) -> None:
    """Hash ``path`` fully; on mismatch delete it and raise ModelVerificationError."""
    size = path.stat().st_size
    actual = sha256_file(path, ByteProgress(f"verifying {spec.name}", size, out, listener=listener))
    if actual != spec.sha256:
        raise reject(path, spec, actual, str(path))
    mark_verified(path, actual)


def ensure_verified(path: Path, spec: ModelSpec, out: TextIO | None = None) -> None:
    """Cheap when the sidecar says the unchanged file was already verified."""
    if not is_marked_verified(path, spec):
        verify_file(path, spec, out)


def replace_verified(tmp: Path, final: Path, sha256: str) -> None:
    os.replace(tmp, final)
    mark_verified(final, sha256)
