"""`python manage.py models list|fetch|verify|use|serve`: manage the embedded local models.

``serve`` runs one supervised llama.cpp server on a fixed loopback port for several
Flint processes (scripts/run-scaled.sh): one copy of the model in memory, and each
process talks to it as an OpenAI-compatible endpoint.
"""

from __future__ import annotations

import os
import shlex
import signal
import threading
from pathlib import Path
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from playground.inference import build_backend
from playground.inference.local.backend import CRASH_LOOP, LocalModelBackend
from playground.inference.local.fetch import FetchError, fetch
from playground.inference.local.paths import choose_model, chosen_model, model_path
from playground.inference.local.registry import MODELS, UnknownModelError, get_spec
from playground.inference.local.server import LocalModelServer
from playground.inference.local.verify import (
    ModelVerificationError,
    ensure_verified,
    is_marked_verified,
    verify_file,
)


class Command(BaseCommand):
    help = "List, fetch, verify and choose the local models Flint runs without an API key."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="offered models and their state")
        p = sub.add_parser("fetch", help="download/assemble and verify a model")
        p.add_argument("name", nargs="?", help="default: the model in use")
        p.add_argument("--file", type=Path, help="use this local GGUF file (verified first)")
        p.add_argument("--no-hub", action="store_true", help="skip the model hub")
        p = sub.add_parser("verify", help="re-hash a fetched model (a mismatch deletes it)")
        p.add_argument("name")
        p = sub.add_parser("use", help="make NAME the local model (var/local-model.json)")
        p.add_argument("name")
        p = sub.add_parser(
            "serve", help="run the model's llama.cpp server for several Flint processes"
        )
        p.add_argument("name", nargs="?", help="default: the model in use")
        p.add_argument("--port", type=int, required=True, help="loopback port to listen on")
        p.add_argument(
            "--env-file",
            type=Path,
            help="once ready, write here the FLINT_* settings that point a Flint process at it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "list":
                self._list()
            elif action == "fetch":
                name = options["name"] or os.environ.get("FLINT_LOCAL_MODEL") or chosen_model()
                spec = get_spec(name)
                if not options["file"] and is_marked_verified(model_path(name), spec):
                    self.stdout.write(f"{name}: already fetched and verified.")
                    return
                use_hub = False if options["no_hub"] else None
                fetch(spec, file=options["file"], use_hub=use_hub, out=self._raw_stderr())
            elif action == "verify":
                self._verify(options["name"])
            elif action == "use":
                self._use(options["name"])
            elif action == "serve":
                self._serve(options["name"], options["port"], options["env_file"])
        except (UnknownModelError, FetchError, ModelVerificationError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {exc.filename}") from None

    def _raw_stderr(self) -> TextIO:
        # Progress lines end in "\r" on a terminal; OutputWrapper would append "\n".
        return cast(TextIO, self.stderr._out)

    def _list(self) -> None:
        try:
            current = chosen_model()
        except ValueError as exc:
            self.stderr.write(str(exc))
            current = ""
        for spec in MODELS.values():
            path = model_path(spec.name)
            if not path.exists():
                state = "not fetched"
            elif is_marked_verified(path, spec):
                state = "fetched, verified"
            else:
                state = "fetched, NOT verified (run `models verify`)"
            mark = "*" if spec.name == current else " "
            self.stdout.write(
                f"{mark} {spec.name:<20} {spec.size / 1e6:>6,.0f} MB  {state}\n"
                f"    {spec.description}\n    sha256 {spec.sha256} [{spec.hash_source}]"
            )
        source = "FLINT_LOCAL_MODEL" if os.environ.get("FLINT_LOCAL_MODEL") else "choice file"
        self.stdout.write(f"* = in use ({source} or default)")

    def _verify(self, name: str) -> None:
        spec = get_spec(name)
        path = model_path(name)
        if not path.exists():
            raise CommandError(f"{name} is not fetched; run `python manage.py models fetch {name}`")
        verify_file(path, spec, out=self._raw_stderr())
        self.stdout.write(self.style.SUCCESS(f"{name}: SHA-256 matches ({spec.hash_source})."))

    def _use(self, name: str) -> None:
        written = choose_model(name)
        self.stdout.write(self.style.SUCCESS(f"Local model set to {name} ({written})."))
        if not model_path(name).exists():
            self.stdout.write(f"It is not fetched yet: python manage.py models fetch {name}")
        if os.environ.get("FLINT_LOCAL_MODEL"):
            self.stdout.write(
                self.style.WARNING("FLINT_LOCAL_MODEL is set in this environment and wins.")
            )
        self.stdout.write(
            "Restart the server to switch the default; a playground can also choose its "
            "model in the page (no restart)."
        )

    def _serve(self, name: str | None, port: int, env_file: Path | None) -> None:
        """Run the server until TERM or INT; its supervisor restarts it if it dies."""
        local = {**settings.FLINT_LOCAL_BACKEND, "MODEL": name or chosen_model()}
        backend = build_backend(local)
        assert isinstance(backend, LocalModelBackend)
        model = backend.info.model
        path = model_path(model)
        if not path.exists():
            raise CommandError(
                f"{model} is not fetched; run `python manage.py models fetch {model}`"
            )
        ensure_verified(path, get_spec(model), out=self._raw_stderr())
        server = LocalModelServer(
            backend.server_config(path),
            log_path=Path(settings.VAR_DIR) / "logs" / f"llama-server-{port}.log",
            out=self._raw_stderr(),
            ready_timeout=backend.load_timeout,
            port=port,
        )
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        server.start()
        try:
            while not server.wait_ready(0.2):
                if done.is_set():
                    return
                if server.failures >= CRASH_LOOP:
                    raise CommandError(f"the llama.cpp server keeps failing: {server.last_error}")
            if env_file is not None:
                self._write_env(env_file, server, backend)
            self.stdout.write(f"{model} ready on {server.base_url}/v1 (pid {server.pid})")
            done.wait()
        finally:
            server.stop()

    def _write_env(self, path: Path, server: LocalModelServer, backend: LocalModelBackend) -> None:
        """The endpoint settings under which a Flint process treats the shared server as
        its own local model would: the local model's edit format, answer length, window
        and timeout, and one generation at a time (llama-cpp-python's server interrupts
        a running stream for a new one; with REDIS_URL the cap holds across processes)."""
        local = settings.FLINT_LOCAL_BACKEND
        values = {
            "FLINT_BASE_URL": f"{server.base_url}/v1",
            "FLINT_MODEL": backend.info.model,
            "FLINT_EDIT_FORMAT": backend.info.edit_format,
            "FLINT_MAX_TOKENS": str(local["MAX_TOKENS"]),
            "FLINT_TIMEOUT": str(local["TIMEOUT"]),
            "FLINT_CONTEXT_TOKENS": str(backend.context_tokens),
            "FLINT_MAX_CONCURRENT": "1",
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items()))
        os.replace(tmp, path)
