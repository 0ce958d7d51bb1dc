"""``ast.parse`` for the tests that read the source (architecture, protocol contract).

CPython 3.11 can raise a spurious ``SystemError: AST constructor recursion depth
mismatch`` when another thread runs while a tree is built (python/cpython#106905);
the suite's servers keep threads running. The same source parsed again is fine.
"""

from __future__ import annotations

import ast


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    for _ in range(3):
        try:
            return ast.parse(source, filename)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc):
                raise
            last = exc
    raise last
