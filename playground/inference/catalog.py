"""Which models a playground can use, and the backend setting each one runs with.

A model is named on the wire by an id with its source: ``endpoint:<model>`` for a
model of the configured OpenAI-compatible endpoint (``FLINT_BASE_URL``; the list is
that endpoint's ``GET /models``), ``local:<name>`` for a model of the local registry
(playground/inference/local/registry.py), run by the supervised llama.cpp server.
A playground keeps its choice (persistence/choice.py); no choice, or a choice this
server cannot honour any more (made against another endpoint, a model the registry
dropped), means the configured default (``FLINT_BACKEND``).

Each id gets its own backend (playground/inference/__init__.py): the endpoint's
setting with ``MODEL`` replaced, or ``FLINT_LOCAL_BACKEND`` with ``MODEL`` replaced.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Literal

import openai
from django.conf import settings

from playground.errors import InvalidInputError
from playground.inference.local import downloads
from playground.inference.local.paths import chosen_model, model_path, var_dir
from playground.inference.local.registry import MODELS
from playground.inference.local.verify import is_marked_verified

LOCAL = "local:"
ENDPOINT = "endpoint:"
LIST_TTL = 30.0  # seconds an endpoint's model list is reused
LIST_ERROR_TTL = 5.0  # ... and a failure to read it
LIST_TIMEOUT = 5.0

Source = Literal["local", "endpoint"]


class UnknownModelError(InvalidInputError):
    code = "model.unknown"


class WrongEndpointError(InvalidInputError):
    code = "model.wrong_endpoint"


class NotDownloadableError(InvalidInputError):
    code = "model.not_downloadable"


@dataclass(frozen=True, slots=True)
class Choice:
    """A model as a playground keeps it: its id, and the endpoint it was listed by."""

    id: str
    endpoint: str = ""  # for endpoint models: the endpoint URL (no credentials)

    @property
    def source(self) -> Source:
        return "local" if self.id.startswith(LOCAL) else "endpoint"

    @property
    def name(self) -> str:
        return self.id.split(":", 1)[1]


# --- the configured endpoint ------------------------------------------------------------


def _remote() -> dict[str, Any] | None:
    backend: dict[str, Any] = settings.FLINT_BACKEND
    return None if str(backend.get("BACKEND", "")).endswith("LocalModelBackend") else backend


def endpoint_url() -> str | None:
    """The configured endpoint's base URL as it may be shown (no user, password or query)."""
    remote = _remote()
    if remote is None or not remote.get("BASE_URL"):
        return None
    return display_url(str(remote["BASE_URL"]))


def display_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def default_choice() -> Choice:
    """The configured model (FLINT_BACKEND) as a choice."""
    remote = _remote()
    if remote is not None:
        return Choice(ENDPOINT + str(remote.get("MODEL") or ""), endpoint_url() or "")
    local: dict[str, Any] = settings.FLINT_BACKEND
    return Choice(LOCAL + str(local.get("MODEL") or _chosen_local()))


_chosen: dict[str, str] = {}


def _chosen_local() -> str:
    # `models use` writes a file the configured backend reads once, when it is built
    # (a change needs a restart, as the command says): read it once here too, not per turn.
    key = str(var_dir())
    if key not in _chosen:
        _chosen[key] = chosen_model()
    return _chosen[key]


def effective(model: str, endpoint: str) -> tuple[Choice, str | None]:
    """What a stored choice means on this server now: (the choice, a note if it fell back)."""
    if not model:
        return default_choice(), None
    choice = Choice(model, endpoint)
    if choice.source == "local":
        if choice.name in MODELS:
            return Choice(model), None
        note = f"The local model {choice.name!r} is not offered any more; using the default."
        return default_choice(), note
    here = endpoint_url()
    if here is not None and endpoint == here:
        return choice, None
    note = (
        f"This playground chose {choice.name!r} from {endpoint or 'another endpoint'}, "
        "which this server does not use; using the default."
    )
    return default_choice(), note


def backend_key(choice: Choice) -> str:
    """The key of ``choice``'s backend: "" for the configured default, else the id."""
    return "" if choice == default_choice() else choice.id


def backend_setting(model_id: str) -> dict[str, Any]:
    """The backend setting (as FLINT_BACKEND is written) that serves ``model_id``."""
    if not model_id:
        return dict(settings.FLINT_BACKEND)
    choice = Choice(model_id)
    if choice.source == "local":
        return {**settings.FLINT_LOCAL_BACKEND, "MODEL": choice.name}
    remote = _remote()
    if remote is None:  # effective() never lets this through; a plain mistake otherwise
        raise WrongEndpointError("No model endpoint is configured (FLINT_BASE_URL).")
    return {**remote, "MODEL": choice.name}


# --- validating a choice from the page ------------------------------------------------------


