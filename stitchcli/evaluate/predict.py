"""Predictions of one head on one embeddings file: the best labels and their probabilities per row
(or a regression head's values, or a reconstruction head's images), written a block at a time (CSV,
JSONL or Parquet; PNGs in a folder), and the accuracy when the file has labels."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from stitchcli.errors import IncompatibleError, StitchError
from stitchcli.evaluate.evaluation import head_inputs, label_mapping
from stitchcli.evaluate.prediction_files import PredictionWriter
from stitchcli.events import warn
from stitchcli.heads.head import Head, PrototypeHead
from stitchcli.metadata import EmbeddingsMeta
from stitchcli.storage import store
from stitchcli.storage.locks import output_lock
from stitchcli.storage.rows import RowReader

# Prototype heads score by cosine; their probabilities are softmax(cosine / T), T fitted on the train
# file (metadata "temperature"); a prototype head that records none (trained without a file) uses this.
DEFAULT_TEMPERATURE = 0.05


@dataclass
class PredictRequest:
    head: Head
    embeddings: Path
    out: Path
    top_k: int = 1
    translate: str | None = None  # None: the map the head records, if any
    id_column: str | None = None
    refine: int | None = None  # None: the refinement rounds the head records


def probabilities(head: Head, logits: torch.Tensor) -> torch.Tensor:
    """Class probabilities: softmax of the logits; for a prototype head, of its cosines over the
    temperature fitted on its train file."""
    if isinstance(head.module, PrototypeHead):
        temperature = head.meta.temperature if head.meta.temperature is not None else DEFAULT_TEMPERATURE
        return torch.softmax(logits / temperature, dim=1)
    return torch.softmax(logits.float(), dim=1)


@torch.inference_mode()
def predicted_blocks(request: PredictRequest,
                     file: RowReader) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """(first row, top-k class ids, their probabilities), a block of rows at a time."""
    head = request.head
    if not file.num_rows:  # an empty --shard part: nothing to predict (and no rows to take statistics of)
        return
    inputs, _ = head_inputs(head, file, request.translate, request.refine)
    for start, block in inputs.blocks():
        probs = probabilities(head, head.module(block))
        scores, classes = probs.topk(request.top_k, dim=1)
        yield start, classes, scores


def _ids(request: PredictRequest, file: RowReader):
    """``ids(start, stop)``: those rows' ids, the ``--id-column`` value from the file's source, else
    the row number there. Without ``--id-column`` only the row numbers of the block are read."""
    if request.id_column is None:
        if not file.has("indices"):
            return lambda start, stop: list(range(start, stop))
        return lambda start, stop: file.read("indices", start, stop).long().tolist()
    from stitchcli.heads.targets import source_of, source_rows

    rows = source_rows(file)
    meta = EmbeddingsMeta.of(file)
    if not meta.dataset:
        raise StitchError(f"{file.path} does not record its source, so --id-column cannot be read")
    # under the fingerprint check: ids of an edited source would name other rows
    values = source_of(file, "ids").column(request.id_column)
    ids = [values[i] for i in rows]
    return lambda start, stop: ids[start:stop]


def check_top_k(head: Head, top_k: int) -> None:
    """``--top-k`` between 1 and the head's class count (checked before any embedding or reading)."""
    head.task.check_top_k(head, top_k)


def run_predict(request: PredictRequest) -> dict:
    """Write every row's prediction to ``request.out`` (atomically); the summary says how many rows
    and, when the file has labels the head knows, the accuracy (as ``evaluate`` computes it)."""
    from stitchcli.storage import open_rows

    head = request.head
    check_top_k(head, request.top_k)
    file = open_rows(request.embeddings)
    return head.task.write_predictions(request, file, _ids(request, file))


def write_classes(request: PredictRequest, file: RowReader, ids) -> dict:  # noqa: ANN001
    """A classifier's best labels and their probabilities per row (CSV, JSONL or Parquet)."""
    head = request.head
    target = None
    if file.has("labels") and file.meta_json("label_names", []):
        try:
            target = label_mapping(head, file)[file.labels()]
        except IncompatibleError as exc:  # predictions need no labels: they only give the accuracy
            warn(f"no accuracy: {exc}")
    right = 0
    out = head.task.check_output(request.out)
    with output_lock(out), store.atomic_path(out, suffix=out.suffix) as tmp:
        writer = PredictionWriter(tmp, request.top_k, ids_are_rows=request.id_column is None)
        try:
            for start, classes, scores in predicted_blocks(request, file):
                stop = start + len(classes)
                labels = [[head.label_names[c] for c in row] for row in classes.tolist()]
                rounded = [[round(s, 6) for s in row] for row in scores.tolist()]
                writer.write(ids(start, stop), labels, rounded)
                if target is not None:
                    right += int((classes[:, 0] == target[start:stop]).sum())
        finally:
            writer.close()
    summary = {"predictions": str(request.out), "num_samples": file.num_rows, "head": str(head.path),
               "encoder": EmbeddingsMeta.of(file).encoder, "head_encoder": head.encoder}
    summary["accuracy"] = right / file.num_rows if target is not None and file.num_rows else None
    return summary


@torch.inference_mode()
def write_values(request: PredictRequest, file: RowReader, ids) -> dict:  # noqa: ANN001
    """A regression head's values per row (a table), or a reconstruction head's images (a folder of
    PNGs: a spec with an image shape)."""
    from stitchcli.evaluate.prediction_files import ImageWriter, ValueWriter

    head = request.head
    spec = head.targets()
    images = head.task.images
    out = head.task.check_output(request.out)
    # none: an empty part
    inputs = head_inputs(head, file, request.translate, request.refine)[0] if file.num_rows else None
    place = store.atomic_dir(out) if images else store.atomic_path(out, suffix=out.suffix)
    with output_lock(out), place as tmp:
        writer = (ImageWriter(tmp) if images
                  else ValueWriter(tmp, spec.names, ids_are_rows=request.id_column is None))
        try:
            for start, block in inputs.blocks() if inputs is not None else ():
                values = head.module(block)
                stop = start + len(values)
                if images:
                    pixels = (values.clamp(0, 1) * 255).round().to(torch.uint8)
                    writer.write(ids(start, stop), pixels.reshape(-1, *spec.image_shape).numpy())
                else:
                    writer.write(ids(start, stop), [[round(v, 6) for v in row] for row in values.tolist()])
        finally:
            writer.close()
    return {"predictions": str(request.out), "num_samples": file.num_rows, "head": str(head.path),
            "encoder": EmbeddingsMeta.of(file).encoder, "head_encoder": head.encoder, "task": head.task.name,
            "accuracy": None}
