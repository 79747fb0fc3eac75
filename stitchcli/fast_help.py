"""Help as typer draws it (rich panels), minus start-up costs: no pydantic for the help flag, no
markdown or traceback rendering that our help never uses, and no "<bool>" beside flags."""

from __future__ import annotations

import importlib
import sys
import types

import typer
from typer.core import TyperCommand


class FastHelp:
    """Help as typer draws it (rich panels), without two start-up costs of typer 0.29.

    A command's help flag that was not given has the value None, which typer turns into a bool
    through a pydantic TypeAdapter, importing pydantic (~0.1 s) for every `stitch CMD --help`.
    With the default False, already a bool, typer skips the adapter.
    Typer's help renderer imports rich.markdown and rich.traceback (markdown_it, pygments: ~40 ms)
    for markdown markup and pretty tracebacks, both off here; see ``_import_help_renderer``.
    """

    def get_params(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        # Flags take no value: typer 0.29 would print a "<bool>" type beside each of them.
        # Repeatable options: "<path> …" rather than typer's "<list[Path]>".
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            elif param.metavar is None and getattr(param, "multiple", False):
                shown = param.display_type(ctx) if hasattr(param, "display_type") else ""
                shown = shown or ""
                inner = shown.removeprefix("<list[").removesuffix("]>")
                param.metavar = f"<{inner.lower()}> …" if inner != shown else None
        return params

    def collect_usage_pieces(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        # "stitch run [OPTIONS] ENCODERS..." as click and most CLIs write it, not typer's "{encoders}...".
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if getattr(param, "param_type_name", "") != "argument":
                pieces.extend(param.get_usage_pieces(ctx))
                continue
            name = (param.metavar or param.name or "").upper() + ("..." if param.nargs != 1 else "")
            pieces.append(name if param.required else f"[{name}]")
        return pieces

    def get_help_option(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option

    def format_help(self, ctx, formatter):  # noqa: ANN001, ANN201
        if getattr(self, "rich_markup_mode", None) is not None:  # None: plain click help
            _import_help_renderer()
        return super().format_help(ctx, formatter)


# Modules that typer.rich_utils imports but never uses for our help (markup mode "rich", pretty
# exceptions off), and the one name it takes from each.
_UNUSED_BY_HELP = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _import_help_renderer() -> None:
    """Import typer.rich_utils with stand-ins for ``_UNUSED_BY_HELP``, removed right after; should
    typer ever use one, the stand-in imports the real class then, so the help stays correct."""
    if "typer.rich_utils" in sys.modules:
        return
    stand_ins = {name: _stand_in(name, attr) for name, attr in _UNUSED_BY_HELP.items()
                 if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        import typer.rich_utils  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


class _Deferred(type):
    """Type of a stand-in class: calls and attributes go to the real class, imported on first use."""

    def __call__(cls, *args, **kwargs):
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(cls._real(), name)


def _stand_in(module: str, name: str) -> types.ModuleType:
    def real() -> type:
        return getattr(importlib.import_module(module), name)

    stand_in = types.ModuleType(module)
    setattr(stand_in, name, _Deferred(name, (), {"_real": staticmethod(real), "__module__": module}))
    return stand_in


class StitchCommand(FastHelp, TyperCommand):
    """A subcommand (fast help, see ``_FastHelp``)."""


class StitchTyper(typer.Typer):
    """A Typer whose subcommands are ``StitchCommand``s unless a command names its own class."""

    def command(self, *args, cls=None, **kwargs):  # noqa: ANN001, ANN201 - typer's signature
        return super().command(*args, cls=cls or StitchCommand, **kwargs)
