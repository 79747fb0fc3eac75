"""The picture of a reconstruction head: the original images, then what the head decodes from each
encoder's file (its own, and others' zero-shot), a row each."""

from __future__ import annotations

from pathlib import Path

import torch

from stitchcli.errors import IncompatibleError
from stitchcli.evaluate.evaluation import head_inputs
from stitchcli.heads.head import Head
from stitchcli.metadata import EmbeddingsMeta
from stitchcli.storage.rows import open_rows

SHOWN_IMAGES = 8


@torch.inference_mode()
def first_outputs(head: Head, path: Path, count: int, translate: str | None = None) -> torch.Tensor:
    """The head's outputs for the first ``count`` rows of the file at ``path``."""
    inputs, _ = head_inputs(head, open_rows(path), translate)
    parts, seen = [], 0
    for _, block in inputs.blocks():
        parts.append(head.module(block[: count - seen]))
        seen += len(parts[-1])
        if seen >= count:
            break
    return torch.cat(parts) if parts else torch.empty(0, head.config.num_classes)


def plot_reconstructions(head: Head, paths: list[Path], out: Path, results: list | None = None,
                         count: int = SHOWN_IMAGES, translate: str | None = None) -> None:
    """Originals (from the head's own encoder's file, else the first) above each file's decodings."""
    from stitchcli.evaluate.plotting import plot_image_rows
    from stitchcli.heads.targets import read_targets

    spec = head.targets()
    shape = spec.image_shape
    readers = [open_rows(path) for path in paths]
    encoders = [EmbeddingsMeta.of(reader).encoder for reader in readers]
    home = next((r for r, e in zip(readers, encoders, strict=True) if e == head.encoder), readers[0])
    originals = read_targets(home, spec)[:count]
    scores = {(r.embeddings, r.method): r for r in results or [] if r.head == str(head.path)}
    rows = [("original", originals.reshape(-1, *shape).numpy())]
    for path, encoder in zip(paths, encoders, strict=True):
        own = " (own)" if encoder == head.encoder else ""
        try:
            outputs = first_outputs(head, path, count, translate)
        except IncompatibleError:
            continue  # a pair that cannot run has no row (evaluate says why)
        score = next((r for (p, _), r in scores.items() if p == str(path)), None)
        mse = f"\nMSE {score.mse:.4f}" if score is not None and score.mse is not None else ""
        rows.append((f"{Path(path).stem}{own}{mse}", outputs.reshape(-1, *shape).numpy()))
    plot_image_rows(rows, out, f"{Path(head.path).stem}: {head.space} {head.config.arch} decoder "
                    f"({spec.size}×{spec.size})")
