"""``stitch import``: embeddings made elsewhere as an ordinary embeddings file (relative vectors included)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.commands.options import CenterOpt, JsonOpt, OutOpt, QuietOpt, SimilarityOpt


def import_vectors(
    vectors: Annotated[Path, typer.Argument(
        help="Vectors made elsewhere: .npy (N×D), .npz or .safetensors (an 'embeddings' array), or "
        ".parquet.")],
    ids: Annotated[str, typer.Option(
        "--ids", help="Each vector's sample id: a file (one id per line, .npy or .json) or a column / "
        "array of the vectors file.")],
    anchors: Annotated[Path, typer.Option(help="Anchor set from `stitch anchors --ids IDS_FILE`.")],
    out: OutOpt,
    labels: Annotated[str | None, typer.Option(
        help="Each vector's label: a file (one per line) or a column / array of the vectors file "
        "\\[default: unlabelled].")] = None,
    vector_column: Annotated[str, typer.Option(
        help="Parquet: the column holding the vectors.")] = "embedding",
    anchor_embeddings_from: Annotated[Path | None, typer.Option(
        help="Take the anchors' vectors from this embeddings file of the same model (e.g. its imported "
        "train file) instead of finding them among VECTORS by id: for test vectors without the "
        "anchors.")] = None,
    similarity: SimilarityOpt = defaults.SIMILARITY,
    center: CenterOpt = defaults.CENTER,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Import vectors made elsewhere (an embedding API, a graph or audio model) for stitching."""
    from stitchcli.commands._output import Output
    from stitchcli.storage import store

    output = Output(json_output, quiet)
    store.load_metadata_checked(anchors, kind="anchors")  # before torch is imported
    if anchor_embeddings_from is not None:
        store.load_metadata_checked(anchor_embeddings_from, kind="embeddings")
    store.check_writable(out)
    from stitchcli.commands.options import refuse_overwrite

    refuse_overwrite(out, {"VECTORS": vectors, "--ids": ids, "--labels": labels, "--anchors": anchors,
                           "--anchor-embeddings-from": anchor_embeddings_from})

    from stitchcli.console import safe
    from stitchcli.embed import ImportRequest, run_import

    meta = run_import(ImportRequest(vectors, ids, anchors, out, labels, vector_column, similarity, center,
                                   anchor_embeddings_from))
    summary = {"embeddings": str(out), "encoder": meta.encoder, "num_samples": meta.num_samples,
               "dim": meta.dim, "num_anchors": meta.relative.num_anchors}
    output.result(summary, lambda: f"[green]wrote[/] {safe(out)}: {summary['num_samples']} × "
                  f"{summary['dim']} imported from {safe(vectors)}, relative to {summary['num_anchors']} "
                  "anchors")


def register(app: typer.Typer) -> None:
    app.command("import")(import_vectors)
