"""Which decoder recipe reconstructs best through other encoders, measured on validation rows of the
train files (never the test files): the measurement behind the defaults of `train-head --task
reconstruction|regression` (README, "Relative decoders").

Needs ./recipes/reconstruction.sh run first (its train files with relative vectors). For each data set,
each encoder's train rows are split 80/20 (seeded); a decoder is fitted on 80% of one encoder's rows and
scored (MSE of pixels in [0, 1]) on the held-out 20% read through its own encoder and every other one.

    .venv/bin/python benchmarks/value_defaults.py [--skip-mlp] [runs/reconstruction/digits ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from stitchcli import defaults
from stitchcli.heads.head import HeadConfig
from stitchcli.heads.inputs import FileInputs
from stitchcli.heads.metrics import mse
from stitchcli.heads.targets import TargetSpec, image_channels, read_targets, source_of, source_rows
from stitchcli.heads.training import TrainRequest, fit_module
from stitchcli.relspace import RelativeTransform
from stitchcli.storage import open_rows
from stitchcli.translate.maps import fit_translation

ENCODERS = ("mobilenetv2", "dinov2s", "effnetlite1")
SIZES = {"digits": 8, "clipart": 32}
# (label, space, arch, translation or relative transform, Adam settings for the mlp)
RECIPES = [
    ("relative ridge (top-25)", "relative", "ridge", RelativeTransform(defaults.NORMALIZE, 25, 3.0)),
    ("relative ridge (all anchors)", "relative", "ridge", RelativeTransform(defaults.NORMALIZE, 0, 1.0)),
    ("relative mlp (all anchors)", "relative", "mlp", RelativeTransform(defaults.NORMALIZE, 0, 1.0)),
    ("absolute ridge via ridge", "absolute", "ridge", "ridge"),
    ("absolute ridge via affine", "absolute", "ridge", "affine"),
    ("absolute ridge via procrustes", "absolute", "ridge", "procrustes"),
    ("absolute ridge via auto", "absolute", "ridge", "auto"),
    ("absolute mlp via ridge", "absolute", "mlp", "ridge"),
]


def features(path: Path, space: str, transform) -> torch.Tensor:
    reader = open_rows(path)
    if space == "relative":
        return FileInputs(reader, "relative", transform).all()
    return reader.read("embeddings").float()


def measure(folder: Path, skip_mlp: bool = False) -> None:
    size = SIZES[folder.name]
    files = {name: folder / f"{name}-train.safetensors" for name in ENCODERS}
    first = open_rows(files[ENCODERS[0]])
    rows = source_rows(first)
    spec = TargetSpec("reconstruction", size=size, channels=image_channels(source_of(first), rows))
    targets = read_targets(first, spec)
    # Held-out rows must not be anchors: a map fitted on the anchors, or an anchor's similarity to itself,
    # would make them look easier than new data. Without enough such rows (clip art's anchors are all
    # its train rows) a random fifth is held out, and the figures are optimistic for the maps.
    from stitchcli.anchors import load_anchor_set

    anchor_rows = set(load_anchor_set(folder / "anchors.safetensors").indices.tolist())
    free = torch.tensor([i for i, row in enumerate(rows) if row not in anchor_rows], dtype=torch.long)
    generator = torch.Generator().manual_seed(0)
    if len(free) >= 50:
        held = free[torch.randperm(len(free), generator=generator)[: len(targets) // 5]]
        note = "non-anchor rows held out"
    else:
        held = torch.randperm(len(targets), generator=generator)[: len(targets) // 5]
        note = "anchors held out too (every train row is an anchor): optimistic for the maps"
    fit = torch.tensor(sorted(set(range(len(targets))) - set(held.tolist())), dtype=torch.long)
    anchors = {name: open_rows(path).read("anchor_embeddings").float() for name, path in files.items()}
    print(f"## {folder.name}: {len(fit)} fit / {len(held)} validation rows, {size}×{size}×{spec.channels}, "
          f"mean image MSE {mse(targets[fit].mean(0).expand_as(targets[held]), targets[held]):.4f}; {note}")
    print("| recipe | own (mean) | stitched (mean) | stitched (worst) |")
    print("|---|---:|---:|---:|")
    for label, space, arch, how in RECIPES:
        if skip_mlp and arch == "mlp":
            continue
        transform = how if space == "relative" else RelativeTransform()
        x = {name: features(path, space, transform) for name, path in files.items()}
        own, stitched = [], []
        for h in ENCODERS:
            request = TrainRequest(Path(), arch=arch, task="reconstruction", epochs=30, lr=1e-3)
            config = HeadConfig(arch, x[h].shape[1], targets.shape[1], task="reconstruction")
            module = fit_module(config, x[h][fit], targets[fit], request)
            for t in ENCODERS:
                inputs = x[t][held]
                if space == "absolute" and t != h:
                    inputs = fit_translation(how, anchors[t], anchors[h])(inputs)
                with torch.inference_mode():
                    error = mse(module(inputs), targets[held])
                (own if t == h else stitched).append(error)
        print(f"| {label} | {sum(own) / len(own):.4f} | {sum(stitched) / len(stitched):.4f} | "
              f"{max(stitched):.4f} |", flush=True)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--skip-mlp"]
    for folder in arguments or ["runs/reconstruction/digits"]:
        measure(Path(folder), skip_mlp="--skip-mlp" in sys.argv)
