"""Tables of a sweep for people: one row per recipe, and every ordered pair of one recipe."""

from __future__ import annotations

from rich.table import Table

from stitchcli.console import keep_numbers_whole, safe
from stitchcli.evaluate.report import fmt, short_spec
from stitchcli.jobs.sweep.seeds import within_noise


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
