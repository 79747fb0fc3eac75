"""``stitch sweep``: compare stitching recipes on stored embeddings (no re-embedding)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.commands.options import JsonOpt, QuietOpt, SeedOpt

GRID = "Grid (repeat an option to try several values)"
TRAINING = "Head training"
_SWITCH = {"on": True, "true": True, "yes": True, "off": False, "false": False, "no": False}


def _switches(values: list[str]) -> list[bool]:
    from stitchcli.errors import UsageError

    unknown = [v for v in values if v.lower() not in _SWITCH]
    if unknown:
        raise UsageError(f"--center takes on or off, got {unknown[0]!r}")
    return list(dict.fromkeys(_SWITCH[v.lower()] for v in values))


def sweep(
    train: Annotated[list[Path], typer.Option(
        "--train", help="Train embeddings of one encoder (repeat: two or more encoders, same rows).")],
    test: Annotated[list[Path] | None, typer.Option(
        "--test", help="Test embeddings, one per --train file in the same order.")] = None,
    validation: Annotated[float | None, typer.Option(
        help="Instead of --test: hold out this fraction of the train rows (stratified, seeded; "
        "never anchors). Choose recipes here, report them on the test files.")] = None,
    anchors: Annotated[Path | None, typer.Option(
        help="Anchor set from `stitch anchors`; its rows must be in the train files "
        "(strategy 'file', the default when given).")] = None,
    strategy: Annotated[list[str] | None, typer.Option(
        help="Anchor strategy: file (--anchors), random, stratified, fps, kmeans or aligned.",
        rich_help_panel=GRID)] = None,
    num_anchors: Annotated[list[int] | None, typer.Option(
        help=f"Number of anchors (a prefix of --anchors) (default: all of --anchors, else "
        f"{defaults.NUM_ANCHORS} or every train row if fewer).", rich_help_panel=GRID)] = None,
    similarity: Annotated[list[str] | None, typer.Option(
        help=f"cosine, angular, euclidean, l1, linf, or several joined by '+' (default: "
        f"{defaults.SIMILARITY}).", rich_help_panel=GRID)] = None,
    center: Annotated[list[str] | None, typer.Option(
        help=f"Centre on the anchors' mean before the similarity: on or off (default: "
        f"{'on' if defaults.CENTER else 'off'}).",
        rich_help_panel=GRID)] = None,
    normalize: Annotated[list[str] | None, typer.Option(
        help=f"none, file or anchors (default: {defaults.NORMALIZE}).", rich_help_panel=GRID)] = None,
    topk: Annotated[list[int] | None, typer.Option(
        help=f"Keep each sample's k largest values, 0 keeps all (default: {defaults.TOPK}).",
        rich_help_panel=GRID)] = None,
    topk_power: Annotated[list[float] | None, typer.Option(
        help=f"Power of the kept values (default: {defaults.TOPK_POWER}).", rich_help_panel=GRID)] = None,
    arch: Annotated[list[str] | None, typer.Option(
        help=f"Head: mlp, linear or prototype (default: {defaults.ARCH}).", rich_help_panel=GRID)] = None,
    baseline: Annotated[bool, typer.Option(
        "--baseline", help="Also the absolute heads (raw embeddings), one per --arch.",
        rich_help_panel=GRID)] = False,
    epochs: Annotated[int, typer.Option(rich_help_panel=TRAINING)] = defaults.EPOCHS,
    lr: Annotated[float, typer.Option(rich_help_panel=TRAINING)] = defaults.LR,
    batch_size: Annotated[int, typer.Option(rich_help_panel=TRAINING)] = defaults.BATCH_SIZE,
    hidden: Annotated[int, typer.Option(rich_help_panel=TRAINING)] = defaults.HIDDEN,
    activation: Annotated[str, typer.Option(rich_help_panel=TRAINING)] = defaults.ACTIVATION,
    seed: SeedOpt = 0,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Try stitching recipes on stored embeddings: each pair's stitched accuracy and kept ratio."""
    import json

    from stitchcli.storage import store

    for path in [*train, *(test or [])]:  # before torch is imported (~2 s)
        store.load_metadata_checked(path, kind="embeddings")
    if anchors is not None:
        store.load_metadata_checked(anchors, kind="anchors")

    from stitchcli.console import log, stdout
    from stitchcli.evaluate import sweep_pairs_table, sweep_table
    from stitchcli.heads import TrainRequest
    from stitchcli.jobs import FROM_FILE, SweepRequest, expand_grid, run_sweep

    strategies = strategy or [FROM_FILE if anchors is not None else defaults.STRATEGY]
    if num_anchors is None and anchors is not None:
        from stitchcli.anchors import load_anchor_set

        num_anchors = [len(load_anchor_set(anchors).indices)]
    recipes = expand_grid(
        strategies, num_anchors or [None], similarity or [defaults.SIMILARITY],
        _switches(center or [str(defaults.CENTER)]), normalize or [defaults.NORMALIZE],
        topk or [defaults.TOPK], topk_power or [defaults.TOPK_POWER], arch or [defaults.ARCH], baseline)
    training = TrainRequest(Path(), arch=defaults.ARCH, hidden=hidden, activation=activation,
                            epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, quiet=True)
    request = SweepRequest(list(train), list(test or []), recipes, anchors, validation, seed, training)

    def done(result) -> None:
        if not quiet:
            kept = result.min_kept
            log(f"{result.recipe.label()}: mean stitched accuracy "
                f"{'—' if result.mean_accuracy is None else f'{result.mean_accuracy:.3f}'}, min kept "
                f"{'—' if kept is None else f'{kept:.3f}'}")

    data, results = run_sweep(request, on_recipe=done)
    if json_output:
        typer.echo(json.dumps({
            "encoders": [{"encoder": s.spec, "train": s.train_file, "held_out": s.held_out_file}
                         for s in data.spaces],
            "evaluated_on": data.evaluated_on, "num_train": len(data.train_labels),
            "num_held_out": len(data.held_out_labels), "recipes": [r.as_json() for r in results],
        }, indent=2))
        return
    stdout.print(sweep_table(results, data.evaluated_on))
    relative = [r for r in results if r.recipe.space == "relative"]
    if relative:  # every pair of the best relative recipe (the only one, without a grid)
        stdout.print(sweep_pairs_table(max(relative, key=lambda r: r.mean_accuracy or 0.0)))


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
