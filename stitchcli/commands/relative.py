"""``stitch relative``: recompute relative vectors of an embeddings file without the encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.commands.options import CenterOpt, QuietOpt, SimilarityOpt


def relative(
    embeddings: Annotated[Path, typer.Option(help="Embeddings file from `stitch embed`.")],
    anchors: Annotated[Path, typer.Option(help="Anchor set from `stitch anchors`.")],
    similarity: SimilarityOpt = "cosine",
    center: CenterOpt = defaults.CENTER,
    anchor_embeddings_from: Annotated[Path | None, typer.Option(
        help="The same encoder's train embeddings, if they hold the anchor rows and the file "
        "has no anchor embeddings of its own.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output file (default: rewrite the input in place, atomically).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Recompute relative vectors with another similarity or centering, no encoder needed."""
    from stitchcli.commands._output import Output
    from stitchcli.errors import StitchError
    from stitchcli.storage import is_index, store

    output = Output(quiet=quiet)
    if out is None and is_index(embeddings):
        raise StitchError(f"{embeddings} is a shard index: its relative vectors cannot be rewritten in place",
                          hint="give --out FILE.safetensors for the joined result.")
    target = out or embeddings
    # Checked before torch is imported (~2 s): a wrong path fails at once.
    store.load_metadata_checked(embeddings, kind="embeddings")
    store.load_metadata_checked(anchors, kind="anchors")
    if anchor_embeddings_from is not None:
        store.load_metadata_checked(anchor_embeddings_from, kind="embeddings")
    store.check_writable(target)
    if out is not None:  # without --out the input is rewritten in place, atomically, as documented
        from stitchcli.commands.options import refuse_overwrite

        refuse_overwrite(out, {"--embeddings": embeddings, "--anchors": anchors,
                               "--anchor-embeddings-from": anchor_embeddings_from},
                         hint="give another --out, or leave it out to rewrite --embeddings in place.")

    from stitchcli.relspace import recompute_relative

    meta = recompute_relative(embeddings, anchors, similarity, center, anchor_embeddings_from, target)
    output.log(f"[green]wrote[/] {target}: relative vectors ({meta.relative.similarity}"
               f"{', centered' if center else ''}) against {meta.relative.num_anchors} anchors")


def register(app: typer.Typer) -> None:
    app.command("relative")(relative)
