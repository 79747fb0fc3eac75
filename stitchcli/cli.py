"""Root ``stitch`` app: global options, subcommand wiring, and exception-to-exit-code mapping."""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from stitchcli import __version__
from stitchcli.commands import anchors, compare, embed, evaluate, info, relative, run, sweep, train_head
from stitchcli.errors import ClickException, Interrupted, StitchError


class _FastHelp:
    """Help as typer draws it (rich panels), without two start-up costs of typer 0.29.

    A command's help flag that was not given has the value None, which typer turns into a bool
    through a pydantic TypeAdapter, importing pydantic (~0.1 s) for every `stitch CMD --help`.
    With the default False, already a bool, typer skips the adapter.
    Typer's help renderer imports rich.markdown and rich.traceback (markdown_it, pygments: ~40 ms)
    for markdown markup and pretty tracebacks, both off here; see ``_import_help_renderer``.
    """

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


class StitchCommand(_FastHelp, TyperCommand):
    """A subcommand (fast help, see ``_FastHelp``)."""


class StitchTyper(typer.Typer):
    """A Typer whose subcommands are ``StitchCommand``s unless a command names its own class."""

    def command(self, *args, cls=None, **kwargs):  # noqa: ANN001, ANN201 - typer's signature
        return super().command(*args, cls=cls or StitchCommand, **kwargs)


class StitchGroup(_FastHelp, TyperGroup):
    """Turns every failure into one ``Error:`` line (exit 1) unless ``--debug`` is given."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: ANN001
        # typer would draw errors in rich panels; scripts grep for one plain ``Error:`` line.
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as exc:
            if not standalone_mode:
                raise
            exc.show()
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            print("Aborted.", file=sys.stderr)
            sys.exit(1)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):  # noqa: ANN001 - a typer/click Context
        debug = bool(ctx.params.get("debug")) or os.environ.get("STITCH_DEBUG") == "1"
        try:
            return super().invoke(ctx)
        except (ClickException, typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            if debug:
                raise
            raise Interrupted("stopped by Ctrl-C; run the same command again to resume.") from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence for users
            if debug:
                raise
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise StitchError(
                f"{type(exc).__name__}: {message}" if message else type(exc).__name__,
                hint="this looks like a bug or an unusual input; rerun with --debug for the traceback.",
            ) from exc


app = StitchTyper(
    cls=StitchGroup,
    name="stitch",
    help="Zero-shot model stitching with relative representations.\n\n"
    "Embed a dataset with any encoder, pick anchors, train a head on one encoder's relative "
    "vectors and evaluate it on any other encoder's, with no training.",
    no_args_is_help=True,
    add_completion=False,
    # Locals would print whole tensors; tracebacks only appear with --debug anyway.
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stitch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks instead of one-line errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Zero-shot model stitching with relative representations."""


embed.register(app)
anchors.register(app)
relative.register(app)
train_head.register(app)
evaluate.register(app)
compare.register(app)
sweep.register(app)
run.register(app)
info.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
