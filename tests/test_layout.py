"""The package layout: every module imports, the import graph has no circle (in the package and in the
recipes), commands use only what the subpackages export, and the documented plugin paths still work."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "stitchcli"


def _modules(folder: Path, prefix: str) -> dict[str, Path]:
    found = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((prefix, *parts)) if prefix else ".".join(parts)] = path
    return found


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Lines under ``if TYPE_CHECKING:``: annotations only, never run."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the modules it imports, anywhere in its body (inside functions too)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join([*base, node.module] if node.module else base)
                else:
                    source = node.module or ""
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    targets.add(full if full in modules else source)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circle():
    graph = import_graph(_modules(PACKAGE, "stitchcli"))
    assert "stitchcli.storage.store" in graph  # the walk found the package
    assert cycles(graph) == []


def test_the_recipes_have_no_import_circle():
    modules = {name: path for name, path in _modules(ROOT / "recipes", "").items() if "." not in name}
    graph = import_graph(modules)
    assert {"prepare_assets", "image_assets", "image_data", "asset_common"} <= set(graph)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_circles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("module", sorted(set(_modules(PACKAGE, "stitchcli")) - {"stitchcli.__main__"}))
def test_every_module_imports_and_says_what_it_is(module):
    imported = importlib.import_module(module)
    assert imported.__doc__ and imported.__doc__.strip(), f"{module} has no docstring"


# What the CLI layer may import: the subpackages' __init__ names, and the top-level helpers.
CLI_MAY_IMPORT = {
    "stitchcli", "stitchcli.errors", "stitchcli.console", "stitchcli.defaults", "stitchcli.plugins",
    "stitchcli.fast_help", "stitchcli.commands", "stitchcli.commands.options", "stitchcli.storage.store",
}


def test_commands_import_only_what_subpackages_export():
    modules = _modules(PACKAGE, "stitchcli")
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    graph = import_graph(modules)
    for name in (n for n in graph if n.startswith("stitchcli.commands.")):
        reached = {t for t in graph[name] if not t.startswith("stitchcli.commands.")}
        wrong = reached - packages - CLI_MAY_IMPORT
        assert not wrong, f"{name} imports {sorted(wrong)}: import what the subpackage exports instead"


def test_every_name_a_package_exports_resolves():
    for name, path in _modules(PACKAGE, "stitchcli").items():
        if path.name != "__init__.py":
            continue
        package = importlib.import_module(name)
        for export in getattr(package, "__all__", []):
            assert getattr(package, export) is not None, f"{name}.{export}"


def test_documented_plugin_paths_still_work():
    from stitchcli.anchors import AnchorStrategy, register_strategy  # noqa: F401
    from stitchcli.data import DatasetSource, register_source  # noqa: F401
    from stitchcli.encoders import EncoderOptions, register_encoder_source  # noqa: F401
    from stitchcli.heads import HeadConfig, register_architecture  # noqa: F401
    from stitchcli.relspace import Similarity, register_similarity  # noqa: F401
