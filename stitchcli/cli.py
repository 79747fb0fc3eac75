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
    check,
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
from stitchcli.errors import Interrupted, StitchError, Terminated
from stitchcli.fast_help import FastHelp, StitchTyper

try:  # typer >= 0.29 vendors click and handles only its own exception classes
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer on top of click
    from click import ClickException


class StitchGroup(FastHelp, TyperGroup):
    """Turns every failure into one ``Error:`` line (exit 1) unless ``--debug`` is given."""

    # Plugins' commands (``stitchcli.commands`` entry points): read only for a name that is not
    # built in, or to list them all (``stitch --help``), so a built-in command scans no entry points.
    def get_command(self, ctx, name):  # noqa: ANN001, ANN201 - click's signature
        command = super().get_command(ctx, name)
        return command or (super().get_command(ctx, name) if self._add_plugin_commands() else None)

    def list_commands(self, ctx):  # noqa: ANN001, ANN201
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def _add_plugin_commands(self) -> bool:
        from stitchcli import plugins

        if not plugins.add_commands(app):
            return False
        for name, command in typer.main.get_command(app).commands.items():
            self.commands.setdefault(name, command)
        return True

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: ANN001
        # typer would draw errors in rich panels; scripts grep for one plain ``Error:`` line.
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except (StitchError, Interrupted) as exc:  # ours: plain exceptions, shown here
            if not standalone_mode:
                raise
            show_error(exc)
            sys.exit(exc.exit_code)
        except ClickException as exc:  # click's own parsing (unknown option, missing value): exit 2
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
            from stitchcli import events
            from stitchcli.console import ConsoleReporter

            # The core reports through the current reporter: progress and status lines on stderr
            # (a command's --quiet or --json installs a quieter one through its output sink).
            with events.use(ConsoleReporter()):
                return super().invoke(ctx)
        except (StitchError, Interrupted, ClickException, typer.Exit, typer.Abort):
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


def show_error(exc: StitchError | Interrupted) -> None:
    """One ``Error:`` line (and a ``Hint:`` line) on stderr; ``Interrupted:`` for a stop."""
    if isinstance(exc, Interrupted):
        print(f"Interrupted: {exc.message}", file=sys.stderr)
        return
    print(f"Error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"Hint: {exc.hint}", file=sys.stderr)


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
check.register(app)


def main() -> None:
    """Run the app; SIGTERM is handled like Ctrl-C by whoever calls this (``stitchcli._entry.main``,
    the console script and ``python -m stitchcli``, installs it before importing the CLI)."""
    import signal

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
