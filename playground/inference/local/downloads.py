"""Downloads of local models started from the page, with progress for every socket.

One download per model at a time, in a thread (fetch.py blocks: the hub client, pip,
hashing). Its events (``started``, ``progress`` at most every PROGRESS_EVERY seconds,
``done``, ``failed``) are handed to the listener given to ``start`` on the event loop
that started it; a second ``start`` of the same model while it runs joins it (no
second download). At most MAX_PARALLEL downloads run at once: each writes up to a GB
to the same disk.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playground.errors import FlintError
from playground.inference.local.fetch import FetchError, fetch
from playground.inference.local.registry import get_spec
from playground.inference.local.verify import ModelVerificationError

PROGRESS_EVERY = 0.25  # seconds between progress events of one download
MAX_PARALLEL = 1

# (event, download): event is "started", "progress", "done" or "failed".
Listener = Callable[[str, "Download"], None]


class DownloadBusyError(FlintError):
    """Another model is being downloaded; one at a time on this machine."""

    code = "model.download_busy"
    retryable_default = True

    def __init__(self, running: str) -> None:
        super().__init__(
            f"The local model {running!r} is being downloaded; wait until it is done, then "
            "download this one.",
            running=running,
        )


@dataclass
class Download:
    name: str
    total: int
    done: int = 0
    stage: str = "hub"  # "hub", "wheels", "file" or "verify" (playground/inference/local/fetch.py)
    note: str = ""  # the last sentence about the source ("Falling back to ...")
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: bool = False
    _listeners: list[tuple[asyncio.AbstractEventLoop, Listener]] = field(default_factory=list)

    def as_fields(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "note": self.note,
            "elapsed": round(time.monotonic() - self.started, 1),
        }


_running: dict[str, Download] = {}
_lock = threading.Lock()


def progress(name: str) -> Download | None:
    """The running download of ``name``, if any."""
    with _lock:
        return _running.get(name)


def start(name: str, listener: Listener, *, use_hub: bool | None = None) -> Download:
    """Download ``name`` (or join its running download); ``listener`` hears its events on
    the calling event loop. Raises DownloadBusyError when another model downloads."""
    spec = get_spec(name)
    loop = asyncio.get_running_loop()
    with _lock:
        running = _running.get(name)
        if running is not None:
            running._listeners.append((loop, listener))
            return running
        if len(_running) >= MAX_PARALLEL:
            raise DownloadBusyError(next(iter(_running)))
        download = _running[name] = Download(name, spec.size, _listeners=[(loop, listener)])
    _tell(download, "started")
    thread = threading.Thread(
        target=_run, args=(download, use_hub), name=f"download-{name}", daemon=True
    )
    thread.start()
    return download


def _tell(download: Download, event: str) -> None:
    with _lock:
        listeners = list(download._listeners)
    for loop, listener in listeners:
        try:
            loop.call_soon_threadsafe(listener, event, download)
        except RuntimeError:  # that loop has closed (its server stopped)
            continue


def _run(download: Download, use_hub: bool | None) -> None:
    last = 0.0

    def on_progress(stage: str, done: int, total: int) -> None:
        nonlocal last
        download.stage, download.done, download.total = stage, done, max(total, 1)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY:
            last = now
            _tell(download, "progress")

    def on_stage(stage: str, text: str) -> None:
        download.stage, download.note, download.done = stage, text, 0
        _tell(download, "progress")

    try:
        fetch(
            get_spec(download.name),
            use_hub=use_hub,
            out=io.StringIO(),  # the page shows the progress; nothing for a terminal
            on_progress=on_progress,
            on_stage=on_stage,
        )
    except (FetchError, ModelVerificationError, OSError) as exc:
        download.error = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    except Exception as exc:  # never let a download thread die without a word
        download.error = f"the download failed: {exc!r}"
    download.finished = True
    with _lock:
        _running.pop(download.name, None)
    _tell(download, "failed" if download.error else "done")
