"""Anchor samples stored in the anchor file: texts as UTF-8, images as their original encoded bytes.

With them an anchor set (and a head that carries it) is read without its source: the samples come
from the file, the source's path and fingerprint stay as provenance. Each view is two tensors:
``samples.<view>.data`` (uint8, every sample's bytes end to end) and ``samples.<view>.offsets``
(int64, K+1 boundaries).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import torch

from stitchcli.data import Dataset
from stitchcli.errors import StitchError

_DAMAGED = "the anchor file (or the head carrying it) is damaged or was edited; make it again."


@dataclass(frozen=True)
class StoredSamples:
    """One view's anchor samples as bytes: sample ``j`` is ``data[offsets[j]:offsets[j + 1]]``."""

    modality: str  # "text" or "image"
    data: torch.Tensor
    offsets: torch.Tensor

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def raw(self, position: int) -> bytes:
        start, stop = int(self.offsets[position]), int(self.offsets[position + 1])
        return self.data[start:stop].numpy().tobytes()

    def sample(self, position: int):
        raw = self.raw(position)
        if self.modality == "text":
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise StitchError(f"anchor sample {position} stored in the anchor set is not valid UTF-8 "
                                  "text", hint=_DAMAGED) from None
        from PIL import Image

        try:
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                return image
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            raise StitchError(f"anchor sample {position} stored in the anchor set is not a readable image",
                              hint=_DAMAGED) from None

    def tensors(self, prefix: str) -> dict[str, torch.Tensor]:
        return {f"{prefix}.data": self.data, f"{prefix}.offsets": self.offsets}

    @classmethod
    def from_tensors(cls, modality: str, tensors: dict, prefix: str, count: int, where: str) -> StoredSamples:
        data, offsets = tensors.get(f"{prefix}.data"), tensors.get(f"{prefix}.offsets")
        if data is None or offsets is None:
            raise StitchError(f"{where} lacks its anchor samples ({prefix})")
        if data.dtype != torch.uint8 or offsets.dtype != torch.int64 or data.dim() != 1 or offsets.dim() != 1:
            raise StitchError(f"{where} has malformed anchor samples ({prefix}: {data.dtype} "
                              f"{tuple(data.shape)} data, {offsets.dtype} {tuple(offsets.shape)} offsets; "
                              "1-d uint8 and int64 expected)", hint=_DAMAGED)
        samples = cls(modality, data, offsets)
        ok = (len(offsets) == count + 1 and int(offsets[0]) == 0 and int(offsets[-1]) == len(data)
              and bool((offsets[1:] >= offsets[:-1]).all()))
        if not ok:
            raise StitchError(f"{where} has inconsistent anchor samples ({prefix}: {len(offsets) - 1} "
                              f"offsets for {count} anchors)", hint=_DAMAGED)
        return samples


def samples_digest(samples: list[StoredSamples]) -> str:
    """The SHA-256 of every view's stored samples (offsets and bytes): recorded with the anchor set so
    that samples swapped in under the same set fingerprint are refused."""
    digest = hashlib.sha256()
    for view in samples:
        digest.update(view.offsets.to(torch.int64).numpy().astype("<i8").tobytes())
        digest.update(view.data.numpy().tobytes())
    return digest.hexdigest()


def _encoded_image(dataset: Dataset, row: int) -> bytes:
    """An image's original bytes if the source keeps them (files, Parquet cells), else lossless PNG."""
    if dataset.get_raw is not None:
        raw = dataset.get_raw(row)
        if isinstance(raw, bytes | bytearray) and raw:
            return bytes(raw)
    from stitchcli.data.images import to_rgb

    buffer = io.BytesIO()
    to_rgb(dataset.sample(row)).save(buffer, format="PNG")
    return buffer.getvalue()


def store_samples(dataset: Dataset, rows: torch.Tensor) -> StoredSamples:
    """The samples at ``rows`` of ``dataset``, encoded for the anchor file."""
    parts: list[bytes] = []
    for row in rows.tolist():
        if dataset.modality == "text":
            parts.append(str(dataset.sample(row)).encode("utf-8"))
        else:
            parts.append(_encoded_image(dataset, row))
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    data = torch.frombuffer(bytearray(b"".join(parts)), dtype=torch.uint8) if offsets[-1] else \
        torch.zeros(0, dtype=torch.uint8)
    return StoredSamples(dataset.modality, data.clone(), torch.tensor(offsets, dtype=torch.int64))


@dataclass
class StoredDataset(Dataset):
    """The anchors of one view read from stored samples: row ``indices[j]`` of the source is sample
    ``j``; any other row is missing (only the anchors are kept)."""

    size: int = 0

    def __len__(self) -> int:
        return self.size


def stored_dataset(samples: StoredSamples, indices: torch.Tensor, source: str, split: str,
                   fingerprint: str, size: int) -> StoredDataset:
    positions = {row: j for j, row in enumerate(indices.tolist())}

    def get(row: int):
        if int(row) not in positions:
            raise StitchError(f"row {row} of {source} is not an anchor, so the anchor file does not keep it")
        return samples.sample(positions[int(row)])

    return StoredDataset(source=source, split=split, modality=samples.modality, labels=[], label_names=[],
                         fingerprint=fingerprint, get_sample=get,
                         get_raw=lambda row: samples.raw(positions[int(row)]), size=size)
