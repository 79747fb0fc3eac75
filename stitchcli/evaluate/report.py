"""Rich tables for people: the stitching matrix (heads × encoders) and file summaries."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from stitchcli.console import SHOWN, keep_numbers_whole, safe
from stitchcli.errors import printable
from stitchcli.evaluate.evaluation import Result

SPEC_WIDTH = 28
_PARTS = re.compile(r"(?<=[/:])")  # split after path and source separators, keeping them


def short_spec(spec: str) -> str:
    """Keep the distinctive end of long specs (local model paths): ``hf:…/minilm-l6/model``."""
    return spec if len(spec) <= SPEC_WIDTH else spec.split(":", 1)[0] + ":…" + spec[-(SPEC_WIDTH - 4):]


def short_names(values: list[str]) -> dict[str, str]:
    """Each value without the leading path parts all share and without a shared ``.safetensors``:
    ``runs/q/minilm-l6-test.safetensors`` -> ``minilm-l6-test``. Distinct values stay distinct."""
    unique = list(dict.fromkeys(values))
    parts = [_PARTS.split(value.removesuffix(".safetensors")) for value in unique]
    shared = 0
    while len(unique) > 1 and all(len(p) > shared + 1 and p[shared] == parts[0][shared] for p in parts):
        shared += 1
    names = {value: "".join(p[shared:]) for value, p in zip(unique, parts, strict=True)}
    return names if len(set(names.values())) == len(names) else {value: value for value in unique}


def row_key(result: Result) -> tuple[str, str]:
    """One row per head and method: an absolute head may appear plain and translated."""
    return result.head, result.method




TITLES = {
    "classification": "Accuracy of each head (rows) on each encoder's file (columns)",
    "regression": "MSE · R² of each regression head (rows) on each encoder's file (columns); lower MSE "
                  "is better",
    "reconstruction": "MSE · PSNR of each reconstruction head (rows) on each encoder's file (columns), "
                      "pixels in [0, 1]; lower MSE is better",
}


def cell(result: Result) -> str:
    """A matrix cell: accuracy, or MSE with R² (regression) or PSNR (reconstruction)."""
    if result.task == "regression":
        return f"{result.mse:.4g} · {result.r2:.3f}"
    if result.task == "reconstruction":
        return f"{result.mse:.4f} · {result.psnr:.1f} dB"
    return f"{result.accuracy:.3f}"


def results_table(results: list[Result]) -> Group:
    """Rows are heads, columns embedding files, by short unique names that are never cut (a legend
    below gives each in full); ``*`` marks cells that are not stitched. Heads of different tasks get a
    table each (one metric per table)."""
    columns = list(dict.fromkeys(r.embeddings for r in results))
    rows = list(dict.fromkeys(row_key(r) for r in results))
    by_pair = {(row_key(r), r.embeddings): r for r in results}
    column_names = short_names(columns)
    head_names = short_names([head for head, _ in rows])
    tables, legend = [], []
    for task in dict.fromkeys(r.task for r in results):
        table = Table(title=TITLES.get(task, f"{task} of each head"),
                      caption="* same encoder as the head (no stitching); other cells are zero-shot "
                      "stitching; — could not run")
        table.add_column("head", no_wrap=True)
        table.add_column("space", no_wrap=True)
        for column in columns:
            table.add_column(safe(column_names[column]), justify="right", no_wrap=True)
        for row in rows:
            first = next(r for r in results if row_key(r) == row)
            if first.task != task:
                continue
            via = f" via {first.method}" if first.method not in ("relative", "absolute") else ""
            cells = []
            for column in columns:
                result = by_pair.get((row, column))
                if result is None or result.value is None:
                    cells.append("[dim]—[/]")
                elif result.stitched:
                    cells.append(f"{cell(result)} ")
                else:
                    cells.append(f"[bold]{cell(result)}*[/]")
            table.add_row(safe(head_names[first.head] + via), safe(first.space), *cells)
            if not via:  # the legend is plain text (no markup), but a file's strings are still escaped
                legend.append(f"  {printable(head_names[first.head])}: {printable(first.space)} head on "
                              f"{printable(first.head_encoder, SHOWN)} ({printable(first.head)})")
        tables.append(keep_numbers_whole(table))
    for column in columns:
        encoder = next(r.encoder for r in results if r.embeddings == column)
        legend.append(f"  {printable(column_names[column])}: {printable(encoder, SHOWN)} "
                      f"({printable(column)})")
    return Group(*tables, Text("\n".join(legend), style="dim", no_wrap=True))


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def per_class_table(result: Result) -> Group:
    """One pair's per-class precision, recall, F1 and support, and its confusion matrix (rows: true
    class, columns: predicted)."""
    title = (f"{safe(Path(result.head).stem)} ({result.method}) on {safe(Path(result.embeddings).stem)}: "
             f"accuracy {fmt(result.accuracy)}")
    scores = Table(title=title)
    for name in ("class", "precision", "recall", "F1", "support"):
        scores.add_column(name, justify="left" if name == "class" else "right")
    for name, row in (result.per_class or {}).items():
        scores.add_row(safe(name), f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                       str(row["support"]))
    names = list(result.per_class or {})
    matrix = Table(title="confusion (rows: true class, columns: predicted)")
    matrix.add_column("true \\ predicted")
    for name in names:
        matrix.add_column(safe(name), justify="right")
    for i, (name, counts) in enumerate(zip(names, result.confusion or [], strict=True)):
        matrix.add_row(safe(name), *(f"[bold]{n}[/]" if i == j else str(n) for j, n in enumerate(counts)))
    return Group(keep_numbers_whole(scores), keep_numbers_whole(matrix))
