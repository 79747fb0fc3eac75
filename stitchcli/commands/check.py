"""``stitch check``: a label-free forecast of how well a head trained on A reads B's file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stitchcli.commands.options import JsonOpt

FAIL_ON = ("warn", "fail")


def check(
    head_side: Annotated[Path, typer.Argument(
        metavar="A", help="The head's side: a head file, or the embeddings file a head is (or would be) "
        "trained on.")],
    file: Annotated[Path, typer.Argument(
        metavar="B", help="The embeddings file the head would read, embedded with the same --anchors.")],
    json_output: JsonOpt = False,
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", help="Exit with code 1 on this verdict or worse: warn or fail (after printing).")
    ] = None,
) -> None:
    """Forecast, without labels, how well a head trained on A reads B through the anchors both hold."""
    from stitchcli.commands._output import Output
    from stitchcli.errors import StitchError, UsageError

    output = Output(json_output)
    if fail_on is not None and fail_on.lower() not in FAIL_ON:
        raise UsageError(f"--fail-on is one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    from stitchcli.check import THRESHOLDS, at_least_as_bad, check_pair

    check_pair(head_side, file)  # before torch is imported (~2 s): kinds and anchor sets
    from stitchcli.check import check_files

    target, source, forecast = check_files(head_side, file)
    result = {"head_side": str(head_side), "file": str(file), "head_encoder": target.encoder,
              "encoder": source.encoder, "anchors": forecast.anchors,
              "pool_rows": {"head_side": forecast.pool_rows["target"], "file": forecast.pool_rows["source"]},
              "signals": forecast.signals, "predicted_of_probe": forecast.predicted_of_probe,
              "verdict": forecast.verdict, "thresholds": dict(THRESHOLDS),
              "same_encoder": forecast.same_encoder, "translate": forecast.method,
              "reasons": forecast.reasons}
    output.result(result, table=lambda: _table(result))
    if fail_on is not None and at_least_as_bad(forecast.verdict, fail_on):
        raise StitchError(f"the forecast for {file} read by {head_side} is {forecast.verdict} "
                          f"(--fail-on {fail_on.lower()})",
                          hint="check the anchors both files share, or read B through another map.")


SIGNAL_LABELS = {
    "heldout_match": "held-out anchor match, top-1", "heldout_top5": "held-out anchor match, top-5",
    "heldout_r2": "held-out anchor R²", "cluster_agreement": "cluster agreement (k-means of A)",
    "pool_balance": "cluster balance of unpaired rows", "cka": "linear CKA of anchors",
    "knn_agreement": "anchor neighbour Jaccard (k = 10)",
    "log_anchors": "anchors (log10 of the count)",
}
COLOURS = {"PASS": "green", "WARN": "yellow", "FAIL": "red"}


def _table(result: dict):  # noqa: ANN202 - a rich Table
    from rich.table import Table

    from stitchcli.console import safe

    pools = result["pool_rows"]
    table = Table(title=f"{safe(result['encoder'])} read by a head on {safe(result['head_encoder'])} "
                  f"({result['anchors']} anchors; unpaired rows {pools['head_side']} / {pools['file']})")
    table.add_column("signal")
    table.add_column("value", justify="right")
    for name, value in result["signals"].items():
        table.add_row(SIGNAL_LABELS.get(name, safe(name)), "—" if value is None else f"{value:.3f}")
    predicted = result["predicted_of_probe"]
    verdict = result["verdict"]
    table.add_section()
    table.add_row("[bold]predicted of-probe[/]", "—" if predicted is None else f"[bold]{predicted:.3f}[/]")
    table.add_row("[bold]verdict[/]", f"[bold {COLOURS[verdict]}]{verdict}[/]")
    thresholds = result["thresholds"]
    notes = [reason for reason in result["reasons"] if not reason.startswith("predicted of-probe")]
    table.caption = "\n".join([*map(safe, notes), f"PASS at {thresholds['pass']:.2f} or more, WARN at "
                               f"{thresholds['warn']:.2f} or more, else FAIL"])
    return table


def register(app: typer.Typer) -> None:
    app.command("check")(check)
