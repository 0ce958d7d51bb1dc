"""Where local-model files live, and which model the user chose.

Pure Python so the management command, the backend, the benchmark and tests agree on
one layout without each importing Django settings: FLINT_VAR_DIR (as settings.py
reads it) or ``<repo>/var``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from playground.inference.local.registry import DEFAULT_MODEL, get_spec

_REPO = Path(__file__).resolve().parents[2]
CHOICE_FILE = "local-model.json"


def var_dir() -> Path:
    # Prefer configured Django settings when present (override_settings in tests),
    # falling back to the same env var settings.py reads.
    try:
        from django.conf import settings

        if settings.configured and getattr(settings, "VAR_DIR", None):
            return Path(settings.VAR_DIR)
    except ImportError:  # pragma: no cover - Django is always installed in Flint
        pass
    return Path(os.environ.get("FLINT_VAR_DIR") or _REPO / "var")


def models_dir() -> Path:
    return var_dir() / "models"


def model_path(name: str) -> Path:
    return models_dir() / get_spec(name).filename


def chosen_model() -> str:
    """The model to run: FLINT_LOCAL_MODEL, else `models use`'s choice, else the default."""
    name = os.environ.get("FLINT_LOCAL_MODEL")
    if name:
        return name
    try:
        data = json.loads((var_dir() / CHOICE_FILE).read_text())
    except FileNotFoundError:
        return DEFAULT_MODEL
    except (OSError, ValueError) as exc:
        msg = f"{var_dir() / CHOICE_FILE} is unreadable ({exc}); rerun `models use`"
        raise ValueError(msg) from None
    return str(data.get("model") or DEFAULT_MODEL)


def choose_model(name: str) -> Path:
    get_spec(name)  # refuse unknown names before writing anything
    path = var_dir() / CHOICE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"model": name}) + "\n")
    os.replace(tmp, path)
    return path
