"""The package's layout shows its architecture, and the arrows between its parts hold (read from the source).

- every module opens with a docstring; each subpackage's __init__ (but the
  CLI's, which is uec-clc-ha-ctl's main) is only that docstring (what it
  owns, who calls it): importing a part does no work;
- the agent imports nothing of the package but itself and the error tree
  (it runs every few seconds for years; it never imports config);
- nothing imports the CLI but the CLI and the maintainer helpers' entry
  point (host.maint shares its top-level error handler).
"""

import ast
import os

import pytest

from paths import TOP

PACKAGE = os.path.join(TOP, "src", "uec_clc_ha")
PARTS = ("agent", "cli", "cluster", "config", "data", "host")


def modules():
    for base, _, files in os.walk(PACKAGE):
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(base, f)
                yield os.path.relpath(path, PACKAGE), path


def imported(path):
    """The package modules a file imports (dotted, absolute)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("uec_clc_ha"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.add("relative")
    return found


def test_the_parts_are_the_documented_ones():
    subpackages = sorted(d for d in os.listdir(PACKAGE) if os.path.isdir(os.path.join(PACKAGE, d))
                         and d != "__pycache__")
    assert subpackages == sorted(PARTS)
    flat = sorted(f for f in os.listdir(PACKAGE) if f.endswith(".py"))
    assert flat == ["__init__.py", "errors.py"]


@pytest.mark.parametrize("rel, path", list(modules()), ids=lambda x: x if "/" not in x or x.count("/") < 2 else "")
def test_every_module_opens_with_a_docstring(rel, path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    assert ast.get_docstring(tree), f"{rel} needs a docstring saying who calls it and when"


@pytest.mark.parametrize("part", [p for p in PARTS if p != "cli"])     # cli/__init__ is uec-clc-ha-ctl's main
def test_a_part_does_no_work_at_import(part):
    tree = ast.parse(open(os.path.join(PACKAGE, part, "__init__.py"), encoding="utf-8").read())
    assert [type(n).__name__ for n in tree.body] == ["Expr"], f"{part}/__init__.py: its docstring only"
    assert "Called by" in ast.get_docstring(tree) and "Owns" in ast.get_docstring(tree)


def test_the_arrows():
    for rel, path in modules():
        deps = imported(path)
        assert "relative" not in deps, f"{rel}: absolute imports only"
        if rel.startswith("agent/"):
            outside = {d for d in deps if not d.startswith(("uec_clc_ha.agent", "uec_clc_ha.errors"))
                       and d not in ("uec_clc_ha", "uec_clc_ha.__version__")}
            assert not outside, f"{rel} imports {outside}: the agent imports only itself and the error tree"
        if not rel.startswith("cli/") and rel != "host/maint.py":
            assert not {d for d in deps if d.startswith("uec_clc_ha.cli")}, f"{rel} imports the CLI"
