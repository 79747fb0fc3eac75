"""``stitch merge``: the index of a sharded embed (and, with --concat, one plain file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import QuietOpt


def merge(
    out: Annotated[Path, typer.Argument(help="The --out the shards were embedded for (emb.safetensors).")],
    concat: Annotated[bool, typer.Option(
        "--concat", help="Also write OUT itself: every shard joined into one plain file.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Check that every shard of OUT is there, from one run, and write OUT.index.json."""
    from stitchcli.console import log
    from stitchcli.storage import store, write_index

    store.check_writable(out)
    index = write_index(out)
    if not quiet:
        log(f"[green]wrote[/] {index}")
    if concat:
        from stitchcli.storage import concat_shards

        metadata = concat_shards(index, out)
        if not quiet:
            log(f"[green]wrote[/] {out}: {metadata['num_samples']} rows, every shard joined")


def register(app: typer.Typer) -> None:
    app.command("merge")(merge)
