"""``stitch run``: the whole matrix for a list of encoders in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli import defaults
from stitchcli.commands.options import (
    ArchOpt,
    CenterOpt,
    ImageColumnOpt,
    JsonOpt,
    LabelColumnOpt,
    NormalizeOpt,
    QuietOpt,
    SeedOpt,
    SimilarityOpt,
    TextColumnOpt,
    TopkOpt,
    TopkPowerOpt,
    refine_option,
    translate_option,
)


def run(
    encoders: Annotated[list[str], typer.Argument(help="Encoder specs (hf:…, timm:…), two or more.")],
    train: Annotated[str, typer.Option(help="Train source: anchors and heads come from it.")],
    test: Annotated[str, typer.Option(help="Test source: every head is evaluated on it, per encoder.")],
    out_dir: Annotated[Path, typer.Option(help="Folder for every file of the run.")] = Path("runs/stitch"),
    num_anchors: Annotated[int, typer.Option(
        help="Anchors, chosen from --train (every train row if it has fewer).")] = defaults.NUM_ANCHORS,
    strategy: Annotated[str, typer.Option(help="Anchor strategy: random or stratified.")] = defaults.STRATEGY,
    seed: SeedOpt = 0,
    baseline: Annotated[bool, typer.Option(
        "--baseline/--no-baseline", help="Also show each absolute head read without translation (the "
        "baseline).")] = True,
    translate: Annotated[list[str] | None, translate_option(
        "How the absolute heads read other encoders", f"{defaults.TRANSLATE}, and none with --baseline",
        repeatable=True)] = None,
    refine: Annotated[int | None, refine_option(str(defaults.REFINE_ROUNDS))] = None,
    arch: ArchOpt = defaults.ARCH,
    similarity: SimilarityOpt = defaults.SIMILARITY,
    center: CenterOpt = defaults.CENTER,
    normalize: NormalizeOpt = defaults.NORMALIZE,
    topk: TopkOpt = defaults.TOPK,
    topk_power: TopkPowerOpt = defaults.TOPK_POWER,
    batch_size: Annotated[int, typer.Option(help="Samples per forward pass.")] = 32,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps.")] = "auto",
    text_column: TextColumnOpt = "text",
    label_column: LabelColumnOpt = "label",
    image_column: ImageColumnOpt = "image",
    force: Annotated[bool, typer.Option("--force", help="Redo every step, even up-to-date files.")] = False,
    json_output: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Anchors, embeddings, heads and the stitching matrix for several encoders, in one command."""
    from stitchcli.commands._output import Output
    from stitchcli.commands._tables import results_table
    from stitchcli.data import ReadOptions
    from stitchcli.errors import StitchError
    from stitchcli.jobs import RunRequest, run_all
    from stitchcli.translate import translation_methods

    output = Output(json_output, quiet)

    read = ReadOptions(None, text_column, label_column, image_column)
    methods = (translation_methods(translate) if translate
               else [defaults.TRANSLATE, *([None] if baseline else [])])
    from stitchcli.relspace import RelativeTransform

    transform = RelativeTransform(normalize, topk, topk_power)
    transform.check()
    request = RunRequest(encoders, train, test, out_dir, read, num_anchors, strategy, seed,
                         methods, batch_size, device, force, arch=arch,
                         similarity=similarity, center=center, transform=transform,
                         refine=defaults.REFINE_ROUNDS if refine is None else refine)
    results = run_all(request)
    ran = [r.as_json() for r in results if r.accuracy is not None]
    output.result({"results": ran}, table=lambda: results_table(results))
    try:
        from stitchcli.evaluate import plot_matrix, require_matplotlib

        require_matplotlib()
    except StitchError:
        output.log("no picture: matplotlib is not installed (pip install 'stitchcli\\[plot]')")
        return
    plot_matrix(results, out_dir / "matrix.png")
    output.log(f"[green]wrote[/] {out_dir / 'evaluate.json'} and {out_dir / 'matrix.png'}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
