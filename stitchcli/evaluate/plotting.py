"""Heatmap of the stitching matrix (optional extra ``stitchcli[plot]``: matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stitchcli.errors import StitchError, UsageError

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


SCALES = ("chance", "data")


def check_scale(scale: str) -> None:
    """``--plot-range`` is one of ``SCALES`` (checked before any work; no import)."""
    if scale not in SCALES:
        raise UsageError(f"--plot-range is {' or '.join(SCALES)}, got {scale!r}")


def plot_matrix(results: list[Result], path: Path, dpi: int = 100, chance: float | None = None,
                scale: str = "chance") -> None:
    """Heads × encoders accuracy heatmap (PNG, SVG or PDF by the file's suffix); boxed cells are not
    stitched (the head's own encoder), "—" cells could not run (``accuracy`` None). The colour scale,
    shown beside, runs from ``chance`` to 1 (``scale="chance"``: honest distances) or over the data's
    accuracies (``"data"``: close values pulled apart, which exaggerates small differences)."""
    fmt = plot_format(path)
    check_scale(scale)
    if chance is None:  # the lowest chance level of the heads: 1 / the most classes of any of them
        chance = 1.0 / max((len(r.per_class) for r in results if r.per_class), default=2)
    import matplotlib

    from stitchcli.evaluate.report import row_key, short_spec
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt
    import numpy as np

    rows = list(dict.fromkeys(row_key(r) for r in results))
    columns = list(dict.fromkeys(r.embeddings for r in results))
    cells = {(row_key(r), r.embeddings): r for r in results if r.accuracy is not None}
    values = np.full((len(rows), len(columns)), np.nan)
    for (row, column), result in cells.items():
        values[rows.index(row), columns.index(column)] = result.accuracy
    fig, ax = plt.subplots(figsize=(3.4 + 1.7 * len(columns), 1.4 + 0.6 * len(rows)), dpi=dpi)
    accuracies = [r.accuracy for r in cells.values()] or [chance]
    if scale == "chance":
        low, high = min(chance, min(accuracies)), 1.0
    else:
        low = min(accuracies)
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
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                 label="accuracy (from chance)" if scale == "chance" else "accuracy (data range)")
    _save(fig, path, fmt)


def plot_confusion(result: Result, path: Path, dpi: int = 100) -> None:
    """One pair's confusion matrix as a picture: rows the true class, columns the predicted one,
    each row's share of its samples (the count written in each cell)."""
    fmt = plot_format(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(result.per_class or {})
    counts = np.array(result.confusion or [[0]], dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.45 * len(names)
    fig, ax = plt.subplots(figsize=(size + 1, size), dpi=dpi)
    image = ax.imshow(shares, vmin=0, vmax=1, cmap="viridis")
    if len(names) <= 30:  # counts stay readable
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=7,
                        color="white" if shares[i, j] < 0.5 else "black")
    ax.set_xticks(range(len(names)), names, fontsize=7, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{Path(result.head).stem} ({result.method}) on {Path(result.embeddings).stem}\n"
                 f"accuracy {result.accuracy:.3f}", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    _save(fig, path, fmt)


def _save(fig, path: Path, fmt: str) -> None:
    """Write a finished figure atomically in ``fmt`` and free it (also when writing fails)."""
    import matplotlib.pyplot as plt

    from stitchcli.storage.store import atomic_path

    fig.tight_layout()
    try:
        with atomic_path(Path(path), suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt)
    finally:
        plt.close(fig)


def plot_image_rows(rows: list[tuple[str, object]], path: Path, title: str, dpi: int = 100) -> None:
    """A grid of images: one row per (label, array N × C × S × S of values in [0, 1]), the same N
    columns each; the label is written left of its row (originals first, then each encoder)."""
    fmt = plot_format(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    count = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), count, figsize=(1.0 + 0.9 * count, 0.3 + 1.0 * len(rows)), dpi=dpi,
                             squeeze=False)
    for r, (label, images) in enumerate(rows):
        images = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
        for c in range(count):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(images):
                image = images[c]
                if image.shape[0] == 1:
                    ax.imshow(image[0], cmap="gray", vmin=0, vmax=1)
                else:
                    ax.imshow(image.transpose(1, 2, 0))
            if c == 0:
                ax.set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=9)
    _save(fig, path, fmt)
