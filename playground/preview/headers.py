"""Extra headers on static files (``WHITENOISE_ADD_HEADERS_FUNCTION``). No Django imports:
settings imports this module."""

from __future__ import annotations

import re

# The worker as served: from static/ (finders) or collected, with its content hash.
_WORKER = re.compile(r"/flint/py-worker(\.[0-9a-f]{12})?\.js$")


def static_headers(headers: dict[str, str], path: str, url: str) -> None:
    """Python pages are cross-origin isolated (COOP + COEP, playground/preview/csp.py): the Python
    worker's script must carry COEP itself to start inside such a page."""
    if _WORKER.search(url):
        headers["Cross-Origin-Embedder-Policy"] = "require-corp"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
