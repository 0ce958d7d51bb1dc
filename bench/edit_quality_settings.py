"""Django settings for a Flint server under the edit-quality suite (bench/edit_quality.py).

Flint's own settings, plus two knobs the suite turns per variant without touching the
product's settings: FLINT_BENCH_PROMPT=legacy serves the pre-#11 prompt
(bench/edit_quality/legacy_prompt.py) so old and new prompts meet the same model, engine
and page; FLINT_BENCH_DRAFT=N turns on llama.cpp's prompt-lookup drafting with N
predicted tokens on the local model.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from flint.settings import *  # noqa: F403
from flint.settings import FLINT_BACKEND

_draft = int(os.environ.get("FLINT_BENCH_DRAFT") or 0)
if _draft and str(FLINT_BACKEND["BACKEND"]).endswith("LocalModelBackend"):
    FLINT_BACKEND = {**FLINT_BACKEND, "DRAFT_TOKENS": _draft}

if os.environ.get("FLINT_BENCH_PROMPT") == "legacy":
    # Loaded by path (bench/edit_quality/ is a data folder, not a package) and swapped
    # in before Django imports the generation service, which binds build_messages.
    import playground.generations.prompt as _prompt

    _path = Path(__file__).with_name("edit_quality") / "legacy_prompt.py"
    _spec = importlib.util.spec_from_file_location("flint_bench_legacy_prompt", _path)
    assert _spec is not None and _spec.loader is not None
    _legacy = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_legacy)
    _prompt.build_messages = _legacy.build_messages  # type: ignore[assignment]
