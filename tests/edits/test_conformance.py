"""Codex's own apply_patch scenarios, run against our engine's dict of files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from playground.edits import apply_patch

# The fixtures live in a ``shared`` directory beside the repository.
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SCENARIOS = SHARED / "conformance" / "apply_patch" / "scenarios"


def _read_tree(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes().decode("utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _scenarios() -> list[Path]:
    return sorted(p for p in SCENARIOS.iterdir() if p.is_dir()) if SCENARIOS.is_dir() else []


# Outside CI a checkout without ``shared`` skips these; in CI (CI=true) a missing
# directory is a failure, so the conformance run can never silently vanish.
pytestmark = pytest.mark.skipif(
    not SCENARIOS.is_dir() and not os.environ.get("CI"),
    reason=f"conformance fixtures not found at {SCENARIOS}",
)


def test_the_fixtures_are_there() -> None:
    assert SCENARIOS.is_dir(), f"apply_patch conformance fixtures missing at {SCENARIOS}"


@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda p: p.name)
def test_scenario_gives_the_expected_files(scenario: Path) -> None:
    files = _read_tree(scenario / "input")
    patch = (scenario / "patch.txt").read_bytes().decode("utf-8")

    result = apply_patch(files, patch)

    assert result.files == _read_tree(scenario / "expected")


def test_all_23_scenarios_are_present() -> None:
    assert len(_scenarios()) == 23


@pytest.mark.parametrize(
    "name",
    [
        "005_rejects_empty_patch",
        "006_rejects_missing_context",
        "007_rejects_missing_file_delete",
        "008_rejects_empty_update_hunk",
        "009_requires_existing_file_for_update",
        "012_delete_directory_fails",
        "013_rejects_invalid_hunk_header",
        "015_failure_after_partial_success_leaves_changes",
    ],
)
def test_failing_scenarios_report_an_error(name: str) -> None:
    scenario = SCENARIOS / name
    result = apply_patch(_read_tree(scenario / "input"), (scenario / "patch.txt").read_text())

    assert result.errors, "a rejected patch must say why"
    assert all(error.reason for error in result.errors)
