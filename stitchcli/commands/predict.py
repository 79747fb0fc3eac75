"""``stitch predict``: a head's labels and scores for every row of an embeddings file (any encoder)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import JsonOpt, QuietOpt


def predict(
    head: Annotated[Path, typer.Option("--head", help="Head file from `stitch train-head`.")],
    embeddings: Annotated[Path, typer.Option(
        "--embeddings", help="Embeddings file (plain or a shard index) of any encoder that embedded the "
        "head's anchors; labels are not needed.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Predictions: .csv, .jsonl or .parquet (needs stitchcli\\[parquet]).")],
    id_column: Annotated[str | None, typer.Option(
        help="Column of the file's source to use as each row's id (default: the row number).")] = None,
    top_k: Annotated[int, typer.Option(help="Also the N best labels and their scores.")] = 1,
    translate: Annotated[str | None, typer.Option(
        help="For absolute heads: ridge, procrustes, affine, auto or none [default: the map the head "
        "records].")] = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Predict labels for every row of an embeddings file with a head trained on any encoder."""
    import json

    from stitchcli.errors import UsageError
    from stitchcli.evaluate import check_output
    from stitchcli.storage import store

    # Checked before torch is imported (~2 s): a wrong path or output fails at once.
    store.load_metadata_checked(head, kind="head")
    store.load_metadata_checked(embeddings, kind="embeddings")
    check_output(out)
    if top_k < 1:
        raise UsageError(f"--top-k must be at least 1, got {top_k}")

    from stitchcli.console import log
    from stitchcli.evaluate import PredictRequest, run_predict
    from stitchcli.heads import load_head
    from stitchcli.translate import translation_methods

    if translate is not None and translate != "none":
        translation_methods([translate])
    summary = run_predict(PredictRequest(load_head(head), embeddings, out, top_k, translate, id_column))
    if json_output:
        typer.echo(json.dumps(summary))
    elif not quiet:
        accuracy = summary["accuracy"]
        scored = "" if accuracy is None else f", accuracy {accuracy:.3f}"
        log(f"[green]wrote[/] {out}: {summary['num_samples']} predictions of {summary['head_encoder']}'s "
            f"head on {summary['encoder']}{scored}")


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
