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


def imports(path: Path, module: str):
    """(source module, the names taken from it) of every import in ``path``, anywhere in its body
    (inside functions too; not under ``TYPE_CHECKING``), relative imports resolved; a plain ``import
    x`` takes no names."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            yield source, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the modules it imports, anywhere in its body (inside functions too)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for source, taken in imports(path, name):
            if not taken:
                targets.add(source)
            for alias in taken:
                full = f"{source}.{alias}"
                targets.add(full if full in modules else source)
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
    "stitchcli.events",
}


def test_commands_import_only_what_subpackages_export():
    modules = _modules(PACKAGE, "stitchcli")
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    graph = import_graph(modules)
    for name in (n for n in graph if n.startswith("stitchcli.commands.")):
        reached = {t for t in graph[name] if not t.startswith("stitchcli.commands.")}
        wrong = reached - packages - CLI_MAY_IMPORT
        assert not wrong, f"{name} imports {sorted(wrong)}: import what the subpackage exports instead"


# The CLI layer: parsing, printing and exit codes. Everything else (the core) is free of the CLI
# framework and never prints: it raises plain ``StitchError``s and reports through ``stitchcli.events``.
CLI_LAYER = ("stitchcli.cli", "stitchcli.console", "stitchcli.fast_help", "stitchcli.commands",
             "stitchcli._entry", "stitchcli.__main__")
CLI_ONLY = ("typer", "click", "rich", "stitchcli.cli", "stitchcli.console", "stitchcli.fast_help",
            "stitchcli.commands")


def in_cli_layer(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in CLI_LAYER)


def imported_names(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports anywhere (functions included; not under TYPE_CHECKING), in full."""
    names: set[str] = set()
    for source, taken in imports(path, module):
        names.add(source)
        names.update(f"{source}.{alias}" for alias in taken)
    return names


def _cli_only(names: set[str]) -> set[str]:
    return {n for n in names if any(n == top or n.startswith(top + ".") for top in CLI_ONLY)}


def test_the_core_imports_no_cli_framework_and_never_prints():
    modules = _modules(PACKAGE, "stitchcli")
    wrong = {name: sorted(_cli_only(imported_names(path, name))) for name, path in modules.items()
             if not in_cli_layer(name)}
    wrong = {name: found for name, found in wrong.items() if found}
    assert not wrong, f"the core imports the CLI layer (report through stitchcli.events instead): {wrong}"
    for name, path in modules.items():
        if in_cli_layer(name):
            continue
        calls = [node.lineno for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"]
        assert not calls, f"{name} prints (line {calls[0]}): report through stitchcli.events instead"


def test_the_layer_check_sees_cli_imports():
    assert _cli_only({"typer", "rich.table", "stitchcli.console", "stitchcli.cli", "stitchcli.events",
                      "richer", "stitchcli.consoles"}) == {"typer", "rich.table", "stitchcli.console",
                                                            "stitchcli.cli"}
    assert in_cli_layer("stitchcli.commands.embed") and not in_cli_layer("stitchcli.commands_x")


def test_errors_and_events_import_no_cli_framework():
    for module in ("stitchcli.errors", "stitchcli.events"):
        path = PACKAGE / f"{module.rpartition('.')[2]}.py"
        assert not _cli_only(imported_names(path, module)), module
    from stitchcli.errors import Interrupted, StitchError, UsageError

    assert StitchError.__mro__[1] is Exception and Interrupted.__mro__[1] is Exception
    error = UsageError("a\nb", hint="do  this")
    assert (error.message, error.hint, error.exit_code, str(error)) == ("a b", "do this", 2, "a b")


def test_request_objects_have_no_quiet_flag():
    import dataclasses

    from stitchcli.embed import EmbedRequest
    from stitchcli.heads import TrainRequest
    from stitchcli.jobs import PredictDataRequest, RunRequest

    for request in (EmbedRequest, TrainRequest, RunRequest, PredictDataRequest):
        assert "quiet" not in {f.name for f in dataclasses.fields(request)}, request.__name__


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


# The nine registries (and the mlp's activations), each a ``Registry`` exported by its subpackage.
REGISTRIES = {
    "stitchcli.encoders": ("ENCODER_SOURCES", "POOLINGS"),
    "stitchcli.data": ("SOURCES",),
    "stitchcli.relspace": ("SIMILARITIES", "NORMALIZATIONS"),
    "stitchcli.anchors": ("STRATEGIES",),
    "stitchcli.heads": ("ARCHITECTURES", "ACTIVATIONS", "TASKS"),
    "stitchcli.translate": ("TRANSLATIONS",),
}


def test_every_registry_is_a_registry():
    from stitchcli.registry import Registry

    for package, names in REGISTRIES.items():
        for name in names:
            table = getattr(importlib.import_module(package), name)
            assert isinstance(table, Registry), f"{package}.{name} is a {type(table).__name__}, not a Registry"
            assert table.names(), f"{package}.{name} has no entries"


def test_no_registry_is_a_plain_dict_any_more():
    """No module keeps a table of named things as a module-level dict (or list) under a registry's name:
    a new table is a ``Registry``, with its get error, help texts and plugin group."""
    registry_names = {name for names in REGISTRIES.values() for name in names} | {
        "_BUILTIN", "_REGISTERED", "FORMATS", "MAPS", "METHODS", "HEADS"}
    found = []
    for name, path in _modules(PACKAGE, "stitchcli").items():
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AnnAssign) else []
            value = getattr(node, "value", None)
            plain = isinstance(value, ast.Dict | ast.List | ast.DictComp) or (
                isinstance(value, ast.Call) and getattr(value.func, "id", None) in ("dict", "list"))
            for target in targets:
                if isinstance(target, ast.Name) and target.id in registry_names and plain:
                    found.append(f"{name}.{target.id}")
    assert not found, f"plain dicts where a Registry belongs: {found}"


