"""Rich tables for people (the output layer): the stitching matrix, one pair's per-class scores, and a
sweep's recipes and pairs. The core gives plain names and cells (``stitchcli.evaluate.report``)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from stitchcli.console import SHOWN, keep_numbers_whole, safe
from stitchcli.errors import printable
from stitchcli.evaluate import Result, cell, fmt, row_key, short_names, short_spec, title
from stitchcli.jobs.sweep import within_noise


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
        table = Table(title=title(task),
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


def sweep_table(results: list, evaluated_on: str) -> Table:
    """One row per recipe: own accuracy, stitched accuracy, kept ratio and share of the target's probe."""
    table = Table(title=f"Stitching recipes, scored on {evaluated_on} rows",
                  caption="own: each head on its own encoder; stitched: on the other encoders; "
                  "kept = stitched / own; of probe = stitched / a logistic probe trained on the other "
                  "encoder's own train rows; home/probe = own / its encoder's probe; — could not run")
    seeds = max((r.seeds for r in results), default=1)
    # Header words are short (a column is never narrower than its longest word): on an 80-column
    # terminal the numbers keep their width and the recipe names fold.
    names = ["recipe", "own", "stitched", "kept (min)", "of probe (mean)", "of probe (min)",
             "home / probe (min)"]
    if seeds > 1:
        names.insert(5, "95% interval")
        table.caption += f"; means over {seeds} seeds, recipes in italics are within noise of the best"
    for name in names:
        table.add_column(name, justify="left" if name == "recipe" else "right", no_wrap=name == "recipe")
    best = max((r.mean_of_probe or 0.0 for r in results), default=0.0)
    close = {id(r) for r in within_noise(results)} if seeds > 1 else set()
    for result in results:
        own = sum(result.own.values()) / len(result.own)
        of_probe = fmt(result.mean_of_probe)
        label = result.recipe.label()
        if result.mean_of_probe is not None and len(results) > 1 and result.mean_of_probe == best:
            of_probe = f"[bold]{of_probe}[/]"
        elif id(result) in close:
            label = f"[italic]{label}[/]"
        cells = [label, f"{own:.3f}", fmt(result.mean_accuracy), fmt(result.min_kept), of_probe]
        if seeds > 1:
            low, high = result.intervals.get("mean_of_probe", (None, None))
            cells.append("—" if low is None else f"{low:.3f}–{high:.3f}")
        table.add_row(*cells, fmt(result.min_of_probe), fmt(result.min_own_of_probe))
    return keep_numbers_whole(table)


def sweep_pairs_table(result) -> Table:
    """One recipe's ordered pairs: the head's encoder, the encoder it reads, accuracy and its ratios."""
    table = Table(title=f"Every pair: {result.recipe.label()}",
                  caption="own: the head on its own encoder; native: that encoder's own head; probe: a "
                  "logistic probe on that encoder's own train rows; kept = stitched / own")
    for name in ("head trained on", "evaluated on", "stitched", "own", "native", "probe", "kept",
                 "of native", "of probe"):
        table.add_column(name, justify="left" if name.endswith(" on") else "right", no_wrap=True)
    for pair in result.pairs:
        table.add_row(safe(short_spec(pair.head_encoder)), safe(short_spec(pair.encoder)), fmt(pair.accuracy),
                      fmt(pair.own_accuracy), fmt(pair.native_accuracy), fmt(pair.probe_accuracy),
                      fmt(pair.kept), fmt(pair.of_native), fmt(pair.of_probe))
    return keep_numbers_whole(table)
