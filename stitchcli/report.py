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
