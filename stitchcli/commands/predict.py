"""``stitch predict``: a head's labels and scores for every sample, read from an embeddings file or
embedded now (with the head's own anchors) by any encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import (
    DeviceOpt,
    DtypeOpt,
    ImageColumnOpt,
    JsonOpt,
    LabelColumnOpt,
    MaxLengthOpt,
    PoolingOpt,
    QuietOpt,
    SplitOpt,
    StreamingOpt,
    TextColumnOpt,
    TrustRemoteCodeOpt,
    WeightsOpt,
    refine_option,
    translate_option,
)

MODEL = "Embedding with --encoder"


def predict(
    head: Annotated[str, typer.Option(
        "--head", help="Head: a file from `stitch train-head`, a folder holding head.safetensors, or "
        "hf:ORG/NAME[@REVISION] from the hub.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Predictions: .csv, .jsonl or .parquet (needs stitchcli\\[parquet]); for a "
        "reconstruction head, a folder of PNG images (with index.csv).")],
    embeddings: Annotated[Path | None, typer.Option(
        "--embeddings", help="Embeddings file (plain or a shard index) of any encoder that embedded the "
        "head's anchors; labels are not needed.")] = None,
    encoder: Annotated[str | None, typer.Option(
        "--encoder", "-e", help="Embed --dataset and the head's anchors with this encoder (hf:… or "
        "timm:…) instead of reading --embeddings.", rich_help_panel=MODEL)] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", help="Data to embed with --encoder (any --dataset source of `stitch embed`; "
        "labels are not needed).", rich_help_panel=MODEL)] = None,
    split: SplitOpt = None,
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
    image_column: ImageColumnOpt = "image",
    streaming: StreamingOpt = False,
    id_column: Annotated[str | None, typer.Option(
        help="Column of the data's source to use as each row's id (default: the row number).")] = None,
    top_k: Annotated[int, typer.Option(help="Also the N best labels and their scores.")] = 1,
    translate: Annotated[str | None, translate_option(
        "For absolute heads, the map fitted on the shared anchors", "the map the head records")] = None,
    refine: Annotated[int | None, refine_option("the rounds the head records")] = None,
    anchor_view: Annotated[str | None, typer.Option(
        help="Which parallel view of the head's anchors the encoder embeds (default: that of the data's "
        "modality).", rich_help_panel=MODEL)] = None,
    batch_size: Annotated[int, typer.Option(help="Samples per forward pass.", rich_help_panel=MODEL)] = 32,
    device: DeviceOpt = "auto",
    num_workers: Annotated[int, typer.Option(
        help="Worker processes that read and prepare batches.", rich_help_panel=MODEL)] = 0,
    max_length: MaxLengthOpt = 256,
    pooling: PoolingOpt = None,
    dtype: DtypeOpt = "float32",
    weights: WeightsOpt = None,
    shard: Annotated[str | None, typer.Option(
        help="Embed and predict only the INDEX/COUNT-th part of the rows, into "
        "OUT-{INDEX+1:05d}-of-{COUNT:05d}.csv (e.g. pred-00001-of-00004.csv); under torchrun every "
        "rank embeds its part and rank 0 writes OUT.",
        rich_help_panel=MODEL)] = None,
    trust_remote_code: TrustRemoteCodeOpt = False,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Predict labels (or values, or images) with a head trained on any encoder: for an embeddings
    file, or for a dataset embedded now (with the head's own anchors) by another encoder."""
    from stitchcli.commands._output import Output
    from stitchcli.errors import UsageError
    from stitchcli.heads import get_task, resolve_head
    from stitchcli.metadata import HeadMeta
    from stitchcli.storage import parse_shard, store

    output = Output(json_output, quiet)
    # Checked before torch is imported (~2 s): a wrong path or output fails at once.
    if (embeddings is None) == (encoder is None):
        raise UsageError("give either --embeddings FILE or --encoder SPEC with --dataset SOURCE")
    if encoder is not None and dataset is None:
        raise UsageError("--encoder embeds --dataset; give --dataset too")
    if embeddings is not None and (dataset is not None or shard is not None):
        raise UsageError("--dataset and --shard go with --encoder; --embeddings is already embedded")
    if top_k < 1:
        raise UsageError(f"--top-k must be at least 1, got {top_k}")
    head_path = resolve_head(head)
    meta = HeadMeta.from_metadata(store.load_metadata_checked(head_path, kind="head"), str(head_path))
    task = get_task(meta.task)
    task.check_output(out)
    part = parse_shard(shard) if shard is not None else None
    from stitchcli.commands.options import refuse_overwrite, source_path

    refuse_overwrite([out, *([part.path(out)] if part is not None else [])],
                     {"--head": head_path, "--embeddings": embeddings, "--dataset": source_path(dataset),
                      "--weights": weights}, encoder=encoder, folder=task.images)
    if embeddings is not None:
        store.load_metadata_checked(embeddings, kind="embeddings")
    else:
        from stitchcli.commands.options import check_dataset_exists, check_streaming
        from stitchcli.encoders import parse_spec

        parse_spec(encoder)
        check_streaming(dataset, streaming)
        check_dataset_exists(dataset)

    from stitchcli.console import safe
    from stitchcli.heads import load_head
    from stitchcli.translate import translation_methods

    if translate is not None and translate != "none":
        translation_methods([translate])
    loaded = load_head(head_path)
    if embeddings is not None:
        from stitchcli.evaluate import PredictRequest, run_predict

        summary = run_predict(PredictRequest(loaded, embeddings, out, top_k, translate, id_column, refine))
    else:
        from stitchcli.data import ReadOptions
        from stitchcli.encoders import EncoderOptions
        from stitchcli.jobs import PredictDataRequest, run_predict_on_data

        read = ReadOptions(split, text_column, label_column, image_column, streaming)
        request = PredictDataRequest(
            loaded, encoder, dataset, out, read,
            EncoderOptions(pooling, max_length, device, dtype, weights, trust_remote_code),
            top_k, translate, id_column, anchor_view, batch_size, num_workers, shard=part, refine=refine)
        summary = run_predict_on_data(request)
        if summary.get("predictions") is None:  # a torchrun rank other than 0
            return

    def line() -> str:
        accuracy = summary["accuracy"]
        scored = "" if accuracy is None else f", accuracy {accuracy:.3f}"
        return (f"[green]wrote[/] {safe(summary['predictions'])}: {summary['num_samples']} predictions of "
                f"{safe(summary['head_encoder'])}'s head on {safe(summary['encoder'])}{scored}")

    output.result(summary, line)


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
