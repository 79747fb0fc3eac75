"""Plugins: installed packages add to stitchcli's registries through entry points, loaded on first use.

Each group names a registry and each entry point's object is what gets registered; encoder sources
and heads are registered under the entry point's name, the other objects carry their own ``name``
(``pyproject.toml`` of a plugin)::

    [project.entry-points."stitchcli.anchor_strategies"]
    every_other = "my_plugin:EVERY_OTHER"   # an AnchorStrategy

| group | object |
|---|---|
| ``stitchcli.encoders`` | a loader ``(target, EncoderOptions) -> Encoder`` for specs ``<name>:<target>`` |
| ``stitchcli.datasets`` | a ``DatasetSource`` |
| ``stitchcli.similarities`` | a ``Similarity`` |
| ``stitchcli.anchor_strategies`` | an ``AnchorStrategy`` |
| ``stitchcli.heads`` | a builder ``(HeadConfig) -> torch.nn.Module`` (with ``fit`` for closed-form heads) |
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

_LOADED: set[str] = set()


def load_group(group: str, register: Callable[[str, object], None]) -> None:
    """Register every entry point of ``group`` once per process. A plugin that fails to load is
    reported on stderr and skipped, so that one broken package does not break every command."""
    if group in _LOADED:
        return
    _LOADED.add(group)
    for entry in entry_points(group=group):
        try:
            register(entry.name, entry.load())
        except Exception as exc:  # noqa: BLE001 - any plugin error, reported and skipped
            from stitchcli.console import log

            log(f"[yellow]warning:[/] plugin {entry.name} ({entry.value}) of {group} did not load: {exc}")


def reset() -> None:
    """Forget which groups were loaded (tests install plugins at run time)."""
    _LOADED.clear()
