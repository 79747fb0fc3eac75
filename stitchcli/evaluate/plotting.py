"""Heatmap of the stitching matrix (optional extra ``stitchcli[plot]``: matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stitchcli.errors import StitchError

if TYPE_CHECKING:  # the module imports nothing heavy: the CLI checks --plot before any work
    from stitchcli.evaluate.evaluation import Result

FORMATS = ("png", "svg", "pdf")


def plot_format(path: Path) -> str:
    """The picture format the file name asks for; other suffixes are refused, not silently PNG."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise StitchError(f"cannot tell the picture format of {path}",
                          hint=f"end the file name in {', '.join('.' + f for f in FORMATS)}.")
    return suffix


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise StitchError("--plot needs matplotlib", hint="pip install 'stitchcli[plot]'") from None


def plot_matrix(results: list[Result], path: Path, dpi: int = 100, chance: float | None = None) -> None:
    """Heads × encoders accuracy heatmap (PNG, SVG or PDF by the file's suffix); boxed cells are not
    stitched (the head's own encoder), "—" cells could not run. The colour scale spans the data's
    accuracies (from ``chance`` if given), so that close values stay apart, and is shown beside."""
    fmt = plot_format(path)
    import matplotlib

    from stitchcli.evaluate.report import row_key, short_spec
    from stitchcli.storage.store import atomic_path

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt
    import numpy as np

    rows = list(dict.fromkeys(row_key(r) for r in results))
    columns = list(dict.fromkeys(r.embeddings for r in results))
    cells = {(row_key(r), r.embeddings): r for r in results}
    values = np.full((len(rows), len(columns)), np.nan)
    for (row, column), result in cells.items():
        values[rows.index(row), columns.index(column)] = result.accuracy
    fig, ax = plt.subplots(figsize=(3.4 + 1.7 * len(columns), 1.4 + 0.6 * len(rows)), dpi=dpi)
    accuracies = [r.accuracy for r in results]
    low = min(accuracies) if chance is None else chance
    high = max(max(accuracies), low + 0.01)  # a scale needs some range, even when all cells agree
    image = ax.imshow(values, vmin=low, vmax=high, cmap="viridis", aspect="auto")
    middle = (low + high) / 2
    for i in range(len(rows)):
        for j in range(len(columns)):
            if (rows[i], columns[j]) not in cells:
                ax.text(j, i, "—", ha="center", va="center", fontsize=11, color="gray")
    for (row, column), result in cells.items():
        i, j = rows.index(row), columns.index(column)
        mark = "" if result.stitched else "\n(own)"
        ax.text(j, i, f"{result.accuracy:.3f}{mark}", ha="center", va="center", fontsize=9,
                color="white" if result.accuracy < middle else "black")
        if not result.stitched:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=2))
    labels = {r.embeddings: f"{short_spec(r.encoder)}\n{Path(r.embeddings).stem}" for r in results}
    ax.set_xticks(range(len(columns)), [labels[c] for c in columns], fontsize=8, rotation=20, ha="right")
    ax.set_yticks(range(len(rows)), [f"{Path(h).stem} ({m})" for h, m in rows], fontsize=8)
    ax.set_xlabel("embeddings (encoder)")
    ax.set_title("Zero-shot stitching accuracy\n(red box: the head's own encoder, no stitching; "
                 "—: could not run)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="accuracy")
    fig.tight_layout()
    try:
        with atomic_path(Path(path), suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt)
    finally:
        plt.close(fig)
