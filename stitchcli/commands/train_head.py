"""``stitch train-head``: train a head (classes, values or images) on one encoder's vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.commands.options import (
    JsonOpt,
    NormalizeOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    TopkOpt,
    TopkPowerOpt,
)


def train_head(
    embeddings: Annotated[Path, typer.Option(help="Train embeddings file from `stitch embed`.")],
    out: OutOpt,
    space: Annotated[str, typer.Option(
        help="absolute (raw embeddings; stitched by --translate) or relative (similarities to the "
        "anchors; stitched as they are).")] = defaults.SPACE,
    arch: Annotated[str | None, typer.Option(
        help="logistic (L2 chosen on a validation split, fitted by L-BFGS), prototype (class means, "
        "nearest by cosine), ridge (closed form, penalty chosen on a validation split; for values), "
        "linear or mlp \\[default: logistic; ridge for regression and reconstruction].")] = None,
    task: Annotated[str, typer.Option(
        help="classification (the source's labels), regression (numeric --target-column values) or "
        "reconstruction (the input image, resized to --target-size).")] = "classification",
    target_column: Annotated[list[str] | None, typer.Option(
        help="Regression: a numeric column of the source (repeatable; a column of lists gives one output "
        "per element).")] = None,
    target_size: Annotated[int, typer.Option(
        help="Reconstruction: images are resized to this many pixels a side (grayscale or RGB as the data "
        "are).")] = defaults.TARGET_SIZE,
    translate: Annotated[str | None, typer.Option(
        help=f"How an absolute head reads other encoders: through a map fitted on the shared anchors "
        f"(ridge, procrustes, affine or auto; the head carries its anchors' embeddings), or none (the "
        f"baseline) \\[default: {defaults.TRANSLATE} for --space absolute].")] = None,
    normalize: NormalizeOpt = defaults.NORMALIZE,
    topk: TopkOpt = defaults.TOPK,
    topk_power: TopkPowerOpt = defaults.TOPK_POWER,
    hidden: Annotated[int, typer.Option(help="Hidden width of the mlp head.")] = defaults.HIDDEN,
    activation: Annotated[str, typer.Option(help="silu, tanh, relu or gelu (mlp).")] = defaults.ACTIVATION,
    epochs: Annotated[int, typer.Option(help="Passes over the train file.")] = defaults.EPOCHS,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = defaults.LR,
    batch_size: Annotated[int, typer.Option(help="Samples per step.")] = defaults.BATCH_SIZE,
    weight_decay: Annotated[float, typer.Option(help="Adam weight decay.")] = 0.0,
    seed: SeedOpt = 0,
    anchors: Annotated[Path | None, typer.Option(
        help="Anchor file to carry in the head (its samples let `stitch predict --encoder` embed the "
        "anchors anywhere) \\[default: the one the embeddings were made with].")] = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a head on one embeddings file; it can then be evaluated on any encoder's file."""
    import json

    from stitchcli.storage import store

    # Checked before torch is imported (~2 s): a wrong path fails at once.
    store.check_writable(out)
    from stitchcli.heads import get_task

    get_task(task)
    metadata = store.load_metadata_checked(embeddings, kind="embeddings")
    if task == "classification":
        store.require_labels(embeddings, metadata, "train a head")

    from stitchcli.console import log, safe
    from stitchcli.heads import TrainRequest, save_head
    from stitchcli.heads import train_head as train
    from stitchcli.relspace import RelativeTransform

    transform = RelativeTransform(normalize, topk, topk_power)
    if translate is None:
        translate = defaults.TRANSLATE if space == "absolute" else None
    elif translate == "none":
        translate = None
    elif space != "absolute":
        from stitchcli.errors import UsageError

        raise UsageError("--translate is for absolute heads (relative heads stitch as they are)",
                         hint="use --space absolute, or leave out --translate.")
    head = train(TrainRequest(embeddings, space, arch, hidden, activation, epochs, lr, batch_size,
                              weight_decay, seed, transform=transform, quiet=quiet or json_output,
                              translate=translate or "none", anchors=anchors, task=task,
                              target_columns=target_column or [], target_size=target_size))
    save_head(out, head)
    summary = {"head": str(out), "encoder": head.encoder, "space": space, "arch": head.config.arch,
               "task": task, **head.transform.as_json(),
               **{key: float(head.metadata[key]) for key in ("train_accuracy", "train_mse", "train_r2")
                  if key in head.metadata}}
    if translate is not None:
        summary["translate"] = translate
    summary["anchor_samples"] = head.metadata.get("anchor_samples", "none")
    if json_output:
        typer.echo(json.dumps(summary))
    elif not quiet:
        inputs = (f" ({head.transform.describe()})" if space == "relative"
                  else f" (via {translate})" if translate else "")
        score = (f"train accuracy {summary['train_accuracy']:.3f}" if task == "classification"
                 else f"train MSE {summary['train_mse']:.4g}"
                 + (f", R² {summary['train_r2']:.3f}" if "train_r2" in summary else ""))
        kind = "" if task == "classification" else f" {task}"
        log(f"[green]wrote[/] {out}: {space}{inputs} {head.config.arch}{kind} head on {safe(head.encoder)}, "
            f"{score}")


def register(app: typer.Typer) -> None:
    app.command("train-head")(train_head)
