"""``stitch train-head``: train a classifier head on one encoder's relative (or absolute) vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.commands.options import (
    ArchOpt,
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
    arch: ArchOpt = defaults.ARCH,
    translate: Annotated[str | None, typer.Option(
        help=f"How an absolute head reads other encoders: through a map fitted on the shared anchors "
        f"(ridge, procrustes, affine or auto; the head carries its anchors' embeddings), or none (the "
        f"baseline) [default: {defaults.TRANSLATE} for --space absolute].")] = None,
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
        "anchors anywhere) [default: the one the embeddings were made with].")] = None,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a head on one embeddings file; it can then be evaluated on any encoder's file."""
    import json

    from stitchcli.storage import store

    # Checked before torch is imported (~2 s): a wrong path fails at once.
    store.check_writable(out)
    store.require_labels(embeddings, store.load_metadata_checked(embeddings, kind="embeddings"),
                         "train a head")

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
                              translate=translate or "none", anchors=anchors))
    save_head(out, head)
    summary = {"head": str(out), "encoder": head.encoder, "space": space, "arch": arch,
               **head.transform.as_json(), "train_accuracy": float(head.metadata["train_accuracy"])}
    if translate is not None:
        summary["translate"] = translate
    summary["anchor_samples"] = head.metadata.get("anchor_samples", "none")
    if json_output:
        typer.echo(json.dumps(summary))
    elif not quiet:
        inputs = (f" ({head.transform.describe()})" if space == "relative"
                  else f" (via {translate})" if translate else "")
        log(f"[green]wrote[/] {out}: {space}{inputs} {arch} head on {safe(head.encoder)}, "
            f"train accuracy {summary['train_accuracy']:.3f}")


def register(app: typer.Typer) -> None:
    app.command("train-head")(train_head)
