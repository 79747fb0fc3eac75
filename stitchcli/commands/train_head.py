"""``stitch train-head``: train a head (classes, values or images) on one encoder's vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.commands.options import (
    ACTIVATION_CHOICES,
    ARCH_CHOICES,
    TASK_CHOICES,
    JsonOpt,
    NormalizeOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    TopkOpt,
    TopkPowerOpt,
    refine_option,
    translate_option,
)


def train_head(
    embeddings: Annotated[Path, typer.Option(help="Train embeddings file from `stitch embed`.")],
    out: OutOpt,
    space: Annotated[str, typer.Option(
        help="absolute (raw embeddings; stitched by --translate) or relative (similarities to the "
        "anchors; stitched as they are).")] = defaults.SPACE,
    arch: Annotated[str | None, typer.Option(
        help=f"{ARCH_CHOICES} \\[default: logistic; ridge for regression and reconstruction].")] = None,
    task: Annotated[str, typer.Option(
        help=f"What the head predicts: {TASK_CHOICES} (classification: the source's labels; regression: "
        "numeric --target-column values; reconstruction: the input image, resized to --target-size)."
    )] = "classification",
    target_column: Annotated[list[str] | None, typer.Option(
        help="Regression: a numeric column of the source (repeatable; a column of lists gives one output "
        "per element).")] = None,
    target_size: Annotated[int, typer.Option(
        help="Reconstruction: images are resized to this many pixels a side (grayscale or RGB as the data "
        "are).")] = defaults.TARGET_SIZE,
    translate: Annotated[str | None, translate_option(
        "How an absolute head reads other encoders, a map fitted on the shared anchors (the head carries "
        "its anchors' embeddings; none: the baseline)",
        f"{defaults.TRANSLATE} for --space absolute")] = None,
    refine: Annotated[int | None, refine_option(
        f"{defaults.REFINE_ROUNDS}; evaluate and predict --refine override it")] = None,
    pool_rows: Annotated[int, typer.Option(
        min=0, help="Translated heads carry a seeded sample of this many train rows to refine their map "
        "with (--refine); 0: none, a smaller file.")] = defaults.POOL_ROWS,
    normalize: NormalizeOpt = defaults.NORMALIZE,
    topk: TopkOpt = defaults.TOPK,
    topk_power: TopkPowerOpt = defaults.TOPK_POWER,
    hidden: Annotated[int, typer.Option(help="Hidden width of the mlp head.")] = defaults.HIDDEN,
    activation: Annotated[str, typer.Option(help=f"{ACTIVATION_CHOICES} (mlp).")] = defaults.ACTIVATION,
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
    from stitchcli.commands._output import Output
    from stitchcli.storage import store

    output = Output(json_output, quiet)
    # Checked before torch is imported (~2 s): a wrong path fails at once.
    store.check_writable(out)
    from stitchcli.heads import get_task

    metadata = store.load_metadata_checked(embeddings, kind="embeddings")
    from stitchcli.commands.options import refuse_overwrite
    from stitchcli.metadata import EmbeddingsMeta

    source = EmbeddingsMeta.from_metadata(metadata, str(embeddings)).dataset  # read for targets
    refuse_overwrite(out, {"--embeddings": embeddings, "--anchors": anchors,
                           "the embeddings' source": source})
    if get_task(task).classifies:
        store.require_labels(embeddings, metadata, "train a head")

    from stitchcli.console import safe
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
    if refine and translate is None:
        from stitchcli.errors import UsageError

        raise UsageError("--refine refines the map of a translated head; this head reads no map",
                         hint="use --space absolute with a --translate map, or leave out --refine.")
    head = train(TrainRequest(embeddings, space, arch, hidden, activation, epochs, lr, batch_size,
                              weight_decay, seed, transform=transform,
                              translate=translate or "none", anchors=anchors, task=task,
                              target_columns=target_column or [], target_size=target_size,
                              refine=defaults.REFINE_ROUNDS if refine is None else refine,
                              pool_rows=pool_rows))
    save_head(out, head)
    summary = {"head": str(out), "encoder": head.encoder, "space": space, "arch": head.config.arch,
               "task": task, **head.transform.as_json(),
               **head.meta.scores}
    if translate is not None:
        summary["translate"] = translate
        summary["refine"], summary["pool_rows"] = head.refinement(), head.meta.pool_rows
    summary["anchor_samples"] = head.meta.anchor_samples or "none"
    if json_output:
        output.data(summary)
    elif not quiet:
        inputs = (f" ({head.transform.describe()})" if space == "relative"
                  else f" (via {translate})" if translate else "")
        score = (f"train accuracy {summary['train_accuracy']:.3f}" if "train_accuracy" in summary
                 else f"train MSE {summary['train_mse']:.4g}"
                 + (f", R² {summary['train_r2']:.3f}" if "train_r2" in summary else ""))
        kind = "" if head.task.classifies else f" {task}"
        output.log(f"[green]wrote[/] {out}: {space}{inputs} {head.config.arch}{kind} head on "
                   f"{safe(head.encoder)}, {score}")


def register(app: typer.Typer) -> None:
    app.command("train-head")(train_head)
