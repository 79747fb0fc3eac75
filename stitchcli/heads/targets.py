"""What regression and reconstruction heads learn to output, read back from the source rows an
embeddings file came from: numeric columns, or the images themselves resized to a small square."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from stitchcli.errors import StitchError, printable
from stitchcli.metadata import EmbeddingsMeta
from stitchcli.storage.rows import RowReader

GRAYSCALE_MODES = {"1", "L", "LA", "I", "I;16", "F"}
PROBE_ROWS = 32  # samples looked at to tell grayscale data from colour data


@dataclass
class TargetSpec:
    """Which targets a head outputs; recorded in the head so that every file is read the same way."""

    task: str
    columns: list[str] = field(default_factory=list)  # regression: the source's value columns
    size: int | None = None  # reconstruction: images resized to size × size
    channels: int | None = None  # reconstruction: 1 (grayscale data) or 3
    names: list[str] = field(default_factory=list)  # regression: one name per output

    def as_metadata(self) -> dict[str, str]:
        if self.columns:
            return {"target_columns": json.dumps(self.columns), "target_names": json.dumps(self.names)}
        return {"target_size": str(self.size), "target_channels": str(self.channels)}

    def head_fields(self) -> dict:
        """The ``HeadMeta`` fields that record this spec."""
        return {"target_columns": self.columns or None, "target_names": self.names or None,
                "target_size": self.size, "target_channels": self.channels}

    @classmethod
    def from_meta(cls, task: str, meta, where: str = "head") -> TargetSpec:  # noqa: ANN001 - a HeadMeta
        """The spec a head's metadata records, for ``task``; one line if it records none."""
        regression = meta.target_columns is not None or meta.target_names is not None
        if regression and meta.target_columns is not None and meta.target_names is not None:
            return cls(task, columns=meta.target_columns, names=meta.target_names)
        if not regression and meta.target_size is not None and meta.target_channels is not None:
            return cls(task, size=meta.target_size, channels=meta.target_channels)
        raise StitchError(f"{where}: its {task} targets are not recorded")

    @property
    def outputs(self) -> int:
        """How many values a head of this spec outputs per row (-1: the spec makes no sense)."""
        if self.columns:
            return len(self.names)
        if self.size and self.size > 0 and self.channels in (1, 3):
            return self.channels * self.size * self.size
        return -1

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels or 3, self.size or 0, self.size or 0)


def source_of(reader: RowReader, what: str = "targets"):
    """The dataset ``reader``'s rows were embedded from, checked to be unchanged since (by fingerprint);
    ``what`` is read from it (named in the errors)."""
    from stitchcli.data import load_dataset

    meta = EmbeddingsMeta.of(reader)
    source = meta.dataset
    if not meta.has_source:
        raise StitchError(f"{reader.path} does not record a source to read {what} from",
                          hint=f"{what} are read from the rows `stitch embed` read; imported vectors "
                          "carry none.")
    try:
        dataset = load_dataset(source, meta.read_options)
    except StitchError as exc:
        raise StitchError(f"cannot read the {what} of {reader.path} from its source: {exc.message}",
                          hint="run from the folder where the data were embedded, so that the recorded "
                          f"path {printable(source)} is found.") from None
    recorded = meta.dataset_fingerprint
    if recorded and dataset.fingerprint != recorded:
        raise StitchError(f"{printable(source)} changed since {reader.path} was embedded from it "
                          f"(fingerprint {dataset.fingerprint} now, {recorded} then)",
                          hint=f"embed it again; {what} from other rows would give wrong numbers.")
    return dataset


def source_rows(reader: RowReader) -> list[int]:
    """The source row of each of the file's rows."""
    if reader.has("indices"):
        return reader.read("indices").long().tolist()
    return list(range(reader.num_rows))


def _numbers(value, column: str, row: int, where: str) -> list[float]:
    values = value if isinstance(value, list | tuple) else [value]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise StitchError(f"{where} row {row}: column {column!r} holds {printable(str(value), 60)}, "
                          "not a number") from None
    if not all(math.isfinite(v) for v in numbers):
        raise StitchError(f"{where} row {row}: column {column!r} holds a NaN or infinite value")
    return numbers


