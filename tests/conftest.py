"""Shared fixtures: a real scripted OpenAI-compatible upstream on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

# Imported now, not at the end of the run: pytest's hypothesis plugin imports these
# in its terminal summary, and a module compiled then, while the tests' background
# threads still run, can hit CPython 3.11's "AST constructor recursion depth
# mismatch" SystemError (python/cpython#106905), which ends the whole run.
import hypothesis
import hypothesis.internal.observability  # noqa: F401
import pytest
from django.test import override_settings

from playground.testing.upstream import ScriptedUpstream

TEST_KEY = "sk-test-secret-0123456789"


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream(api_key=TEST_KEY) as up:
        yield up


@pytest.fixture
def upstream(upstream_server: ScriptedUpstream) -> Iterator[ScriptedUpstream]:
    upstream_server.reset()
    upstream_server.configure(rate=0.0, ttft=0.0, chunk=1, api_key=TEST_KEY)
    yield upstream_server
    upstream_server.reset()


def backend_config(up: ScriptedUpstream, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "BACKEND": "playground.inference.openai_compatible.OpenAICompatibleBackend",
        "BASE_URL": up.base_url,
        "API_KEY": TEST_KEY,
        "MODEL": "gpt-test",
        "TIMEOUT": 5.0,
    }
    config.update({k.upper(): v for k, v in overrides.items()})
    return config


@pytest.fixture
def use_upstream(upstream: ScriptedUpstream) -> Iterator[ScriptedUpstream]:
    """Point Flint's backend at the scripted upstream for this test."""
    with override_settings(FLINT_BACKEND=backend_config(upstream), FLINT_RETRIES=2):
        yield upstream


@pytest.fixture(autouse=True)
async def _close_backends() -> Any:
    """Close pooled connections (upstream, Redis) before the test's event loop ends."""
    from playground.registry import aclose_all

    yield
    await aclose_all()


@pytest.fixture(scope="session", autouse=True)
def _test_database_free_before_it_goes(
    django_db_setup: Any, django_db_blocker: Any
) -> Iterator[None]:
    """Nothing of this run still uses the test database when it is dropped.

    PostgreSQL refuses to drop a database another session uses ("being accessed by
    other users"). The last records go first (a turn's record reaches its writer a
    loop pass after gen.done, for the last test while its loop shuts down); then a
    connection some worker thread of this process still holds (seen: one, idle after
    an owner check, though CONN_MAX_AGE is 0 in tests) is ended: the database is this
    run's own, and only its other sessions are.
    """
    yield
    from django.db import connection

    from playground.persistence.records import records

    records.flush(10.0)
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for _ in range(50):  # the ended sessions go in a moment
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.1)


@pytest.fixture(autouse=True)
def _records_written() -> Iterator[None]:
    """Wait for the record writer's thread before the test's database goes away.

    A generation's record is written on a thread of its own after the generation ends,
    also when it ends with the test's event loop; a write racing the teardown's flush
    of the tables would deadlock with it on PostgreSQL.
    """
    yield
    from playground.persistence.records import records

    records.flush(10.0)


def flint_env_for(var: Any, up: ScriptedUpstream, **extra: str) -> dict[str, str]:
    """Environment of a Flint server process pointed at the scripted upstream, migrated."""
    from pathlib import Path

    from playground.testing.servers import flint_env, migrate

    env = flint_env(
        Path(var),
        FLINT_BASE_URL=up.base_url,
        FLINT_API_KEY=TEST_KEY,
        FLINT_MODEL="gpt-test",
        **extra,
    )
    migrate(env)
    return env


@pytest.fixture(scope="session", autouse=True)
def _no_persistent_db_connections() -> None:
    """Close connections after each use in tests.

    Flint keeps connections open (CONN_MAX_AGE) for speed, but a connection left
    open in a worker thread of database_sync_to_async would keep PostgreSQL from
    dropping the test database at the end of the run.
    """
    from django.db import connections

    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 0
