"""Django system checks for every FLINT_* setting: a typo fails at start-up.

``manage.py runserver`` and ``manage.py check`` run them (and exit non-zero on an
error); each message names the environment variable and what it may be. The same
checks feed the playground page (``problems()``), so a server started some other
way (``daphne flint.asgi:application``) still tells its visitors what is wrong
instead of failing deep inside the first generation.

Registered in ``PlaygroundConfig.ready()`` (``register_checks``). FLINT_LOG_LEVEL and
values that are not numbers at all are refused earlier, by flint/env.py, while the
settings load (logging is configured before any check can run).
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from playground.errors import FlintError

TAG = "flint"

# The answer formats the prompt can ask for (playground/generations/prompt.py).
EDIT_FORMATS = ("search_replace", "apply_patch", "whole_file")

# Every variable Flint reads (settings.py, scripts, the test harness, and ones
# being added on other branches), so a misspelt name is reported instead of
# silently ignored. tests/test_checks.py keeps this in step with the source.
KNOWN_ENV = frozenset(
    {
        "FLINT_ALLOWED_HOSTS",
        "FLINT_ALLOWED_ORIGINS",
        "FLINT_API",
        "FLINT_API_KEY",
        "FLINT_BASE_URL",
        "FLINT_CLAIM_TTL",
        "FLINT_CONTEXT_TOKENS",
        "FLINT_CSRF_TRUSTED_ORIGINS",
        "FLINT_COVERAGE_MIN",
        "FLINT_DEBUG",
        "FLINT_EDIT_FORMAT",
        "FLINT_EVENT_LOG_TTL",
        "FLINT_FRAME_INTERVAL",
        "FLINT_FRAME_MAX_TOKENS",
        "FLINT_LIMIT_GENERATIONS",
        "FLINT_LIMIT_GENERATIONS_IP",
        "FLINT_LIMIT_TOKENS",
        "FLINT_LIMIT_TOKENS_IP",
        "FLINT_LOCAL_CACHE",
        "FLINT_LOCAL_CTX",
        "FLINT_LOCAL_LOAD_TIMEOUT",
        "FLINT_LOCAL_MODEL",
        "FLINT_LOCAL_THREADS",
        "FLINT_LOG_LEVEL",
        "FLINT_MAX_CONCURRENT",
        "FLINT_MAX_TOKENS",
        "FLINT_MODEL",
        "FLINT_MODEL_HUB",
        "FLINT_ORPHAN_GRACE",
        "FLINT_PREVIEW_ORIGIN",
        "FLINT_PREDICTION",
        "FLINT_QUEUE_SIZE",
        "FLINT_RATE_MESSAGES",
        "FLINT_RATE_WINDOW",
        "FLINT_REQUEST_TIMEOUT",
        "FLINT_RETRIES",
        "FLINT_RETRY_MAX_WAIT",
        "FLINT_SECRET_KEY",
        "FLINT_SECURE_COOKIES",
        "FLINT_STATIC_MANIFEST",
        "FLINT_TEST_POSTGRES_URL",
        "FLINT_TIMEOUT",
        "FLINT_TRUSTED_PROXIES",
        "FLINT_VAR_DIR",
        "FLINT_WHEEL_CACHE",
    }
)

# Variables of the test harness and the benchmarks, not of Flint itself.
_TOOLING = ("FLINT_TEST_", "FLINT_BENCH_")

_LIMIT_ENV = {
    "generations_user": "FLINT_LIMIT_GENERATIONS",
    "generations_ip": "FLINT_LIMIT_GENERATIONS_IP",
    "tokens_user": "FLINT_LIMIT_TOKENS",
    "tokens_ip": "FLINT_LIMIT_TOKENS_IP",
}


def _is_local() -> bool:
    return str(settings.FLINT_BACKEND.get("BACKEND", "")).endswith("LocalModelBackend")


def _error(id_: int, msg: str, hint: str | None = None) -> Error:
    return Error(msg, hint=hint, id=f"flint.E{id_:03d}")


def _warning(id_: int, msg: str, hint: str | None = None) -> Warning:
    return Warning(msg, hint=hint, id=f"flint.W{id_:03d}")


def check_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """FLINT_BASE_URL, FLINT_EDIT_FORMAT, FLINT_LOCAL_MODEL, FLINT_API_KEY."""
    out: list[CheckMessage] = []
    backend = settings.FLINT_BACKEND
    fmt = backend.get("EDIT_FORMAT")
    if fmt not in EDIT_FORMATS:
        out.append(
            _error(
                1,
                f"FLINT_EDIT_FORMAT is {fmt!r}, which is not an answer format Flint knows.",
                f"Use one of: {', '.join(EDIT_FORMATS)} (or leave it unset for the default).",
            )
        )
    if _is_local():
        out.extend(_check_local_model(backend.get("MODEL")))
        if os.environ.get("FLINT_API_KEY", "").strip():
            out.append(
                _warning(
                    10,
                    "FLINT_API_KEY is set but FLINT_BASE_URL is not, so the key is unused "
                    "and the local model answers.",
                    "Set FLINT_BASE_URL to the endpoint the key belongs to, or remove the key.",
                )
            )
        return out
    base_url = str(backend.get("BASE_URL") or "")
    problem = url_problem(base_url, schemes=("http", "https"))
    if problem:
        out.append(
            _error(
                5,
                f"FLINT_BASE_URL is {base_url!r}: {problem}.",
                "Give the endpoint's full URL, e.g. https://api.openai.com/v1 or "
                "http://127.0.0.1:11434/v1 (Ollama); unset it for the local model.",
            )
        )
    elif not urlsplit(base_url).path.rstrip("/").endswith("/v1"):
        out.append(
            _warning(
                6,
                f"FLINT_BASE_URL {redact_url(base_url)!r} does not end in /v1.",
                "Most OpenAI-compatible servers serve the API under /v1 "
                "(http://127.0.0.1:11434/v1, https://api.openai.com/v1); without it "
                "every request gets HTTP 404.",
            )
        )
    if not str(backend.get("MODEL") or "").strip():
        out.append(_error(13, "FLINT_MODEL is empty.", "Name the model to use at FLINT_BASE_URL."))
    return out


def _check_local_model(name: object) -> list[CheckMessage]:
    from playground.inference.local.paths import chosen_model
    from playground.inference.local.registry import MODELS

    offered = ", ".join(sorted(MODELS))
    if name is None:
        try:
            name = chosen_model()
        except ValueError as exc:  # an unreadable `models use` choice
            return [_error(2, str(exc), f"Offered local models: {offered}.")]
        where = "The local model chosen with `manage.py models use`"
    else:
        where = "FLINT_LOCAL_MODEL"
    if name in MODELS:
        return []
    close = difflib.get_close_matches(str(name), list(MODELS), n=1)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    return [
        _error(
            2,
            f"{where} is {name!r}, which is not a local model Flint offers.",
            f"{hint}Offered: {offered} (`python manage.py models list`).",
        )
    ]


# (environment variable, setting getter, lower bound, bound included?)
_Number = tuple[str, Callable[[], Any], float, bool]


def _numbers() -> list[_Number]:
    b = settings.FLINT_BACKEND
    rows: list[_Number] = [
        ("FLINT_TIMEOUT", lambda: b.get("TIMEOUT"), 0, False),
        ("FLINT_MAX_TOKENS", lambda: b.get("MAX_TOKENS"), 1, True),
        ("FLINT_CONTEXT_TOKENS", lambda: settings.FLINT_CONTEXT_TOKENS, 1, True),
        ("FLINT_RETRIES", lambda: settings.FLINT_RETRIES, 0, True),
        ("FLINT_RETRY_MAX_WAIT", lambda: settings.FLINT_RETRY_MAX_WAIT, 0, True),
        ("FLINT_RATE_MESSAGES", lambda: settings.FLINT_RATE_MESSAGES, 1, True),
        ("FLINT_RATE_WINDOW", lambda: settings.FLINT_RATE_WINDOW, 0, False),
        ("FLINT_FRAME_INTERVAL", lambda: settings.FLINT_FRAME_INTERVAL, 0, False),
        ("FLINT_FRAME_MAX_TOKENS", lambda: settings.FLINT_FRAME_MAX_TOKENS, 1, True),
        ("FLINT_MAX_CONCURRENT", lambda: settings.FLINT_MAX_CONCURRENT, 1, True),
        ("FLINT_QUEUE_SIZE", lambda: settings.FLINT_QUEUE_SIZE, 0, True),
        ("FLINT_ORPHAN_GRACE", lambda: settings.FLINT_ORPHAN_GRACE, 0, True),
        ("FLINT_EVENT_LOG_TTL", lambda: settings.FLINT_EVENT_LOG_TTL, 0, False),
        (
            "FLINT_REQUEST_TIMEOUT",
            lambda: getattr(settings, "FLINT_REQUEST_TIMEOUT", 30.0),
            0,
            False,
        ),
    ]
    if _is_local():
        rows += [
            ("FLINT_LOCAL_THREADS", lambda: b.get("THREADS"), 1, True),
            ("FLINT_LOCAL_CTX", lambda: b.get("CTX") or 0, 0, True),
            ("FLINT_LOCAL_LOAD_TIMEOUT", lambda: b.get("LOAD_TIMEOUT"), 0, False),
        ]
    return rows


def check_numbers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Counts, sizes and durations: in range and finite."""
    out: list[CheckMessage] = []
    for name, get, low, inclusive in _numbers():
        value = get()
        ok = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and (value >= low if inclusive else value > low)
        )
        if not ok:
            bound = f"at least {low:g}" if inclusive else f"more than {low:g}"
            out.append(_error(4, f"{name} is {value!r}; it must be a number {bound}."))
    return out


