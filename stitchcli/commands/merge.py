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
    from stitchcli.commands._output import Output
    from stitchcli.storage import store, write_index

    output = Output(quiet=quiet)
    store.check_writable(out)
    from stitchcli.commands.options import refuse_overwrite
    from stitchcli.storage import index_path, shard_files

    refuse_overwrite([index_path(out), *([out] if concat else [])], {"the shard": shard_files(out)},
                     what="merge's output")
    index = write_index(out)
    output.log(f"[green]wrote[/] {index}")
    if concat:
        from stitchcli.metadata import EmbeddingsMeta
        from stitchcli.storage import concat_shards

        meta = EmbeddingsMeta.from_metadata(concat_shards(index, out), str(out))
        output.log(f"[green]wrote[/] {out}: {meta.num_samples} rows, every shard joined")


def register(app: typer.Typer) -> None:
    app.command("merge")(merge)
