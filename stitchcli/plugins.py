"""Plugins: installed packages add to stitchcli's registries and commands through entry points.

Each group feeds one ``Registry`` (``stitchcli.registry``), loaded once on its first lookup, or the
root ``stitch`` app. The entry point's object is what gets registered: under the entry point's name,
or under the object's own ``name`` where the table says so (``pyproject.toml`` of a plugin)::

    [project.entry-points."stitchcli.anchor_strategies"]
    every_other = "my_plugin:EVERY_OTHER"   # an AnchorStrategy named "every_other"

    [project.entry-points."stitchcli.commands"]
    my_plugin = "my_plugin:register_commands"

| group | object (registered under: *entry* name, or its own *name*) |
|---|---|
| ``stitchcli.encoders`` | *entry*: a loader ``(target, EncoderOptions) -> Encoder``, specs ``<entry>:…`` |
| ``stitchcli.datasets`` | *name*: a ``DatasetSource`` |
| ``stitchcli.similarities`` | *name*: a ``Similarity`` |
| ``stitchcli.normalizations`` | *name*: a ``Normalization`` |
| ``stitchcli.anchor_strategies`` | *name*: an ``AnchorStrategy`` |
| ``stitchcli.heads`` | *entry*: a builder ``(HeadConfig) -> nn.Module`` (with ``fit``: closed form) |
| ``stitchcli.tasks`` | *name*: a ``Task`` |
| ``stitchcli.translations`` | *entry*: a map ``(source_anchors, target_anchors) -> x -> translated x`` |
| ``stitchcli.poolings`` | *entry*: a pooling ``(model outputs, attention_mask) -> [batch, dim]`` |
| ``stitchcli.commands`` | ``register_commands(app)``, called with the root typer app |

Commands are read only when ``stitch`` meets a command name it does not know, or lists them
(``stitch --help``): a built-in command's start-up scans no entry points.
"""

from __future__ import annotations

from collections.abc import Callable

from stitchcli import events

_LOADED: set[str] = set()
_loading = 0  # plugin groups being loaded (nested lookups wait)

COMMANDS = "stitchcli.commands"


def entry_points(group: str) -> list:
    """The installed entry points of ``group`` (importlib.metadata is imported on the first scan only)."""
    from importlib.metadata import entry_points as installed

    return list(installed(group=group))


def load_group(group: str, register: Callable[[str, object], None]) -> None:
    """Register every entry point of ``group`` once per process. A plugin that fails to load is
    reported as a warning (``stitchcli.events.warn``) and skipped, so that one broken package does
    not break every command."""
    global _loading
    # While a plugin is being imported, lookups it makes (a built-in task to copy) see the built-ins
    # only: its own group may not be imported again half-way; the others load on a later lookup.
    if group in _LOADED or _loading:
        return
    _LOADED.add(group)
    _loading += 1
    try:
        for entry in entry_points(group):
            try:
                register(entry.name, entry.load())
            except Exception as exc:  # noqa: BLE001 - any plugin error, reported and skipped
                events.warn(f"plugin {entry.name} ({entry.value}) of {group} did not load: {exc}")
    finally:
        _loading -= 1


def add_commands(app: object) -> bool:
    """Call every ``stitchcli.commands`` plugin's ``register_commands(app)`` once per process; True
    if there was any."""
    found: list[str] = []
    load_group(COMMANDS, lambda name, register_commands: (register_commands(app), found.append(name)))
    return bool(found)


def reset() -> None:
    """Forget which groups were loaded (tests install plugins at run time)."""
    _LOADED.clear()
