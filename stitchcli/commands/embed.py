"""``stitch embed``: encode a dataset with one encoder into an embeddings file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.commands.options import (
    MODEL,
    CenterOpt,
    DatasetOpt,
    DeviceOpt,
    DtypeOpt,
    ImageColumnOpt,
    LabelColumnOpt,
    MaxLengthOpt,
    OutOpt,
    PoolingOpt,
    QuietOpt,
    SimilarityOpt,
    SplitOpt,
    StreamingOpt,
    TextColumnOpt,
    TrustRemoteCodeOpt,
    WeightsOpt,
)


def embed(
    encoder: Annotated[str, typer.Option(
        "--encoder", "-e", help="hf:<hub id or model dir> or timm:<model name>.",
        rich_help_panel=MODEL)],
    dataset: DatasetOpt,
    out: OutOpt,
    split: SplitOpt = None,
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
    image_column: ImageColumnOpt = "image",
    streaming: StreamingOpt = False,
    pooling: PoolingOpt = None,
    max_length: MaxLengthOpt = 256,
    batch_size: Annotated[int, typer.Option(help="Samples per forward pass.")] = 32,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = "float32",
    weights: WeightsOpt = None,
    limit: Annotated[int | None, typer.Option(help="Embed only the first N samples.")] = None,
    trust_remote_code: TrustRemoteCodeOpt = False,
    anchors: Annotated[Path | None, typer.Option(
        help="Anchor set from `stitch anchors`: also store anchor embeddings and relative vectors.")] = None,
    anchor_view: Annotated[str | None, typer.Option(
        help="Which of the anchor set's parallel views to embed the anchors from (default: the view "
        "of --dataset, else the first of its modality).")] = None,
    similarity: SimilarityOpt = "cosine",
    center: CenterOpt = defaults.CENTER,
    chunk_size: Annotated[int, typer.Option(
        help="Samples per saved chunk: an interrupted run resumes from the last chunk.")] = 1024,
    no_resume: Annotated[bool, typer.Option("--no-resume", help="Ignore saved partial results.")] = False,
    num_workers: Annotated[int, typer.Option(
        help="Worker processes that read, decode and tokenise/transform batches ahead of the model "
        "(0: in this process). The output does not change.")] = 0,
    shard: Annotated[str | None, typer.Option(
        help="Embed only the INDEX/COUNT-th contiguous part of the rows (from 0/N) into "
        "OUT-{INDEX+1:05d}-of-{COUNT:05d}.safetensors (e.g. emb-00001-of-00004.safetensors); "
        "under torchrun or a SLURM array it comes "
        "from the environment. `stitch merge OUT` then writes OUT.index.json.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Embed again even if --out is up to date (same encoder, options, data, anchors).")
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Embed a dataset with an encoder and cache the vectors (+ relative vectors) to safetensors."""
    from stitchcli.commands._output import Output
    from stitchcli.commands.options import check_dataset_exists, check_streaming
    from stitchcli.encoders import parse_spec

    # Checked before torch is imported (~2 s): a wrong spec or path fails at once.
    from stitchcli.storage import parse_shard, store

    output = Output(quiet=quiet)
    parse_spec(encoder)
    part = parse_shard(shard) if shard is not None else None
    store.check_writable(out)
    check_streaming(dataset, streaming)
    if anchor_view is not None and anchors is None:
        from stitchcli.errors import UsageError

        raise UsageError("--anchor-view picks a view of --anchors; give --anchors too")
    check_dataset_exists(dataset)
    if anchors is not None:
        store.load_metadata_checked(anchors, kind="anchors")
    from stitchcli.commands.options import refuse_overwrite, source_path

    refuse_overwrite([out, *([part.path(out)] if part is not None else [])],
                     {"--dataset": source_path(dataset), "--anchors": anchors, "--weights": weights},
                     encoder=encoder)

    from stitchcli.console import safe
    from stitchcli.data import ReadOptions
    from stitchcli.embed import EmbedRequest, run_embed
    from stitchcli.encoders import EncoderOptions

    result = run_embed(EmbedRequest(
        encoder=encoder, dataset=dataset, out=out,
        read=ReadOptions(split, text_column, label_column, image_column, streaming),
        encoder_options=EncoderOptions(pooling, max_length, device, dtype, weights,
                                       trust_remote_code),
        batch_size=batch_size, limit=limit, anchors=anchors, anchor_view=anchor_view, similarity=similarity,
        center=center, chunk_size=chunk_size, resume=not no_resume, force=force, shard=part,
        num_workers=num_workers,
    ))
    meta = result.meta
    shard = meta.shard
    # The file this process wrote, by its real name (Hugging Face's shard naming).
    written = str(out) if shard is None else f"{result.path} (shard {shard.index + 1} of {shard.count})"
    if result.up_to_date:
        output.log(f"{written} is up to date (same encoder, options, data and anchors); --force embeds again")
    else:
        extra = f", relative to {meta.relative.num_anchors} anchors" if meta.relative is not None else ""
        output.log(f"[green]wrote[/] {written}: {meta.num_samples} × {meta.dim} from "
                   f"{safe(meta.encoder)}{extra}")
    if result.index is not None:
        output.log(f"[green]wrote[/] {result.index}: every shard is done")


def register(app: typer.Typer) -> None:
    app.command("embed")(embed)
