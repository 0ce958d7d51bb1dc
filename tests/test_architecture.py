"""The tree keeps the shape README's Layout describes: read off the source, statically.

Every import counts, including the lazy ones inside functions: a cycle hidden in
a function body is still a cycle.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from tests.astparse import parse

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "playground"

# The pure cores: no Django, no Channels, directly or through what they import.
PURE = [
    "playground.edits",
    "playground.protocol",
    "playground.errors",
    "playground.preview.document",
    "playground.preview.highlight",
    "playground.preview.headers",
]
FRAMEWORK = ("django", "channels", "daphne")
# Where wire messages may be built: the protocol package (and the test upstream,
# which speaks the *model's* protocol, not Flint's).
WIRE_BUILDERS = ("playground/protocol/", "playground/testing/")
MAX_TOP_LEVEL = 10


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for p in PACKAGE.rglob("*.py")
        if "migrations" not in p.parts and "__pycache__" not in p.parts
    }


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The playground module ``name`` refers to (a module, or the package holding a name)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def _imports(module: str) -> tuple[frozenset[str], frozenset[str]]:
    """(playground modules, external top-level packages) that ``module`` imports anywhere."""
    modules = _modules()
    path = modules[module]
    is_pkg = path.name == "__init__.py"
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_pkg else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
        for target in targets:
            if target.split(".")[0] == "playground":
                resolved = _resolve(target, modules)
                if resolved and resolved != module:
                    internal.add(resolved)
            else:
                external.add(target.split(".")[0])
    return frozenset(internal), frozenset(external)


def _reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_imports(module)[0])
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        parent = module.rpartition(".")[0]
        if parent in _modules():
            todo.append(parent)
    return seen


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in _imports(v)[0]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for module in sorted(_modules()):
        if module not in index:
            visit(module)
    return out


def test_no_module_imports_itself_back_even_lazily() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("core", PURE)
def test_the_pure_cores_import_nothing_from_the_framework(core: str) -> None:
    roots = [m for m in _modules() if m == core or m.startswith(core + ".")]
    offenders = {
        f"{module} imports {package}"
        for root in roots
        for module in _reachable(root)
        for package in _imports(module)[1]
        if package in FRAMEWORK
    }
    assert not offenders, sorted(offenders)


def _builds_a_wire_message(node: ast.AST) -> bool:
    # A dict literal with a "type" key and a dotted string value ("gen.edit"), or
    # a protocol version key: the shape of a server message.
    if not isinstance(node, ast.Dict):
        return False
    for key, value in zip(node.keys, node.values, strict=True):
        if not isinstance(key, ast.Constant):
            continue
        if key.value == "v":
            return True
        dotted = (
            isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and ("." in value.value or value.value == "error")
        )
        if key.value == "type" and dotted:
            return True
    return False


def test_no_wire_message_is_built_outside_the_protocol_package() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _modules().values()
        if not path.relative_to(ROOT).as_posix().startswith(WIRE_BUILDERS)
        for node in ast.walk(parse(path.read_text()))
        if _builds_a_wire_message(node)
    ]
    assert offenders == []


def test_the_app_top_level_keeps_only_what_a_django_app_keeps_there() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top


def test_every_source_package_has_a_test_package_beside_it() -> None:
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    missing = {
        name
        for name in packages - {"management", "templatetags", "migrations"}
        if not (ROOT / "tests" / name).is_dir()
    }
    assert not missing, f"no tests/<name>/ for {sorted(missing)}"
