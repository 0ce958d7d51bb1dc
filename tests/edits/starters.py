"""The playground's start files, by name, for the edit tests: the real starters, so a
change to a starter is a change to what these tests edit."""

from __future__ import annotations

from playground.persistence.starters import PYTHON as _PYTHON
from playground.persistence.starters import WEB as _WEB

INDEX_HTML = _WEB["index.html"]
STYLE_CSS = _WEB["style.css"]
SCRIPT_JS = _WEB["script.js"]
MAIN_PY = _PYTHON["main.py"]

WEB = {"index.html": INDEX_HTML, "style.css": STYLE_CSS, "script.js": SCRIPT_JS}
PYTHON = {"main.py": MAIN_PY}
