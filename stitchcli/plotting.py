"""Heatmap of the stitching matrix (optional extra ``stitchcli[plot]``: matplotlib)."""

from __future__ import annotations

from pathlib import Path

from stitchcli.errors import StitchError
from stitchcli.evaluation import Result
from stitchcli.report import row_key, short_spec
from stitchcli.store import atomic_path


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise StitchError("--plot needs matplotlib", hint="pip install 'stitchcli[plot]'") from None


def plot_matrix(results: list[Result], path: Path, dpi: int = 100) -> None:
    """Heads × encoders accuracy heatmap; hatched cells are not stitched (the head's own encoder)."""
    import matplotlib

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
    image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    for (row, column), result in cells.items():
        i, j = rows.index(row), columns.index(column)
        mark = "" if result.stitched else "\n(own)"
        ax.text(j, i, f"{result.accuracy:.3f}{mark}", ha="center", va="center", fontsize=9,
                color="white" if result.accuracy < 0.6 else "black")
        if not result.stitched:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=2))
    labels = {r.embeddings: f"{short_spec(r.encoder)}\n{Path(r.embeddings).stem}" for r in results}
    ax.set_xticks(range(len(columns)), [labels[c] for c in columns], fontsize=8, rotation=20, ha="right")
    ax.set_yticks(range(len(rows)), [f"{Path(h).stem} ({m})" for h, m in rows], fontsize=8)
    ax.set_xlabel("embeddings (encoder)")
    ax.set_title("Zero-shot stitching accuracy\n(red box: the head's own encoder, no stitching)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    try:
        with atomic_path(Path(path), suffix=".png") as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
