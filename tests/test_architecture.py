"""The tree shows the architecture: layers import only downwards, the core never imports
ipywidgets, the widgets never import TensorFlow, and no module is over 450 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

PACKAGE = REPO / "cnn_widgets"
#: Each top-level part of the package and its layer: a module imports only from its own
#: layer or below (docs/conventions.md).
LAYERS = {"checks": 0, "render": 0, "drawing": 0, "model": 1, "data": 1, "methods": 2, "training": 3,
          "session": 4, "widgets": 5, "delivery": 6}
FRONTEND = ("ipywidgets", "ipycanvas", "bqplot", "anywidget")
TENSORFLOW = ("tensorflow", "keras")
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def part(module: str) -> str:
    """``cnn_widgets.methods.oip.run`` → ``methods``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


def dotted(path: Path) -> str:
    relative = path.relative_to(REPO).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """Every module ``path`` imports: (absolute name, line, at module level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = dotted(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # imports inside `if TYPE_CHECKING:` count as module level
        if isinstance(node, ast.If):
            top_level |= {id(child) for child in node.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((name, node.lineno, id(node) in top_level))
    return found


def test_every_part_of_the_package_has_a_layer():
    parts = {p.name for p in PACKAGE.iterdir() if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    parts -= {"__init__.py", "assets"}
    assert {p.removesuffix(".py") for p in parts} == set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_down_the_layers(path):
    here = part(dotted(path))
    if not here:
        return  # the package's __init__ names everything, lazily
    upward = [(name, line) for name, line, _ in imports(path)
              if name.startswith("cnn_widgets.") and LAYERS[part(name)] > LAYERS[here]]
    assert upward == [], f"{path.relative_to(REPO)} ({here}) imports from a layer above it: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_never_imports_widgets_and_widgets_never_import_tensorflow(path):
    here = part(dotted(path))
    found = imports(path)
    if here not in ("widgets", "delivery", ""):
        frontend = [(n, line) for n, line, _ in found if n.split(".")[0] in FRONTEND]
        assert frontend == [], f"{path.relative_to(REPO)} is core and imports the frontend: {frontend}"
    if here == "widgets":
        tensorflow = [(n, line) for n, line, top in found
                      if n.split(".")[0] in TENSORFLOW or n.startswith("cnn_widgets.model") and top]
        assert tensorflow == [], f"{path.relative_to(REPO)} is a widget and imports TensorFlow: {tensorflow}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_450_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 450, f"{path.relative_to(REPO)} has {lines} lines: one concept per module"


def test_importing_the_widgets_and_the_session_loads_no_tensorflow():
    code = ("import sys, cnn_widgets.widgets, cnn_widgets.session, cnn_widgets.methods, cnn_widgets.training\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
