"""The committed front-end bundle (static/flint/) is built from frontend/src as it is now.

``npm run build`` (frontend/build.mjs) records a SHA-256 of what it built from in
static/flint/SOURCES.sha256; this recomputes it the same way, so a change to
frontend/src committed without a rebuild fails here, with no Node needed. When Node
and frontend/node_modules are there, the front end's own unit tests run too.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
BUNDLE = ROOT / "static" / "flint"
REBUILD = "rebuild with cd frontend && npm run build (and commit static/flint/)"


def sources_hash(frontend: Path = FRONTEND) -> str:
    """Same as sourcesHash() in frontend/build.mjs.

    SHA-256 over every file of src/ (recursively; names starting with "." or ending
    in "~" left out), package-lock.json and build.mjs, in the byte order of their
    paths relative to frontend/ ("/"-separated), each fed as
    ``path NUL size-in-bytes NUL content``.
    """
    paths = ["build.mjs", "package-lock.json"]
    for path in (frontend / "src").rglob("*"):
        rel = path.relative_to(frontend)
        if any(part.startswith(".") or part.endswith("~") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            paths.append(rel.as_posix())
    digest = hashlib.sha256()
    for rel_path in sorted(paths, key=lambda p: p.encode()):
        content = (frontend / rel_path).read_bytes()
        digest.update(f"{rel_path}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def test_the_committed_bundle_is_built_from_the_current_sources() -> None:
    record = BUNDLE / "SOURCES.sha256"
    assert record.is_file(), f"{record} is missing: {REBUILD}"
    recorded = record.read_text().split()[0]
    assert recorded == sources_hash(), (
        f"static/flint/ was built from other sources than frontend/src: {REBUILD}"
    )
    for name in ("app.js", "app.css", "preview-frame.js", "py-worker.js"):
        assert (BUNDLE / name).is_file(), f"static/flint/{name} is missing: {REBUILD}"


def test_no_source_maps_next_to_the_bundle() -> None:
    maps = sorted(p.name for p in BUNDLE.glob("*.map"))
    assert not maps, f"{maps} are left from npm run watch: {REBUILD}, which removes them"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(
    not (FRONTEND / "node_modules").is_dir(),
    reason="frontend/node_modules is missing (cd frontend && npm ci)",
)
def test_the_front_end_unit_tests_pass() -> None:
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "--test", "test/"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-4000:]}{result.stderr}"