def regression_targets(dataset, rows: list[int], columns: list[str]) -> tuple[torch.Tensor, list[str]]:
    """Values of ``columns`` at ``rows`` (a column of lists gives one output per element), and names."""
    parts, names = [], []
    for column in columns:
        values = dataset.column(column, "--target-column")
        block = [_numbers(values[row], column, row, f"dataset {dataset.source}") for row in rows]
        widths = {len(v) for v in block}
        if len(widths) > 1:
            raise StitchError(f"dataset {dataset.source}: column {column!r} holds lists of different "
                              f"lengths ({', '.join(map(str, sorted(widths)))})")
        width = widths.pop() if widths else 1
        part = torch.tensor(block, dtype=torch.float32).reshape(len(rows), width)
        if not bool(torch.isfinite(part).all()):
            row = rows[int((~torch.isfinite(part)).any(dim=1).nonzero()[0])]
            raise StitchError(f"dataset {printable(dataset.source)} row {row}: column {column!r} holds a "
                              "value too large for float32 (beyond ±3.4e38)",
                              hint="rescale the column (e.g. to other units).")
        parts.append(part)
        names += [column] if width == 1 else [f"{column}[{i}]" for i in range(width)]
    return torch.cat(parts, dim=1), names


def image_channels(dataset, rows: list[int]) -> int:
    """1 when the data are grayscale (the first rows all are), else 3."""
    from PIL import Image

    for row in rows[:PROBE_ROWS]:
        sample = dataset.sample(row)
        if isinstance(sample, Image.Image):
            if sample.mode not in GRAYSCALE_MODES:
                return 3
        elif not (np.ndim(sample) == 2 or (np.ndim(sample) == 3 and np.shape(sample)[-1] == 1)):
            return 3
    return 1


def image_targets(dataset, rows: list[int], size: int, channels: int) -> torch.Tensor:
    """Each row's image as ``channels`` × ``size`` × ``size`` values in [0, 1], flattened."""
    from PIL import Image

    from stitchcli.data.images import to_rgb

    if dataset.modality != "image":
        raise StitchError(f"dataset {dataset.source} holds texts: --task reconstruction decodes images")
    out = np.empty((len(rows), channels * size * size), dtype=np.float32)
    for i, row in enumerate(rows):
        image = to_rgb(dataset.sample(row))
        if channels == 1:
            image = image.convert("L")
        array = np.asarray(image.resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0
        out[i] = (array[None] if channels == 1 else array.transpose(2, 0, 1)).reshape(-1)
    return torch.from_numpy(out)


def regression_training_targets(reader: RowReader, task: str, columns: list[str]
                                ) -> tuple[TargetSpec, torch.Tensor]:
    """The spec a new regression head records and its train file's values of ``columns``."""
    if not columns:
        raise StitchError("--task regression needs --target-column NAME (the value to predict)")
    targets, names = regression_targets(source_of(reader), source_rows(reader), columns)
    return TargetSpec(task, columns=list(columns), names=names), targets


def image_training_targets(reader: RowReader, task: str, size: int) -> tuple[TargetSpec, torch.Tensor]:
    """The spec a new reconstruction head records and its train file's images, resized."""
    if size < 1:
        raise StitchError(f"--target-size must be positive, got {size}")
    dataset, rows = source_of(reader), source_rows(reader)
    channels = image_channels(dataset, rows)
    return TargetSpec(task, size=size, channels=channels), image_targets(dataset, rows, size, channels)


def read_targets(reader: RowReader, spec: TargetSpec, cache: dict | None = None) -> torch.Tensor:
    """The targets of every row of ``reader`` as ``spec`` (a head's) reads them; with ``cache`` (one per
    file) each spec's are read from the source once, however many heads share them."""
    key = tuple(sorted(spec.as_metadata().items()))
    if cache is not None and key in cache:
        return cache[key]
    dataset, rows = source_of(reader), source_rows(reader)
    if spec.columns:
        targets = regression_targets(dataset, rows, spec.columns)[0]
    else:
        targets = image_targets(dataset, rows, spec.size, spec.channels)
    if cache is not None:
        cache[key] = targets
    return targets
