"""Fingerprints: what a stored table was built from, so an unchanged table is reused.

A table's fingerprint joins its inputs' content hashes, its configuration and the hash of
the code that computed it. That code is found, not listed: ``code_fingerprint(fn)`` reads
the source of the module that defines ``fn`` and follows its imports, transitively, to
every module of this package it reaches (imports inside functions included). Editing a
function a table depends on therefore changes that table's fingerprint, while editing an
asset's description (the Dagster layer is never imported by stage code) changes none.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PACKAGE = __name__.split(".")[0]
PACKAGE_DIR = Path(__file__).resolve().parent


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(*parts: Any) -> str:
    """A stable hash of JSON-serialisable parts (configs, upstream hashes, versions)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def module_file(name: str) -> Path | None:
    """The source file of a project module, or None when ``name`` is not one."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    parts = name.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def module_source(name: str) -> str:
    """The source text of a project module (the one place that reads it, so tests can
    stand in an edited version)."""
    path = module_file(name)
    return path.read_text() if path else ""


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if module_file(module) and module_file(module).name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _runtime_nodes(tree: ast.AST):
    """Every node, except the bodies of ``if TYPE_CHECKING:`` (imports for annotations only)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                todo.extend(child.orelse)
            else:
                todo.append(child)


def imported_modules(name: str) -> set[str]:
    """The project modules that module ``name`` imports, anywhere in its source."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(module_source(name))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if module_file(alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, node)
            for alias in node.names:
                if module_file(f"{base}.{alias.name}"):
                    found.add(f"{base}.{alias.name}")  # a submodule
                elif module_file(base):
                    found.add(base)  # a name defined in that module
    return found


def module_closure(names: Iterable[str]) -> list[str]:
    """``names`` and every project module they import, transitively, sorted."""
    seen: set[str] = set()
    todo = [n for n in names if module_file(n)]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imported_modules(name) - seen)
    return sorted(seen)


def module_of(entry: Any) -> str:
    """The module whose code ``entry`` runs: a function's, class's or method's own module,
    a module itself, or the module of an object's class."""
    if inspect.ismethod(entry):
        entry = entry.__func__
    if inspect.ismodule(entry):
        return entry.__name__
    if inspect.isfunction(entry) or inspect.isclass(entry):
        return entry.__module__
    return type(entry).__module__


def code_fingerprint(*entries: Any) -> str:
    """Hash of the code behind ``entries`` (functions, classes, modules or objects whose
    class counts): their modules and everything those import from this package."""
    return _closure_hash(tuple(sorted({module_of(e) for e in entries})))


@functools.lru_cache(maxsize=256)
def _closure_hash(modules: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for name in module_closure(modules):
        h.update(name.encode() + b"\0" + module_source(name).encode() + b"\0")
    return h.hexdigest()[:16]


def clear_cache() -> None:
    """Forget computed code hashes (sources are read once per process otherwise)."""
    _closure_hash.cache_clear()
