"""The Python API: ``load_head(path or hub id)`` and ``head.predict(samples, encoder=...)``, through the
same job as ``stitch predict --encoder --dataset`` (samples are written to a temporary source first)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stitchcli.errors import StitchError


@dataclass
class Prediction:
    """One sample's predicted label, its probability, and the best ``top_k`` (label, score) pairs."""

    label: str
    score: float
    top_k: list[tuple[str, float]]


class StitchHead:
    """A trained head ready to predict with any encoder of its modality (zero-shot)."""

    def __init__(self, head) -> None:
        self.head = head

    @property
    def labels(self) -> list[str]:
        return list(self.head.label_names)

    @property
    def encoder(self) -> str:
        """The encoder the head was trained on."""
        return self.head.encoder

    def __repr__(self) -> str:
        return (f"StitchHead({self.head.space} {self.head.config.arch} head on {self.encoder}, "
                f"labels {self.labels})")

    def predict(self, samples: Sequence, encoder: str, *, top_k: int = 1, batch_size: int = 32,
                device: str = "auto", translate: str | None = None, quiet: bool = True) -> list[Prediction]:
        """Labels for ``samples`` (texts; or images: PIL images, arrays, or paths of image files),
        embedded with ``encoder`` together with the head's anchors."""
        from stitchcli.data import ReadOptions
        from stitchcli.encoders import EncoderOptions
        from stitchcli.jobs import PredictDataRequest, run_predict_on_data

        if self.head.task != "classification":
            from stitchcli.errors import StitchError

            raise StitchError(f"this is a {self.head.task} head; the Python API predicts classes",
                              hint="write its values or images with `stitch predict --head ... --out ...`.")
        samples = list(samples)
        if not samples:
            return []
        with tempfile.TemporaryDirectory(prefix="stitch-predict-") as folder:
            source = _write_samples(samples, Path(folder))
            out = Path(folder) / "predictions.jsonl"
            run_predict_on_data(PredictDataRequest(
                self.head, encoder, str(source), out, ReadOptions(label_column="none"),
                EncoderOptions(device=device), top_k=top_k, translate=translate, batch_size=batch_size,
                quiet=quiet))
            rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        return [Prediction(row["label"], row["score"],
                           [(t["label"], t["score"]) for t in row.get("top_k", [])]
                           or [(row["label"], row["score"])]) for row in rows]


def _write_samples(samples: list, folder: Path) -> Path:
    """Texts as a JSONL file, images as a flat folder of files in sample order."""
    if all(isinstance(s, str) for s in samples):
        path = folder / "samples.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for text in samples:
                handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        return path
    images = folder / "images"
    images.mkdir()
    for number, sample in enumerate(samples):
        name = f"{number:09d}"
        if isinstance(sample, str | Path):
            if not Path(sample).is_file():
                raise StitchError(f"image file not found: {sample}")
            shutil.copyfile(sample, images / f"{name}{Path(sample).suffix.lower()}")
        else:
            from stitchcli.data.images import to_rgb

            try:
                to_rgb(sample).save(images / f"{name}.png")
            except (TypeError, ValueError) as exc:
                raise StitchError(f"sample {number} is neither a text nor an image: {exc}") from None
    return images


def load_head(head: str | Path) -> StitchHead:
    """A head from a file, a folder holding ``head.safetensors``, or ``hf:ORG/NAME[@REVISION]``."""
    from stitchcli.heads import load_head as load
    from stitchcli.heads import resolve_head
    from stitchcli.storage import store

    path = resolve_head(head)
    store.load_metadata_checked(path, kind="head")
    return StitchHead(load(path))
