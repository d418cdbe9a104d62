"""The package's layout shows its architecture, and every import points down (read from the source).

- every module opens with a docstring; each subpackage's __init__ (but the
  CLI's, which is uec-clc-ha-ctl's main) is only that docstring (what it
  owns, who calls it): importing a part does no work;
- the layers, from the bottom: errors; host and agent (side by side, neither
  imports the other); config; data; cluster; cli and maint (side by side).
  A module imports its own layer or one below it, never one above: the
  agent only itself and the error tree (it runs every few seconds for years;
  it never imports config), and nothing imports cli or maint.
- every import of the package's own modules is made at the top of a module
  (an import inside a function is how an upward edge hides), but in the
  agent: its actions import what only they need, since Pacemaker starts it
  every few seconds.
"""

import ast
import os

import pytest

from checkout import TOP

PACKAGE_DIR = os.path.join(TOP, "src", "uec_clc_ha")
# The order of the layers: a module may import from its own rank or a lower one.
RANK = {"errors": 0, "host": 1, "agent": 1, "config": 2, "data": 3, "cluster": 4, "cli": 5, "maint": 5,
        "arbiter": 5}
PARTS = tuple(sorted(p for p in RANK if p != "errors"))


def modules():
    for base, _, files in os.walk(PACKAGE_DIR):
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(base, f)
                yield os.path.relpath(path, PACKAGE_DIR), path


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
    subpackages = sorted(d for d in os.listdir(PACKAGE_DIR) if os.path.isdir(os.path.join(PACKAGE_DIR, d))
                         and d != "__pycache__")
    assert subpackages == sorted(PARTS)
    flat = sorted(f for f in os.listdir(PACKAGE_DIR) if f.endswith(".py"))
    assert flat == ["__init__.py", "errors.py"]


@pytest.mark.parametrize("rel, path", list(modules()), ids=lambda x: x if "/" not in x or x.count("/") < 2 else "")
def test_every_module_opens_with_a_docstring(rel, path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    assert ast.get_docstring(tree), f"{rel} needs a docstring saying who calls it and when"


@pytest.mark.parametrize("part", [p for p in PARTS if p != "cli"])     # cli/__init__ is uec-clc-ha-ctl's main
def test_a_part_does_no_work_at_import(part):
    tree = ast.parse(open(os.path.join(PACKAGE_DIR, part, "__init__.py"), encoding="utf-8").read())
    assert [type(n).__name__ for n in tree.body] == ["Expr"], f"{part}/__init__.py: its docstring only"
    assert "Called by" in ast.get_docstring(tree) and "Owns" in ast.get_docstring(tree)


def layer(dotted):
    """The layer of a module named uec_clc_ha.X[.…] (None for the package's own __init__)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else None


def test_the_layers_are_the_documented_ones():
    assert set(RANK) == set(PARTS) | {"errors"}


@pytest.mark.parametrize("rel, path", list(modules()), ids=lambda x: x if "/" not in x or x.count("/") < 2 else "")
def test_every_import_points_down(rel, path):
    deps = imported(path)
    assert "relative" not in deps, f"{rel}: absolute imports only"
    own = rel.split("/")[0].removesuffix(".py")
    if own == "__init__":
        return
    for dep in deps:
        other = layer(dep)
        if other is None or other == "__version__":
            continue
        assert other in RANK, f"{rel} imports {dep}, which is in no layer"
        if own == "agent":
            assert other in ("agent", "errors"), f"{rel} imports {dep}: the agent imports only itself and errors"
        elif other in ("cli", "maint"):
            assert other == own, f"{rel} imports {dep}: nothing imports cli or maint"
        else:
            assert RANK[other] <= RANK[own] and not (other == "agent" and own == "host") and \
                not (other == "host" and own == "agent"), f"{rel} ({own}) imports {dep} ({other}), a layer above"


@pytest.mark.parametrize("rel, path", [m for m in modules() if not m[0].startswith("agent/")],
                         ids=lambda x: x if "/" not in x or x.count("/") < 2 else "")
def test_imports_are_at_the_top(rel, path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    top = {id(n) for n in tree.body}

    def ours(node):
        if isinstance(node, ast.ImportFrom):
            return bool(node.module and node.module.startswith("uec_clc_ha"))
        return isinstance(node, ast.Import) and any(a.name.startswith("uec_clc_ha") for a in node.names)
    late = [n.lineno for n in ast.walk(tree) if ours(n) and id(n) not in top]
    assert not late, f"{rel}: the package's modules imported inside a function (lines {late}); import at the top"


UNIT = os.path.join(TOP, "tests", "unit")
# Unit tests of the whole package rather than one module: the layout (this file), the version, the generated files.
PACKAGE_WIDE = ("test_generated.py", "test_layout.py", "test_version.py")


def test_unit_tests_mirror_the_package():
    """tests/unit/LAYER/test_MODULE.py tests src/uec_clc_ha/LAYER/MODULE.py (test_main: the layer's __init__)."""
    for base, dirs, files in os.walk(UNIT):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        layer = os.path.relpath(base, UNIT)
        for f in files:
            if not f.startswith("test_") or not f.endswith(".py"):
                continue
            if layer == ".":
                assert f in PACKAGE_WIDE, f"tests/unit/{f}: put it beside the module it tests (tests/unit/LAYER/)"
                continue
            module = "__init__" if f == "test_main.py" else f.removeprefix("test_").removesuffix(".py")
            assert os.path.exists(os.path.join(PACKAGE_DIR, layer, module + ".py")), \
                f"tests/unit/{layer}/{f} names no module src/uec_clc_ha/{layer}/{module}.py"


def test_unit_tests_reach_no_network_beyond_loopback():
    """The guard of tests/unit/conftest.py: a documentation address is refused before a packet leaves, loopback
    works (a test's own server)."""
    import socket

    with socket.socket() as s:
        s.settimeout(1)
        try:
            s.connect(("198.51.100.100", 8443))
        except BaseException as e:                      # the guard's exception is not an Exception on purpose
            assert type(e).__name__ == "NetworkRefused", e
        else:
            raise AssertionError("a unit test reached 198.51.100.100")
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client.connect(server.getsockname())
