"""``stitch sweep``: compare stitching recipes on stored embeddings (no re-embedding)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.anchors import STRATEGIES
from stitchcli.commands.options import (
    ACTIVATION_CHOICES,
    NOT_CLASSIFIERS,
    JsonOpt,
    QuietOpt,
    SeedOpt,
    translate_option,
)
from stitchcli.heads import ARCHITECTURES
from stitchcli.relspace import NORMALIZATIONS, SIMILARITIES

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
        help=f"Anchor strategy: {STRATEGIES.choices_text(before=['file (--anchors)'])}.",
        rich_help_panel=GRID)] = None,
    num_anchors: Annotated[list[int] | None, typer.Option(
        help=f"Number of anchors (a prefix of --anchors) (default: all of --anchors, else "
        f"{defaults.NUM_ANCHORS} or every train row if fewer).", rich_help_panel=GRID)] = None,
    similarity: Annotated[list[str] | None, typer.Option(
        help=f"{SIMILARITIES.choices_text()}, or several joined by '+' (default: "
        f"{defaults.SIMILARITY}).", rich_help_panel=GRID)] = None,
    center: Annotated[list[str] | None, typer.Option(
        help=f"Centre on the anchors' mean before the similarity: on or off (default: "
        f"{'on' if defaults.CENTER else 'off'}).",
        rich_help_panel=GRID)] = None,
    normalize: Annotated[list[str] | None, typer.Option(
        help=f"{NORMALIZATIONS.choices_text()} (default: {defaults.NORMALIZE}).",
        rich_help_panel=GRID)] = None,
    topk: Annotated[list[int] | None, typer.Option(
        help=f"Keep each sample's k largest values, 0 keeps all (default: {defaults.TOPK}).",
        rich_help_panel=GRID)] = None,
    topk_power: Annotated[list[float] | None, typer.Option(
        help=f"Power of the kept values (default: {defaults.TOPK_POWER}).", rich_help_panel=GRID)] = None,
    arch: Annotated[list[str] | None, typer.Option(
        help=f"Head: {ARCHITECTURES.choices_text(exclude=NOT_CLASSIFIERS)} (default: {defaults.ARCH}).",
        rich_help_panel=GRID)] = None,
    baseline: Annotated[bool, typer.Option(
        "--baseline", help="Also the absolute heads (raw embeddings), one per --arch.",
        rich_help_panel=GRID)] = False,
    translate: Annotated[list[str] | None, translate_option(
        "Also absolute heads that read the other encoders through a map fitted on the anchors, one per "
        "--arch and anchor set", "none; relative heads only", repeatable=True, none=False,
        panel=GRID)] = None,
    refine: Annotated[list[int] | None, typer.Option(
        help="Self-learning rounds for --translate maps: mutual nearest neighbours among all train rows "
        "of both encoders added as pairs, then fitted again (default: 0).", rich_help_panel=GRID)] = None,
    epochs: Annotated[int, typer.Option(help="Passes over the train rows (linear and mlp heads).",
                                        rich_help_panel=TRAINING)] = defaults.EPOCHS,
    lr: Annotated[float, typer.Option(
        help="Adam learning rate (linear and mlp heads).", rich_help_panel=TRAINING)] = defaults.LR,
    batch_size: Annotated[int, typer.Option(
        help="Samples per step (linear and mlp heads).", rich_help_panel=TRAINING)] = defaults.BATCH_SIZE,
    hidden: Annotated[int, typer.Option(
        help="Hidden width of the mlp head.", rich_help_panel=TRAINING)] = defaults.HIDDEN,
    activation: Annotated[str, typer.Option(
        help=f"{ACTIVATION_CHOICES} (mlp head).", rich_help_panel=TRAINING)] = defaults.ACTIVATION,
    seed: SeedOpt = 0,
    seeds: Annotated[int, typer.Option(
        help="Repeat the sweep with this many seeds (anchor draw, validation split, heads) and report "
        "means with 95% intervals.")] = 1,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Try stitching recipes on stored embeddings: each pair's stitched accuracy and kept ratio."""
    from stitchcli.commands._output import Output
    from stitchcli.storage import store

    output = Output(json_output, quiet)
    for path in [*train, *(test or [])]:  # before torch is imported (~2 s)
        store.require_labels(path, store.load_metadata_checked(path, kind="embeddings"),
                             "train or test heads")
    if anchors is not None:
        store.load_metadata_checked(anchors, kind="anchors")

    from stitchcli.commands._tables import sweep_pairs_table, sweep_table
    from stitchcli.heads import TrainRequest
    from stitchcli.jobs import FROM_FILE, SweepRequest, expand_grid, run_sweep
    from stitchcli.translate import translation_methods

    methods = [m for m in translation_methods(translate) if m is not None] if translate else []

    strategies = strategy or [FROM_FILE if anchors is not None else defaults.STRATEGY]
    if num_anchors is None and anchors is not None:
        from stitchcli.anchors import load_anchor_set

        num_anchors = [len(load_anchor_set(anchors).indices)]
    recipes = expand_grid(
        strategies, num_anchors or [None], similarity or [defaults.SIMILARITY],
        _switches(center or [str(defaults.CENTER)]), normalize or [defaults.NORMALIZE],
        topk or [defaults.TOPK], topk_power or [defaults.TOPK_POWER], arch or [defaults.ARCH], baseline,
        methods, refine)
    training = TrainRequest(Path(), arch=defaults.ARCH, hidden=hidden, activation=activation,
                            epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    request = SweepRequest(list(train), list(test or []), recipes, anchors, validation, seed, training, seeds)

    def done(result) -> None:
        of_probe = result.mean_of_probe
        output.log(f"{result.recipe.label()}: mean stitched accuracy "
                   f"{'—' if result.mean_accuracy is None else f'{result.mean_accuracy:.3f}'}, of probe "
                   f"{'—' if of_probe is None else f'{of_probe:.3f}'}")

    data, results = run_sweep(request, on_recipe=done)
    if json_output:
        output.data({
            "encoders": [{"encoder": s.spec, "train": s.train_file, "held_out": s.held_out_file}
                         for s in data.spaces],
            "evaluated_on": data.evaluated_on, "num_train": len(data.train_labels),
            "num_held_out": len(data.held_out_labels), "seeds": seeds,
            "recipes": [r.as_json() for r in results],
        })
        return
    output.table(sweep_table(results, data.evaluated_on))
    stitching = [r for r in results if r.recipe.space == "relative" or r.recipe.translate]
    if stitching:  # every pair of the best stitching recipe (the only one, without a grid)
        output.table(sweep_pairs_table(max(stitching, key=lambda r: r.mean_of_probe or 0.0)))


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