async def validate(model_id: str, endpoint: str | None) -> Choice:
    """The choice ``model_id`` names, if this server can run it; raises the model.* errors."""
    source, _, name = model_id.partition(":")
    if source == "local" and name:
        if name not in MODELS:
            offered = ", ".join(LOCAL + n for n in MODELS)
            raise UnknownModelError(
                f"There is no local model {name!r}. The local models are: {offered}.",
                model=model_id,
            )
        return Choice(model_id)
    if source != "endpoint" or not name:
        raise UnknownModelError(
            f"{model_id!r} is not a model id: ids are local:<name> or endpoint:<model>, "
            "as models.listed gives them.",
            model=model_id,
        )
    here = endpoint_url()
    if here is None or (endpoint is not None and display_url(endpoint) != here):
        where = here or "no endpoint (FLINT_BASE_URL is not set)"
        raise WrongEndpointError(
            f"{name!r} was listed by {endpoint or 'an endpoint'}, but this server uses {where}. "
            "Reload the model list and choose again.",
            model=model_id,
            endpoint=here,
        )
    if Choice(model_id, here) == default_choice():
        return Choice(model_id, here)
    listing = await endpoint_models()
    if listing.error is None and name not in listing.models:
        raise UnknownModelError(
            f"The endpoint {here} does not list a model {name!r}; choose one of its models.",
            model=model_id,
        )
    if listing.error is not None:
        raise UnknownModelError(
            f"The endpoint's model list could not be read ({listing.error}), so {name!r} "
            "cannot be checked; try again in a moment.",
            model=model_id,
        )
    return Choice(model_id, here)


def check_downloadable(model_id: str) -> str:
    """The registry name of a local model to download; raises for anything else."""
    source, _, name = model_id.partition(":")
    if source == "endpoint":
        raise NotDownloadableError(
            f"{name!r} runs on the endpoint; only local models are downloaded.", model=model_id
        )
    if source != "local" or name not in MODELS:
        offered = ", ".join(LOCAL + n for n in MODELS)
        raise UnknownModelError(
            f"There is no local model {model_id!r}. The local models are: {offered}.",
            model=model_id,
        )
    return name


# --- the list the page shows --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointListing:
    models: tuple[str, ...]
    error: str | None  # why the list could not be read (shown to the user), else None
    at: float


_listings: dict[str, EndpointListing] = {}
_listing_lock: dict[str, asyncio.Lock] = {}


async def endpoint_models() -> EndpointListing:
    """The configured endpoint's ``GET /models``, reused for LIST_TTL seconds."""
    remote = _remote()
    if remote is None:
        return EndpointListing((), None, time.monotonic())
    base = str(remote["BASE_URL"]).rstrip("/")
    cached = _listings.get(base)
    if cached is not None and time.monotonic() - cached.at < (
        LIST_TTL if cached.error is None else LIST_ERROR_TTL
    ):
        return cached
    lock = _listing_lock.setdefault(base, asyncio.Lock())
    async with lock:
        cached = _listings.get(base)
        if cached is not None and time.monotonic() - cached.at < LIST_ERROR_TTL:
            return cached
        listing = await _read_models(base, str(remote.get("API_KEY") or ""))
        _listings[base] = listing
        return listing


async def _read_models(base: str, api_key: str) -> EndpointListing:
    now = time.monotonic()
    client = openai.AsyncOpenAI(
        base_url=base, api_key=api_key or "none", timeout=LIST_TIMEOUT, max_retries=0
    )
    try:
        page = await client.models.list()
        ids = tuple(sorted({str(item.id) for item in page.data}))
    except openai.APITimeoutError:
        return EndpointListing((), f"no answer within {LIST_TIMEOUT:.0f} s", now)
    except openai.APIConnectionError:
        return EndpointListing((), "cannot connect to it", now)
    except openai.AuthenticationError:
        return EndpointListing((), "HTTP 401: check FLINT_API_KEY", now)
    except openai.APIStatusError as exc:
        return EndpointListing((), f"HTTP {exc.status_code} from GET /models", now)
    except (openai.OpenAIError, ValueError, TypeError, AttributeError):
        return EndpointListing((), "GET /models did not answer with an OpenAI model list", now)
    finally:
        await client.close()
    return EndpointListing(ids, None, now)


def forget_listings() -> None:
    """Drop cached endpoint lists (tests; a changed endpoint)."""
    _listings.clear()


def local_state(name: str) -> dict[str, Any]:
    """A local model's state for the list: on disk, downloading (how far), or to download."""
    spec = MODELS[name]
    running = downloads.progress(name)
    if running is not None:
        return {"state": "downloading", "done": running.done, "total": running.total}
    path = model_path(name)
    if path.exists() and is_marked_verified(path, spec):
        return {"state": "on_disk"}
    return {"state": "missing"}


async def listing(current: Choice) -> dict[str, Any]:
    """The fields of ``models.listed``: every model this playground can choose."""
    default = default_choice()
    items: list[dict[str, Any]] = []
    remote = await endpoint_models()
    here = endpoint_url()
    if here is not None:
        names = set(remote.models)
        names.add(default.name)  # the configured model is offered even unlisted
        for name in sorted(names):
            items.append({"id": ENDPOINT + name, "source": "endpoint", "name": name})
    for spec in MODELS.values():
        items.append(
            {
                "id": LOCAL + spec.name,
                "source": "local",
                "name": spec.name,
                "description": spec.description,
                "size": spec.size,
                **local_state(spec.name),
            }
        )
    for item in items:
        item["default"] = item["id"] == default.id
    return {
        "models": items,
        "current": current.id,
        "endpoint": None if here is None else {"url": here, "error": remote.error},
    }
