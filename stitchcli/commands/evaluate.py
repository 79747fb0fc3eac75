"""``stitch evaluate``: every head on every embeddings file, zero-shot, as a table or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import JsonOpt, refine_option, translate_option


def evaluate(
    head: Annotated[list[Path], typer.Option("--head", help="Head file (repeatable).")],
    embeddings: Annotated[list[Path], typer.Option(
        "--embeddings", help="Test embeddings file (repeatable).")],
    json_output: JsonOpt = False,
    fail_under: Annotated[float | None, typer.Option(
        help="Exit with code 3 if any accuracy is below this, between 0 and 1 (after printing; "
        "classification heads).")] = None,
    skip_incompatible: Annotated[bool, typer.Option(
        "--skip-incompatible", help="Leave out pairs that cannot run (e.g. an absolute head on "
        "an encoder of another width) instead of failing.")] = False,
    translate: Annotated[list[str] | None, translate_option(
        "For absolute heads on other encoders, the map fitted on the shared anchors (repeat to compare "
        "side by side)", "the map each head records (train-head --translate), else none")] = None,
    refine: Annotated[int | None, refine_option("the rounds each head records (train-head --refine)")] = None,
    plot: Annotated[Path | None, typer.Option(
        help="Also write a heatmap of the matrix: .png, .svg or .pdf (needs stitchcli\\[plot]); with "
        "--per-class also each pair's confusion matrix, PLOT-confusion-N.png; for a reconstruction "
        "head, a grid of originals and what it decodes from each file.")] = None,
    plot_range: Annotated[str, typer.Option(
        help="Colour scale of --plot: chance (from 1/classes to 1: distances as they are) or data "
        "(the accuracies' own range: close values pulled apart).")] = "chance",
    per_class: Annotated[bool, typer.Option(
        "--per-class", help="Also print each pair's per-class precision, recall, F1 and confusion "
        "matrix (always in --json).")] = False,
) -> None:
    """Evaluate heads × embedding files: the diagonal is no stitching, the rest is zero-shot."""
    from stitchcli.commands._output import Output
    from stitchcli.errors import StitchError
    from stitchcli.storage import store

    output = Output(json_output)
    if fail_under is not None and not 0.0 <= fail_under <= 1.0:
        from stitchcli.errors import UsageError

        raise UsageError(f"--fail-under is an accuracy between 0 and 1, got {fail_under}")
    # Checked before torch is imported (~2 s): a wrong path fails at once.
    from stitchcli.heads import get_task
    from stitchcli.metadata import HeadMeta

    tasks = [get_task(HeadMeta.from_metadata(store.load_metadata_checked(path, kind="head"), str(path)).task)
             for path in head]
    for path in embeddings:
        metadata = store.load_metadata_checked(path, kind="embeddings")
        if any(task.classifies for task in tasks):  # heads of values read targets from the file's source
            store.require_labels(path, metadata, "be evaluated")
    if plot is not None:
        from stitchcli.evaluate import plot_format

        plot_format(plot)
        store.check_writable(plot)
        from stitchcli.commands.options import refuse_overwrite

        refuse_overwrite(plot, {"--head": head, "--embeddings": embeddings}, what="--plot")
    from stitchcli.evaluate import check_scale

    check_scale(plot_range)

    from stitchcli.commands._tables import per_class_table, results_table
    from stitchcli.evaluate import evaluate_matrix, head_methods, skipped_result
    from stitchcli.heads import load_head
    from stitchcli.translate import translation_methods

    methods = translation_methods(translate) if translate else None
    if plot is not None:
        from stitchcli.evaluate import require_matplotlib

        require_matplotlib()
    heads = [load_head(path) for path in head]
    pairs = sum(len(head_methods(h, methods)) for h in heads) * len(embeddings)

    missing = []

    def skipped(loaded, file, exc, method) -> None:
        output.warn(f"[yellow]skipped[/] {loaded.path} × {file.path}: {exc}")
        missing.append(skipped_result(loaded, file, method))  # shown as "—", left out of --json

    with output.progress("evaluating", pairs) as bar:
        results = evaluate_matrix(heads, embeddings, methods, skip_incompatible, on_skip=skipped,
                                  on_pair=bar.advance, refine=refine)
    if not results:
        raise StitchError("nothing could be evaluated: every head × file pair was skipped as incompatible",
                          hint="the lines above say why for each pair.")
    if json_output:
        output.data({"results": [r.as_json() for r in results]})
    else:
        output.table(results_table(results + missing))
        if per_class:
            for result in results:
                if result.classifies:
                    output.table(per_class_table(result))
    if plot is not None:
        _plot(output, plot, plot_range, per_class, heads, embeddings, results, missing)
    classified = [r for r in results if r.classifies]
    if fail_under is not None and any(r.accuracy < fail_under for r in classified):
        worst = min(classified, key=lambda r: r.accuracy)
        output.warn(f"[red]accuracy {worst.accuracy:.4f} ({worst.head} × {worst.embeddings}) is below "
                    f"--fail-under {fail_under}[/]")
        raise typer.Exit(3)


def _plot(output, plot: Path, plot_range: str, per_class: bool, heads, embeddings, results,
          missing) -> None:
    """The heatmap of classification results at PLOT (with --per-class, confusion pictures beside it);
    a reconstruction head's picture grid at PLOT when no heatmap is drawn and it is the only such
    head, else at PLOT-reconstruction-N."""
    from stitchcli.evaluate import plot_confusion, plot_matrix, plot_reconstructions

    log = output.log

    classified = [r for r in results + missing if r.classifies]
    decoders = [h for h in heads if h.task.images]
    if classified:
        plot_matrix(classified, plot, scale=plot_range)
        log(f"[green]wrote[/] {plot}")
    for number, decoder in enumerate(decoders, start=1):
        picture = (plot if not classified and len(decoders) == 1
                   else plot.with_name(f"{plot.stem}-reconstruction-{number}{plot.suffix}"))
        plot_reconstructions(decoder, embeddings, picture, results)
        log(f"[green]wrote[/] {picture}: what {Path(decoder.path).name} decodes from each file")
    if not classified and not decoders:
        log("no picture: --plot draws classification matrices and reconstruction grids; the table has "
            "the regression scores")
    if per_class:
        for number, result in enumerate([r for r in results if r.classifies], start=1):
            picture = plot.with_name(f"{plot.stem}-confusion-{number}{plot.suffix}")
            plot_confusion(result, picture)
            log(f"[green]wrote[/] {picture}: {Path(result.head).name} × {Path(result.embeddings).name}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
