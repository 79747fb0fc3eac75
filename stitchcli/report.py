"""Rich tables for people: the stitching matrix (heads × encoders) and file summaries."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from stitchcli.evaluation import Result

SPEC_WIDTH = 28


def short_spec(spec: str) -> str:
    """Keep the distinctive end of long specs (local model paths): ``hf:…/minilm-l6/model``."""
    return spec if len(spec) <= SPEC_WIDTH else spec.split(":", 1)[0] + ":…" + spec[-(SPEC_WIDTH - 4):]


def _head_label(result: Result) -> str:
    via = f" via {result.method}" if result.method not in ("relative", "absolute") else ""
    return f"{Path(result.head).stem}{via}\n[dim]{result.space} · {short_spec(result.head_encoder)}[/]"


def row_key(result: Result) -> tuple[str, str]:
    """One row per head and method: an absolute head may appear plain and translated."""
    return result.head, result.method


def _column_label(result: Result) -> str:
    return f"{short_spec(result.encoder)}\n[dim]{Path(result.embeddings).name}[/]"


def results_table(results: list[Result]) -> Table:
    """Rows are heads, columns embedding files; ``*`` marks cells that are not stitched."""
    columns = list(dict.fromkeys(r.embeddings for r in results))
    rows = list(dict.fromkeys(row_key(r) for r in results))
    by_pair = {(row_key(r), r.embeddings): r for r in results}
    table = Table(title="Accuracy of each head (rows) on each encoder's file (columns)",
                  caption="* same encoder as the head (no stitching); other cells are zero-shot "
                  "stitching; — could not run", show_lines=True)
    table.add_column("head")
    for column in columns:
        sample = next(r for r in results if r.embeddings == column)
        table.add_column(_column_label(sample), justify="right")
    for row in rows:
        first = next(r for r in results if row_key(r) == row)
        cells = []
        for column in columns:
            result = by_pair.get((row, column))
            if result is None:
                cells.append("[dim]—[/]")
            elif result.stitched:
                cells.append(f"{result.accuracy:.3f} ")
            else:
                cells.append(f"[bold]{result.accuracy:.3f}*[/]")
        table.add_row(_head_label(first), *cells)
    return table


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def sweep_table(results: list, evaluated_on: str) -> Table:
    """One row per recipe: own accuracy, stitched accuracy and kept ratio (mean and worst pair)."""
    table = Table(title=f"Stitching recipes, scored on {evaluated_on} rows",
                  caption="own: each head on its own encoder; stitched: on the other encoders; "
                  "kept = stitched / own; of native = stitched / the other encoder's own head; "
                  "— could not run")
    for name in ("recipe", "own", "stitched", "kept (mean)", "kept (min)", "of native (min)"):
        table.add_column(name, justify="left" if name == "recipe" else "right", no_wrap=name == "recipe")
    best = max((r.mean_accuracy or 0.0 for r in results), default=0.0)
    for result in results:
        own = sum(result.own.values()) / len(result.own)
        stitched = _fmt(result.mean_accuracy)
        if result.mean_accuracy is not None and len(results) > 1 and result.mean_accuracy == best:
            stitched = f"[bold]{stitched}[/]"
        table.add_row(result.recipe.label(), f"{own:.3f}", stitched, _fmt(result.mean_kept),
                      _fmt(result.min_kept), _fmt(result.min_of_native))
    return table


def sweep_pairs_table(result) -> Table:
    """One recipe's ordered pairs: the head's encoder, the encoder it reads, accuracy and kept ratio."""
    table = Table(title=f"Every pair: {result.recipe.label()}",
                  caption="own: the head on its own encoder; native: that encoder's own head; "
                  "kept = stitched / own")
    for name in ("head trained on", "evaluated on", "stitched", "own", "native", "kept", "of native"):
        table.add_column(name, justify="left" if name.endswith(" on") else "right", no_wrap=True)
    for pair in result.pairs:
        table.add_row(short_spec(pair.head_encoder), short_spec(pair.encoder), _fmt(pair.accuracy),
                      _fmt(pair.own_accuracy), _fmt(pair.native_accuracy), _fmt(pair.kept),
                      _fmt(pair.of_native))
    return table