def check_limits(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """FLINT_LIMIT_*: the limits library's "N per period" syntax."""
    from limits import parse

    out: list[CheckMessage] = []
    limits: Mapping[str, Any] = settings.FLINT_LIMITS
    for key, env in _LIMIT_ENV.items():
        value = limits.get(key)
        try:
            parse(str(value))
        except ValueError:
            out.append(
                _error(
                    3,
                    f"{env} is {value!r}, which is not a rate limit.",
                    'Write "N per PERIOD", e.g. "60 per 10 minutes" or "500000 per hour" '
                    "(PERIOD: second, minute, hour, day, month, year).",
                )
            )
    return out


def check_origins(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """FLINT_ALLOWED_ORIGINS, FLINT_PREVIEW_ORIGIN, REDIS_URL."""
    out: list[CheckMessage] = []
    for origin in settings.FLINT_ALLOWED_ORIGINS:
        if origin == "*":
            continue
        problem = origin_problem(origin)
        if problem:
            out.append(
                _error(
                    7,
                    f"FLINT_ALLOWED_ORIGINS has {origin!r}: {problem}.",
                    "List origins as scheme://host[:port], comma-separated, e.g. "
                    "https://flint.example,http://127.0.0.1:8000.",
                )
            )
    preview = settings.FLINT_PREVIEW_ORIGIN
    if preview and (problem := origin_problem(preview)):
        out.append(
            _error(
                8,
                f"FLINT_PREVIEW_ORIGIN is {preview!r}: {problem}.",
                "Give an origin, e.g. http://127.0.0.1:8001, or leave it empty.",
            )
        )
    redis_url = settings.FLINT_REDIS_URL
    if redis_url and (problem := url_problem(redis_url, schemes=("redis", "rediss", "unix"))):
        out.append(
            _error(
                9,
                f"REDIS_URL is {redact_url(redis_url)!r}: {problem}.",
                "e.g. redis://127.0.0.1:6379/0; unset it to keep everything in one process.",
            )
        )
    return out


def check_proxy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """FLINT_TRUSTED_PROXIES, FLINT_CSRF_TRUSTED_ORIGINS (README "Scaling out")."""
    import ipaddress

    out: list[CheckMessage] = []
    for entry in getattr(settings, "FLINT_TRUSTED_PROXIES", []):
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            out.append(
                _error(
                    16,
                    f"FLINT_TRUSTED_PROXIES has {entry!r}, which is not an address or network.",
                    "List the proxies' addresses or networks, comma-separated, e.g. "
                    "127.0.0.1 or 10.0.0.0/8,::1; unset it when no proxy is in front.",
                )
            )
    for origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", []):
        problem = origin_problem(origin)
        if problem:
            out.append(
                _error(
                    17,
                    f"FLINT_CSRF_TRUSTED_ORIGINS has {origin!r}: {problem}.",
                    "List origins as scheme://host[:port], comma-separated, e.g. "
                    "https://flint.example.",
                )
            )
    return out


def check_environment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """FLINT_* variables Flint does not read (a misspelt name)."""
    out: list[CheckMessage] = []
    for name in sorted(os.environ):
        if not name.startswith("FLINT_") or name in KNOWN_ENV or name.startswith(_TOOLING):
            continue
        close = difflib.get_close_matches(name, sorted(KNOWN_ENV), n=1, cutoff=0.75)
        out.append(
            _warning(
                11,
                f"{name} is set but Flint has no such setting, so it is ignored.",
                f"Did you mean {close[0]}?" if close else "See README, Configuration.",
            )
        )
    return out


def check_static(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """FLINT_STATIC_MANIFEST: the collected files exist and are those of static/."""
    if not getattr(settings, "FLINT_STATIC_MANIFEST", False):
        return []
    from pathlib import Path

    root = Path(settings.STATIC_ROOT)
    if not (root / "staticfiles.json").exists():
        return [
            _error(
                14,
                f"FLINT_STATIC_MANIFEST is on but {root} holds no collected static files.",
                "Run `python manage.py collectstatic --no-input` (scripts/run.sh does), "
                "or unset FLINT_STATIC_MANIFEST.",
            )
        ]
    built = Path(settings.STATICFILES_DIRS[0]) / "flint" / "SOURCES.sha256"
    collected = root / "flint" / "SOURCES.sha256"
    if built.exists() and (not collected.exists() or collected.read_text() != built.read_text()):
        return [
            _warning(
                15,
                "The collected static files are older than static/ (the front end was "
                "rebuilt since): pages would get the old bundle.",
                "Run `python manage.py collectstatic --no-input` again.",
            )
        ]
    return []


CHECKS = (
    check_backend,
    check_numbers,
    check_limits,
    check_origins,
    check_proxy,
    check_environment,
    check_static,
)


def register_checks() -> None:
    """Called by PlaygroundConfig.ready()."""
    for check in CHECKS:
        register(check, TAG)


# --- helpers, also for the page ------------------------------------------------------


def url_problem(url: str, *, schemes: Iterable[str]) -> str | None:
    schemes = tuple(schemes)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in schemes:
        return f"it must start with {' or '.join(s + '://' for s in schemes)}"
    if parts.scheme != "unix" and not parts.hostname:
        return "it names no host"
    return None


def origin_problem(origin: str) -> str | None:
    problem = url_problem(origin, schemes=("http", "https"))
    if problem:
        return problem
    parts = urlsplit(origin)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "an origin is scheme://host[:port] with no path"
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "its port is not a number"
    return None


def redact_url(url: str) -> str:
    """``url`` without a user or password (a key must never reach a page or a log)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def problems() -> list[dict[str, str]]:
    """Flint's failed checks (errors and warnings), for the page: ``{level, message, hint}``."""
    out: list[dict[str, str]] = []
    for check in (check_backend, check_numbers, check_limits, check_origins, check_proxy):
        for message in check():
            out.append(
                {
                    "level": "error" if message.is_serious() else "warning",
                    "message": str(message.msg),
                    "hint": str(message.hint or ""),
                    "id": str(message.id),
                }
            )
    return out


class MisconfiguredError(FlintError):
    """The server cannot serve a playground's session: the page says why and stops retrying."""

    code = "server.misconfigured"


def misconfigured(exc: BaseException) -> MisconfiguredError:
    """What to tell a page whose session could not start because of ``exc``."""
    errors = [p for p in problems() if p["level"] == "error"]
    if errors:
        said = " ".join(f"{p['message']} {p['hint']}".strip() for p in errors)
        return MisconfiguredError(f"Flint is misconfigured: {said} Fix it and restart the server.")
    return MisconfiguredError(
        f"The server could not start this playground's session ({type(exc).__name__}: "
        f"{exc}). See the server's log; fix the configuration and restart it."
    )
