"""The rows a sweep works on: each encoder's train and held-out embeddings, labels and anchor rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from stitchcli.anchors.anchor_set import anchor_positions_in, load_anchor_set
from stitchcli.anchors.strategies import select_anchors
from stitchcli.errors import StitchError
from stitchcli.metadata import EmbeddingsMeta
from stitchcli.storage import store

FROM_FILE = "file"  # the strategy name of anchors read from --anchors


@dataclass
class EncoderSpace:
    """One encoder's embeddings: train rows (heads and anchors) and held-out rows (scored)."""

    spec: str
    train_file: str
    held_out_file: str
    train: torch.Tensor
    held_out: torch.Tensor


@dataclass
class SweepData:
    spaces: list[EncoderSpace]
    label_names: list[str]
    train_labels: torch.Tensor
    held_out_labels: torch.Tensor
    evaluated_on: str  # "test" or "validation"
    file_anchors: torch.Tensor | None  # positions into the train rows, in the anchor file's order

    def anchor_positions(self, strategy: str, k: int, seed: int) -> torch.Tensor:
        """Positions into the train rows of ``k`` anchors: a prefix of the anchor file's, or chosen
        by ``strategy`` (embedding-based ones look at every encoder's train rows jointly)."""
        if strategy == FROM_FILE:
            if self.file_anchors is None:
                raise StitchError("--strategy file needs --anchors ANCHORS.safetensors")
            if not 0 < k <= len(self.file_anchors):
                raise StitchError(f"--num-anchors {k} is not between 1 and the anchor file's "
                                  f"{len(self.file_anchors)} anchors")
            return self.file_anchors[:k]
        return select_anchors(strategy, k, self.train_labels, [s.train for s in self.spaces], seed)


def _load_group(paths: list[Path], what: str) -> list[store.StitchFile]:
    """Files of several encoders that embed the same rows of the same source."""
    files = [store.load(path, kind="embeddings") for path in paths]
    first = files[0]
    for file in files[1:]:
        if not file.same_rows(first):
            raise StitchError(f"{what} files {first.path} and {file.path} do not hold the same samples",
                              hint="embed the same dataset (and --limit) with every encoder.")
    return files


def _stratified_holdout(labels: torch.Tensor, candidates: torch.Tensor, fraction: float,
                        seed: int) -> torch.Tensor:
    """A seeded ``fraction`` of ``candidates`` (positions), the same fraction of each class."""
    generator = torch.Generator().manual_seed(seed)
    picked = []
    for c in torch.unique(labels[candidates]).tolist():
        rows = candidates[labels[candidates] == c]
        rows = rows[torch.randperm(len(rows), generator=generator)]
        picked.append(rows[: round(fraction * len(rows))])
    return torch.sort(torch.cat(picked)).values


def _label_ids(file: store.StitchFile, names: list[str]) -> torch.Tensor:
    lookup = {name: i for i, name in enumerate(names)}
    theirs = file.meta_json("label_names", [])
    unknown = [n for n in theirs if n not in lookup]
    if unknown:
        raise StitchError(f"{file.path} has labels the train files lack: {', '.join(map(str, unknown[:5]))}")
    return torch.tensor([lookup[n] for n in theirs], dtype=torch.long)[file.require("labels").long()]


def load_sweep_data(train: list[Path], test: list[Path], anchors: Path | None,
                    validation: float | None, seed: int) -> SweepData:
    if len(train) < 2:
        raise StitchError("a sweep needs the train files of two or more encoders (--train, repeated)")
    if validation is not None and test:
        raise StitchError("give either --test files or --validation, not both",
                          hint="--validation holds out a fraction of the train rows instead of a test set.")
    if validation is None and len(test) != len(train):
        raise StitchError(f"{len(train)} --train files but {len(test)} --test files",
                          hint="give one test file per train file, in the same order, or --validation.")
    if validation is not None and not 0 < validation < 1:
        raise StitchError(f"--validation must be a fraction between 0 and 1, got {validation}")
    train_files = _load_group(train, "train")
    labels = train_files[0].require("labels").long()
    label_names = train_files[0].meta_json("label_names", [])
    file_anchors = None
    if anchors is not None:
        first = train_files[0]
        file_anchors = anchor_positions_in(EmbeddingsMeta.of(first), first.require("indices"),
                                           load_anchor_set(anchors))
        if file_anchors is None:
            raise StitchError(f"the anchors of {anchors} are not rows of {train_files[0].path}",
                              hint="give the train files of the source the anchors were chosen from.")
    specs = [EmbeddingsMeta.of(f).encoder for f in train_files]
    if validation is None:
        test_files = _load_group(test, "test")
        for spec, file in zip(specs, test_files, strict=True):
            theirs = EmbeddingsMeta.of(file).encoder
            if theirs != spec:
                raise StitchError(f"{file.path} comes from {theirs} but the "
                                  f"train file in its place from {spec}",
                                  hint="give the --test files in the order of the --train files.")
        keep = torch.arange(len(labels))
        held = [f.require("embeddings") for f in test_files]
        held_paths = [str(f.path) for f in test_files]
        held_labels = _label_ids(test_files[0], label_names)
    else:
        candidates = torch.ones(len(labels), dtype=torch.bool)
        if file_anchors is not None:
            candidates[file_anchors] = False  # anchors are train samples: never scored
        out = _stratified_holdout(labels, torch.nonzero(candidates).squeeze(1), validation, seed)
        mask = torch.ones(len(labels), dtype=torch.bool)
        mask[out] = False
        keep = torch.nonzero(mask).squeeze(1)
        held = [f.require("embeddings")[out] for f in train_files]
        held_paths = [str(f.path) for f in train_files]
        held_labels = labels[out]
        if file_anchors is not None:  # positions into the kept rows
            file_anchors = torch.searchsorted(keep, file_anchors)
    if len(set(specs)) < len(specs):
        raise StitchError("two --train files come from the same encoder spec",
                          hint="a sweep compares different encoders; give each one once.")
    spaces = [EncoderSpace(spec, str(f.path), path, f.require("embeddings")[keep], h)
              for spec, f, path, h in zip(specs, train_files, held_paths, held, strict=True)]
    return SweepData(spaces, label_names, labels[keep], held_labels,
                     "validation" if validation is not None else "test", file_anchors)
