"""One more try on a new connection when the database connection broke.

The database restarted, a proxy or ``pg_terminate_backend`` cut the connection (idle
since the last query, kept by CONN_MAX_AGE, or mid-statement): Django raises
OperationalError or InterfaceError for that query and opens a new connection on the
next one once the broken one is closed. Only for work that is safe to do twice: a
read, or the compare-and-swap save (persistence/playgrounds.py).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

CONNECTION_ERRORS = (OperationalError, InterfaceError)


def _drop_connection() -> bool:
    """Close the broken connection; False inside a transaction (nothing redone alone)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        return False
    with contextlib.suppress(Exception):
        connection.close()
    return True


def once_more_on_lost_connection(fn: Callable[P, T]) -> Callable[P, T]:
    """``fn``, called again once on a new connection if a connection error stopped it.

    A second connection error is raised as it is (the caller reports it).
    """

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except CONNECTION_ERRORS as exc:
            if not _drop_connection():
                raise
            log.warning("%s: the database connection broke (%s); once more", fn.__name__, exc)
        try:
            return fn(*args, **kwargs)
        except CONNECTION_ERRORS:
            _drop_connection()  # the next call starts on a new one
            raise

    return call