def test_the_registries_list_their_names_without_torch():
    code = ("import sys\n"
            + "".join(f"from {package} import {', '.join(names)}\n" for package, names in REGISTRIES.items())
            + "names = [t.choices_text() for t in ("
            + ", ".join(name for names in REGISTRIES.values() for name in names) + ")]\n"
            + "print(','.join(m for m in ('torch', 'numpy', 'transformers', 'timm') if m in sys.modules))\n")
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"listing the registries imported {result.stdout.strip()}"


# Metadata is a file's strings: parsed once, by the types of ``stitchcli.metadata`` (and the file format
# itself by ``stitchcli.storage``). Everything else passes those typed objects between stages.
METADATA_READERS = ("stitchcli.metadata", "stitchcli.storage")
METADATA_NAMES = {"meta", "metadata", "existing", "embeddings_meta", "head_meta"}


def _metadata_dict(node: ast.AST) -> bool:
    """Whether ``node`` names a dict of file metadata: ``meta``, ``x.metadata``, ``x.meta`` and alike."""
    return (isinstance(node, ast.Name) and node.id in METADATA_NAMES) or (
        isinstance(node, ast.Attribute) and node.attr in ("metadata",))


def raw_metadata_reads(tree: ast.AST) -> list[int]:
    """Lines that read a metadata string by key: ``meta.get("k")``, ``file.metadata["k"]``."""
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and _metadata_dict(node.func.value)):
            lines.append(node.lineno)
        elif (isinstance(node, ast.Subscript) and _metadata_dict(node.value)
              and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            lines.append(node.lineno)
    return lines


def test_the_check_for_raw_metadata_reads_finds_them():
    code = 'a = meta.get("x")\nb = f.metadata["y"]\nc = meta.encoder\nd = metadata.items()\ne = file.meta.dim\n'
    assert raw_metadata_reads(ast.parse(code)) == [1, 2]


def test_no_raw_metadata_reads_outside_the_metadata_types():
    found = {name: raw_metadata_reads(ast.parse(path.read_text()))
             for name, path in _modules(PACKAGE, "stitchcli").items()
             if not any(name == top or name.startswith(top + ".") for top in METADATA_READERS)}
    found = {name: lines for name, lines in found.items() if lines}
    assert not found, f"metadata strings read by key (use stitchcli.metadata's types): {found}"


def task_name_tests(tree: ast.AST, names: set[str]) -> list[int]:
    """Lines that compare something with a task's name (``task == "regression"``, ``in ("a", "b")``)."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        constants = [c.value for side in sides for c in ast.walk(side) if isinstance(c, ast.Constant)]
        if any(isinstance(c, str) and c in names for c in constants):
            lines.append(node.lineno)
    return lines


def test_no_task_name_tests_outside_the_tasks_module():
    from stitchcli.heads.tasks import TASKS

    names = set(TASKS)
    assert task_name_tests(ast.parse('x = task == "regression"\ny = t in ("a",)\n'), names) == [1]
    found = {name: task_name_tests(ast.parse(path.read_text()), names)
             for name, path in _modules(PACKAGE, "stitchcli").items() if name != "stitchcli.heads.tasks"}
    found = {name: lines for name, lines in found.items() if lines}
    assert not found, f"task names tested outside heads.tasks (give the Task a method instead): {found}"
