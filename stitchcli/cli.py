"""Root ``stitch`` app: global options, subcommand wiring, and exception-to-exit-code mapping."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from stitchcli import __version__
from stitchcli.commands import (
    anchors,
    compare,
    embed,
    evaluate,
    import_,
    info,
    merge,
    predict,
    prompts,
    push,
    relative,
    run,
    sweep,
    train_head,
)
from stitchcli.errors import ClickException, Interrupted, StitchError, Terminated, terminate_like_ctrl_c
from stitchcli.fast_help import FastHelp, StitchTyper


class StitchGroup(FastHelp, TyperGroup):
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
        except KeyboardInterrupt as exc:
            if debug:
                raise
            if isinstance(exc, Terminated):  # exit 128 + SIGTERM, as a shell reports it
                raise Interrupted("stopped by SIGTERM; run the same command again to resume.", 143) from None
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
predict.register(app)
push.register(app)
compare.register(app)
sweep.register(app)
run.register(app)
merge.register(app)
import_.register(app)
prompts.register(app)
info.register(app)


def main() -> None:
    """Console-script entry point."""
    import signal

    terminate_like_ctrl_c()
    try:
        app()
    finally:
        # The command is over (its output written or not): a signal that arrives while the
        # interpreter shuts down changes nothing, so it no longer turns a finished run into a kill.
        for signum in (signal.SIGTERM, signal.SIGINT):
            try:
                signal.signal(signum, signal.SIG_IGN)
            except ValueError:  # not the main thread
                pass
