"""The tree shows the flow: stage packages are pure Python, the Dagster layer only wires,
modules stay readable in size, and no code outside the registry asks a model's kind."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from scigen_dagster import fingerprints

PACKAGE = Path(fingerprints.__file__).resolve().parent
STAGES = ("problems", "generation", "evaluation", "reporting", "exports")
PURE = STAGES + ("engines", "sandbox", "llm", "registry", "prompts")
PURE_MODULES = ("taxonomy", "fingerprints", "streaming")
FORBIDDEN = ("dagster", "dagster_", "scigen_dagster.assets", "scigen_dagster.resources")
MAX_LINES = 700
LONG_ALLOWED = {"sandbox/worker.py"}  # the standalone worker: it runs with -I and imports nothing of ours


def modules(*packages: str) -> list[str]:
    out = []
    for package in packages:
        for path in sorted((PACKAGE / package).rglob("*.py")):
            rel = path.relative_to(PACKAGE.parent).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out.append(".".join(parts))
    return out


def imports_of(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_every_stage_package_exists_with_modules():
    for package in STAGES:
        assert (PACKAGE / package / "__init__.py").is_file(), f"scigen_dagster/{package}/ is missing"
        assert len(list((PACKAGE / package).glob("*.py"))) > 1, f"scigen_dagster/{package}/ holds no module"


@pytest.mark.parametrize("module", modules(*PURE) + [f"scigen_dagster.{m}" for m in PURE_MODULES])
def test_pure_modules_import_no_dagster_assets_or_resources(module):
    path = fingerprints.module_file(module)
    bad = [(line, name) for line, name in imports_of(path)
           if name == "dagster" or name.startswith(FORBIDDEN)]
    assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {bad}: stage code must not depend on the Dagster layer"


def test_importing_every_stage_loads_no_dagster():
    """Held against the interpreter, not our own parser: import every pure module in a
    fresh process and look at what got loaded."""
    names = modules(*PURE) + [f"scigen_dagster.{m}" for m in PURE_MODULES]
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m == 'dagster' or m.startswith(('dagster.', 'dagster_',"
            " 'scigen_dagster.assets', 'scigen_dagster.resources')))\n"
            "print('\\n'.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"importing the stage packages loaded: {out.stdout.split()[:10]}"


def test_no_module_is_over_the_size_limit():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert set(long) <= LONG_ALLOWED, f"modules over {MAX_LINES} lines: {long}"


def _kind_tests(path: Path) -> list[int]:
    """Lines comparing something's ``.kind`` with a string (``spec.kind == "imgcoder"``)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "kind" for s in sides):
                lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Attribute) and node.slice.attr == "kind":
            if not isinstance(node.value, ast.Name) or not node.value.id.isupper():
                lines.append(node.lineno)  # {...}[spec.kind]: a lookup table standing in for a test
    return lines


def test_no_kind_tests_outside_the_registry():
    found = {str(p.relative_to(PACKAGE)): lines for p in PACKAGE.rglob("*.py")
             if not p.relative_to(PACKAGE).parts[0] == "registry" and (lines := _kind_tests(p))}
    assert sum(len(v) for v in found.values()) <= 3, f"kind tests outside the registry: {found}"


def test_the_ceiling_is_a_property_of_its_kind_not_of_a_name():
    source = "\n".join(p.read_text() for p in PACKAGE.rglob("*.py") if "registry" not in p.parts)
    assert '"real_figures"' not in source, "code recognises the ceiling row by its registry name"
