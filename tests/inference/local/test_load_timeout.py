"""FLINT_LOCAL_LOAD_TIMEOUT above the supervisor's own 600 s default takes effect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.inference.local import backend as backend_module
from playground.inference.local.backend import LocalModelBackend
from playground.inference.local.server import (
    LocalModelServer,
    ServerConfig,
    shared_server,
    stop_shared,
)


@pytest.fixture(autouse=True)
def _no_shared_server() -> Iterator[None]:
    stop_shared()
    yield
    stop_shared()


def test_the_backend_gives_the_supervisor_its_load_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Until this was passed on, the supervisor killed a load after 600 s while the
    # backend went on waiting for FLINT_LOCAL_LOAD_TIMEOUT, and restarted it forever.
    monkeypatch.setattr(backend_module, "ensure_verified", lambda path, spec: None)
    monkeypatch.setattr(backend_module, "var_dir", lambda: tmp_path)
    monkeypatch.setattr(LocalModelServer, "start", lambda self: None)
    backend = LocalModelBackend(model="smollm2-135m", load_timeout=1800.0)
    server = backend._start_server(tmp_path / "model.gguf")
    assert server.ready_timeout == 1800.0


def test_a_shared_server_keeps_the_longest_timeout_asked_for(tmp_path: Path) -> None:
    config = ServerConfig(model_path=tmp_path / "m.gguf", alias="m")
    log = tmp_path / "log"
    assert shared_server(config, log_path=log).ready_timeout == 600.0
    assert shared_server(config, log_path=log, ready_timeout=900.0).ready_timeout == 900.0
    assert shared_server(config, log_path=log, ready_timeout=60.0).ready_timeout == 900.0
