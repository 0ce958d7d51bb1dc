"""Flint settings: embedded defaults, everything overridable from the environment.

Defaults run on one machine with nothing else installed: SQLite, the in-memory
channel layer, and the embedded local model. See README "Configuration".
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from dotenv import load_dotenv

from flint.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# A .env file beside manage.py fills in variables the environment does not set.
load_dotenv(BASE_DIR / ".env", override=False)
VAR_DIR = Path(env_str("FLINT_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite database, local models

DEBUG = env_bool("FLINT_DEBUG", False)
SECRET_KEY = env_str("FLINT_SECRET_KEY") or "flint-insecure-dev-key-set-FLINT_SECRET_KEY"
ALLOWED_HOSTS = env_list("FLINT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
# WebSocket Origin allow-list (scheme://host:port, compared exactly). Empty = the
# one origin the socket was opened on (its Host header), if that host is allowed.
# The preview origin is never allowed (flint/asgi.py).
FLINT_ALLOWED_ORIGINS = env_list("FLINT_ALLOWED_ORIGINS", [])
# Behind a proxy (README "Scaling out"): the addresses or networks of the proxies
# whose X-Forwarded-For / X-Forwarded-Proto are believed (flint/proxy.py); from any
# other peer those headers are removed. Empty: no proxy, the peer is the client.
FLINT_TRUSTED_PROXIES = env_list("FLINT_TRUSTED_PROXIES", [])
if FLINT_TRUSTED_PROXIES:
    # Safe only because flint/proxy.py strips the header from untrusted peers.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Origins (scheme://host[:port]) a form POST may come from besides the Host the
# request names: the public https origin when TLS ends at the proxy.
CSRF_TRUSTED_ORIGINS = env_list("FLINT_CSRF_TRUSTED_ORIGINS", [])
# Cookies always Secure (for an https-only site). Unset, each cookie is Secure when
# its request came over https (directly or through a trusted proxy: flint/proxy.py).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("FLINT_SECURE_COOKIES", False)

INSTALLED_APPS = [
    "daphne",  # makes `manage.py runserver` serve HTTP and WebSocket through Daphne
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "playground",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "flint.proxy.SecureCookies",  # cookies of an https request are Secure
]

ROOT_URLCONF = "flint.urls"
ASGI_APPLICATION = "flint.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'flint.sqlite3'}",
        # Reuse connections across socket messages: opening one per turn cost
        # more than the turn itself (docs/benchmarks.md).
        conn_max_age=60,
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_redis_url = env_str("REDIS_URL")
# No Channels layer: a generation's frames fan out through the hub (FLINT_HUB
# below), which batches per frame; a layer would add a Redis receive loop to
# every socket and a Redis message per frame per socket.

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# FLINT_STATIC_MANIFEST (scripts/run.sh sets it after `manage.py collectstatic`): serve
# the collected files in STATIC_ROOT, each under a name with its content hash (cached
# for a year) and pre-compressed (Brotli, gzip): WhiteNoise's
# CompressedManifestStaticFilesStorage. Off: straight from static/, uncompressed.
FLINT_STATIC_MANIFEST = env_bool("FLINT_STATIC_MANIFEST", False)
STATIC_ROOT = VAR_DIR / "static"  # where collectstatic puts them
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing one
WHITENOISE_USE_FINDERS = not FLINT_STATIC_MANIFEST  # off: serve STATIC_ROOT only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if FLINT_STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

# --- inference -----------------------------------------------------------------
# With FLINT_BASE_URL set, every generation goes to that OpenAI-compatible
# server; without it, to the embedded local model.
FLINT_BASE_URL = env_str("FLINT_BASE_URL")
# Which API of that server: "chat" (Chat Completions over HTTP streaming) or
# "responses" (the Responses API in WebSocket mode: one socket per playground
# session, kept across turns; falls back to "chat" if the server refuses the upgrade).
FLINT_API = (env_str("FLINT_API") or "chat").strip().lower()
_API_BACKENDS = {
    "chat": "playground.inference.openai_compatible.OpenAICompatibleBackend",
    "responses": "playground.inference.responses_ws.ResponsesWebSocketBackend",
}
if FLINT_API not in _API_BACKENDS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"FLINT_API must be one of {', '.join(_API_BACKENDS)}.")
# Defaults measured on a 2-core machine (docs/benchmarks.md, "Local model" and
# "Edit quality"): the model is the registry's default, and llama.cpp with 2
# threads collapses as soon as Daphne takes a core, so 1 thread. Defined even with
# FLINT_BASE_URL set: the page can switch a playground to a local model
# (playground/inference/catalog.py), which is then run with these settings.
FLINT_LOCAL_BACKEND: dict[str, object] = {
    "BACKEND": "playground.inference.local.backend.LocalModelBackend",
    # None: the `manage.py models use` choice, else the registry default.
    "MODEL": env_str("FLINT_LOCAL_MODEL") or None,
    "THREADS": env_int("FLINT_LOCAL_THREADS", 1),
    "CTX": env_int("FLINT_LOCAL_CTX", 0) or None,  # None: the model's own default
    "CACHE": env_bool("FLINT_LOCAL_CACHE", False),
    "LOAD_TIMEOUT": env_float("FLINT_LOCAL_LOAD_TIMEOUT", 600.0),
    "TIMEOUT": env_float("FLINT_TIMEOUT", 120.0),
    "EDIT_FORMAT": env_str("FLINT_EDIT_FORMAT") or "whole_file",
    "MAX_TOKENS": env_int("FLINT_MAX_TOKENS", 1024),
}
if FLINT_BASE_URL:
    FLINT_BACKEND: dict[str, object] = {
        "BACKEND": _API_BACKENDS[FLINT_API],
        "BASE_URL": FLINT_BASE_URL,
        "API_KEY": env_str("FLINT_API_KEY"),
        "MODEL": env_str("FLINT_MODEL") or "gpt-4.1-mini",
        "EDIT_FORMAT": env_str("FLINT_EDIT_FORMAT") or "search_replace",
        "TIMEOUT": env_float("FLINT_TIMEOUT", 60.0),
        "MAX_TOKENS": env_int("FLINT_MAX_TOKENS", 4096),
        # Predicted outputs for whole-file answers (Chat Completions servers that
        # support ``prediction``, e.g. OpenAI's gpt-4o/4.1 families).
        "PREDICTION": env_bool("FLINT_PREDICTION", False),
    }
else:
    FLINT_BACKEND = dict(FLINT_LOCAL_BACKEND)
FLINT_RETRIES = env_int("FLINT_RETRIES", 2)  # before the first token only
FLINT_RETRY_MAX_WAIT = env_float("FLINT_RETRY_MAX_WAIT", 10.0)

# --- socket limits ---------------------------------------------------------------
# Every size limit is derived in playground/limits.py so that they agree: the
# largest storable project fits one message, one request body and one import.
from playground import limits as _limits  # noqa: E402  (pure: no Django imports)

FLINT_MAX_MESSAGE_BYTES = _limits.MAX_MESSAGE_BYTES
FLINT_FRAME_INTERVAL = env_float("FLINT_FRAME_INTERVAL", 0.016)  # coalescing window, s
FLINT_FRAME_MAX_TOKENS = env_int("FLINT_FRAME_MAX_TOKENS", 256)
FLINT_RATE_MESSAGES = env_int("FLINT_RATE_MESSAGES", 60)  # per FLINT_RATE_WINDOW per socket
FLINT_RATE_WINDOW = env_float("FLINT_RATE_WINDOW", 10.0)

_log_level = env_choice(
    "FLINT_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), upper=True
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _log_level},
    "loggers": {"httpx2": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
FLINT_CONTEXT_TOKENS = env_int("FLINT_CONTEXT_TOKENS", 32_000)
# Daphne closes a socket (code 1009) on a frame or message over this hard cap;
# below it, messages over FLINT_MAX_MESSAGE_BYTES get a readable error instead.
# `manage.py runserver` reads these two; flint/serving.py sets the same caps on
# any Daphne (the `daphne` command line's own defaults are 1 MiB).
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = _limits.WS_HARD_CAP_BYTES
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = _limits.WS_HARD_CAP_BYTES
# Seconds a client may take to send a request's headers and body; a half-sent
# request is answered 408 and closed after it (flint/serving.py).
FLINT_REQUEST_TIMEOUT = env_float("FLINT_REQUEST_TIMEOUT", _limits.REQUEST_RECEIVE_TIMEOUT)

# --- history, sharing, import/export ("Nothing is lost" issue) --------------------------
# Optional accounts can claim playgrounds (POST /p/<id>/claim); cookie owners need none.
MIDDLEWARE += ["django.contrib.auth.middleware.AuthenticationMiddleware"]
# Every page refuses to be framed, except /s/<id>/embed (xframe_options_exempt there).
X_FRAME_OPTIONS = "DENY"
# A whole file set is at most 2 MiB of text (playground/limits.py); its JSON
# encoding (PUT /api/p/<id>/files) and a multipart upload of it (POST /import)
# need some room on top. Bodies are capped before they are read (flint/asgi.py,
# flint/serving.py), so what Django is handed always fits in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = _limits.MAX_REQUEST_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = _limits.MAX_IMPORT_BYTES
FLINT_IMPORT_MAX_BYTES = _limits.MAX_IMPORT_BYTES
DATA_UPLOAD_MAX_NUMBER_FILES = 51  # one over the 50-file limit, so we can name the error

# --- generations: fairness and survival -----------------------------------------
FLINT_REDIS_URL = _redis_url  # event logs and claims shared across processes
FLINT_EVENT_LOG_TTL = env_float("FLINT_EVENT_LOG_TTL", 600.0)  # s a finished log is kept
# Where a generation's events live (playground/hub/): this process's memory, or
# Redis Streams shared by every process when REDIS_URL is set.
# A running generation renews its claim on its playground every second; the claim of
# one whose process died lapses after this, and a follower on another process then
# ends its log with gen.interrupted (playground/hub/redis.py).
FLINT_CLAIM_TTL = env_float("FLINT_CLAIM_TTL", 10.0)
FLINT_HUB: dict[str, object] = (
    {
        "BACKEND": "playground.hub.redis.RedisHub",
        "URL": _redis_url,
        "TTL": FLINT_EVENT_LOG_TTL,
        "CLAIM_TTL": FLINT_CLAIM_TTL,
    }
    if _redis_url
    else {"BACKEND": "playground.hub.memory.MemoryHub", "TTL": FLINT_EVENT_LOG_TTL}
)
# Presentations (playground/live/): this process's memory, or Redis shared by every
# process when REDIS_URL is set (the presenter and the viewers may reach different ones).
FLINT_LIVE: dict[str, object] = (
    {"BACKEND": "playground.live.redis.RedisLiveStore", "URL": _redis_url}
    if _redis_url
    else {"BACKEND": "playground.live.memory.MemoryLiveStore"}
)
FLINT_ORPHAN_GRACE = env_float("FLINT_ORPHAN_GRACE", 30.0)  # s unwatched before stopping
FLINT_MAX_CONCURRENT = env_int("FLINT_MAX_CONCURRENT", 16)  # upstream streams per backend
FLINT_QUEUE_SIZE = env_int("FLINT_QUEUE_SIZE", 32)  # waiting generations per backend
# The line in front of each backend (playground/inference/queue.py): this process's,
# or with REDIS_URL one cap and one line shared by every process.
FLINT_QUEUE: dict[str, object] = (
    {"BACKEND": "playground.inference.queue_redis.RedisUpstreamQueue", "URL": _redis_url}
    if _redis_url
    else {"BACKEND": "playground.inference.queue.UpstreamQueue"}
)

# --- live preview ("Live preview" issue) ---------------------------------------------
# Origin (scheme://host:port) the preview frame is loaded from. Empty = this server.
# A different *site* (e.g. app on localhost, preview on 127.0.0.1) also gets the
# preview its own renderer process in Chromium. That origin must serve Flint too
# (same code, its host in FLINT_ALLOWED_HOSTS).
FLINT_PREVIEW_ORIGIN = env_str("FLINT_PREVIEW_ORIGIN")
# Per browser ("user") and per IP, in the shared store (Redis when configured).
# Syntax of the limits library: "N per second|minute|hour|day".
FLINT_LIMITS = {
    "generations_user": env_str("FLINT_LIMIT_GENERATIONS") or "60 per 10 minutes",
    "generations_ip": env_str("FLINT_LIMIT_GENERATIONS_IP") or "300 per 10 minutes",
    "tokens_user": env_str("FLINT_LIMIT_TOKENS") or "500000 per hour",
    "tokens_ip": env_str("FLINT_LIMIT_TOKENS_IP") or "2000000 per hour",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Write-ahead logging: a commit appends to one log file instead of creating and
    # deleting a rollback journal, a third of the CPU of a small write (a generation's
    # record, once per turn: docs/benchmarks.md); readers no longer wait for writers.
    # Commits stay fully synchronous (synchronous=FULL, SQLite's default), except
    # those of the generation records' writer thread (playground/persistence/records.py).
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    # Tests use a file, as production does: an in-memory shared-cache database
    # fails concurrent writers at once ("table is locked") instead of making
    # them wait, so the concurrent-save tests could not run against it. One file
    # per process, so test runs side by side (or xdist workers) never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
# Python pages are cross-origin isolated (COOP+COEP, for Pyodide's interrupt buffer):
# their worker script must be served with COEP too.
from playground.preview.headers import static_headers  # noqa: E402  (no Django imports)

WHITENOISE_ADD_HEADERS_FUNCTION = static_headers
