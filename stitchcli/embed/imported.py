"""`stitch import`: vectors made elsewhere (an embedding API, a graph or audio model) as an ordinary
embeddings file, with the anchors' vectors found by their ids and relative vectors computed here."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from stitchcli.anchors.anchor_set import load_anchor_set
from stitchcli.data import encode_labels, unlabelled
from stitchcli.data.ids import PREFIX, read_ids
from stitchcli.errors import StitchError
from stitchcli.metadata import EmbeddingsMeta, RelativeSpec
from stitchcli.relspace import parse_similarity
from stitchcli.storage import store
from stitchcli.storage.rows import RowWriter

FORMATS = (".npy", ".npz", ".safetensors", ".parquet")
BLOCK = 4096


@dataclass
class ImportRequest:
    vectors: Path
    ids: str  # a file of ids (one per vector, in order) or a column/array of the vectors file
    anchors: Path
    out: Path
    labels: str | None = None  # a file (one label per vector) or a column/array of the vectors file
    vector_column: str = "embedding"  # Parquet
    similarity: str = "cosine"
    center: bool = True
    # The anchors' vectors from this file (the same model's train file, imported with the same anchor
    # set) instead of from the vectors by id: for test vectors, whose ids hold no anchor.
    anchor_embeddings_from: Path | None = None


def _columns(path: Path) -> dict:
    """Named 1-D or 2-D arrays of the vectors file (npz arrays, Parquet columns)."""
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except (ValueError, EOFError, OSError, zipfile.BadZipFile) as exc:
            raise StitchError(f"{path} is not a readable .npz archive: {exc or type(exc).__name__}") from None
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise StitchError("importing Parquet needs pyarrow",
                              hint="pip install 'stitchcli[parquet]'") from None
        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise StitchError(f"{path} is not a readable Parquet file: {exc}") from None
        return {name: table.column(name).to_pylist() for name in table.column_names}
    return {}


def read_vectors(request: ImportRequest) -> tuple[np.ndarray, list[str], list | None]:
    """(vectors N×D float32, ids, raw labels or None), every count checked."""
    path = Path(request.vectors)
    if not path.is_file():
        raise StitchError(f"vectors file not found: {path}")
    if path.suffix.lower() not in FORMATS:
        raise StitchError(f"cannot read vectors from {path.name}",
                          hint=f"give a {', '.join(FORMATS)} file.")
    columns = _columns(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            vectors = np.load(path, allow_pickle=False)
        elif suffix == ".safetensors":
            tensors = store.load(path).tensors if _is_stitch(path) else _safetensors(path)
            vectors = _one_matrix({k: v.numpy() for k, v in tensors.items()}, path, "embeddings")
        elif suffix == ".parquet":
            if request.vector_column not in columns:
                raise StitchError(f"{path} has no vector column {request.vector_column!r} (columns: "
                                  f"{', '.join(columns)})", hint="choose it with --vector-column.")
            vectors = np.asarray(columns[request.vector_column], dtype=np.float32)
        else:
            vectors = _one_matrix(columns, path, "embeddings")
    except (ValueError, EOFError, OSError) as exc:  # an empty or truncated .npy: EOFError
        raise StitchError(f"{path} holds no readable vectors: {exc or type(exc).__name__}") from None
    if vectors.ndim != 2 or not len(vectors) or not np.issubdtype(vectors.dtype, np.number):
        raise StitchError(f"{path}: vectors must be a numeric N×D array, got shape {vectors.shape}")
    if np.issubdtype(vectors.dtype, np.complexfloating):
        raise StitchError(f"{path}: vectors must be real numbers, got {vectors.dtype}",
                          hint="convert them to real vectors (e.g. real and imaginary parts side by side).")
    if vectors.shape[1] < 1:
        raise StitchError(f"{path}: vectors must have at least one dimension, got shape {vectors.shape}")
    vectors = vectors.astype(np.float32)
    if not np.isfinite(vectors).all():
        row = int(np.nonzero(~np.isfinite(vectors).all(axis=1))[0][0])
        raise StitchError(f"{path}: the vector in row {row} holds NaN or infinite values")
    ids = _values(request.ids, columns, path, "ids", len(vectors))
    ids = [str(v) for v in ids]
    seen: dict[str, int] = {}
    for row, value in enumerate(ids):
        if value in seen:
            raise StitchError(f"id {value!r} appears twice among the ids of {path} "
                              f"(rows {seen[value]} and {row})")
        seen[value] = row
    labels = None
    if request.labels is not None:
        labels = _values(request.labels, columns, path, "labels", len(vectors))
    return vectors, ids, labels


def _is_stitch(path: Path) -> bool:
    return store.read_metadata(path).get("format") == "stitchcli"


def _safetensors(path: Path) -> dict:
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - a foreign or damaged file
        raise StitchError(f"{path} is not a readable safetensors file: {exc}") from None


def _one_matrix(arrays: dict, path: Path, preferred: str) -> np.ndarray:
    if preferred in arrays:
        return np.asarray(arrays[preferred])
    matrices = [name for name, value in arrays.items() if np.asarray(value).ndim == 2]
    if len(matrices) != 1:
        raise StitchError(f"{path}: cannot tell which array holds the vectors "
                          f"({', '.join(arrays) or 'none'})", hint=f"name it '{preferred}'.")
    return np.asarray(arrays[matrices[0]])


def _values(spec: str, columns: dict, path: Path, what: str, count: int) -> list:
    """A file of values (one per line, .npy or .json) or a column of the vectors file."""
    if spec in columns:
        column = columns[spec]
        values = column if isinstance(column, list) else list(np.asarray(column).tolist())
    elif Path(spec).is_file():
        if what == "ids":
            values = read_ids(Path(spec))
        else:
            try:
                lines = Path(spec).read_text(encoding="utf-8").split("\n")  # not at U+2028 inside a label
            except UnicodeDecodeError as exc:
                raise StitchError(f"--{what} {spec} is not UTF-8 text (byte {exc.start})") from None
            values = [line.strip() for line in lines if line.strip()]
    else:
        raise StitchError(f"--{what} {spec}: neither a file nor a column of {path} "
                          f"(columns: {', '.join(columns) or 'none'})")
    if len(values) != count:
        raise StitchError(f"{len(values)} {what} for {count} vectors in {path}",
                          hint=f"give one {what[:-1]} per vector, in the vectors' order.")
    return values


def _anchors_by_id(request: ImportRequest, anchor_set, vectors: np.ndarray, ids: list[str]) -> torch.Tensor:
    """The anchors' rows of ``vectors``, found by their ids (in the anchor set's order)."""
    source = anchor_set.load_source()
    wanted = [str(source.sample(int(i))) for i in anchor_set.indices.tolist()]
    rows = {value: row for row, value in enumerate(ids)}
    missing = [value for value in wanted if value not in rows]
    if missing:
        raise StitchError(f"{len(missing)} of the {len(wanted)} anchors' ids are not among the ids of "
                          f"{request.vectors} (e.g. {missing[0]!r})",
                          hint="import vectors of every anchor (the ids the anchor set was chosen from), "
                          "or take them from the train file: --anchor-embeddings-from TRAIN.safetensors.")
    return torch.from_numpy(vectors[[rows[value] for value in wanted]])


def _anchors_from_file(path: Path, anchor_set, dim: int) -> torch.Tensor:
    """The anchor embeddings of another file of the same model, checked to be of this anchor set."""
    from stitchcli.storage import open_rows

    file = open_rows(path)
    theirs = EmbeddingsMeta.of(file).anchors_fingerprint
    if not file.has("anchor_embeddings") or theirs != anchor_set.fingerprint:
        raise StitchError(f"{path} holds no anchor embeddings of anchor set {anchor_set.fingerprint} "
                          f"(it has {theirs or 'none'})",
                          hint="give the train file imported (or embedded) with the same --anchors.")
    anchors = file.read("anchor_embeddings").float()
    if anchors.shape[1] != dim:
        raise StitchError(f"{path} has anchor embeddings of dimension {anchors.shape[1]} but the vectors "
                          f"have {dim}", hint="take the anchors from a file of the same model.")
    return anchors


def run_import(request: ImportRequest) -> EmbeddingsMeta:
    """Write ``request.out``: the vectors, their labels, the anchors' vectors found by id and every
    row's relative vectors; returns the file's metadata."""
    parse_similarity(request.similarity)
    out = store.check_writable(request.out)
    anchor_set = load_anchor_set(request.anchors)
    if not anchor_set.source.startswith(PREFIX):
        raise StitchError(f"{request.anchors} was chosen from {anchor_set.source}, not from ids",
                          hint="choose anchors for imported vectors with `stitch anchors --ids IDS_FILE`.")
    vectors, ids, raw_labels = read_vectors(request)
    labels, names = encode_labels(raw_labels, f"labels of {request.vectors}") if raw_labels is not None \
        else unlabelled(len(ids))
    if request.anchor_embeddings_from is not None:
        anchors = _anchors_from_file(request.anchor_embeddings_from, anchor_set, vectors.shape[1])
    else:
        anchors = _anchors_by_id(request, anchor_set, vectors, ids)
    from stitchcli.relspace import RelativeProjector

    project = RelativeProjector(anchors, request.similarity, request.center)
    meta = EmbeddingsMeta(
        encoder=f"import:{Path(request.vectors).name}", pooling="imported", modality="imported",
        max_length="none", dtype="float32", dataset=str(Path(request.vectors).resolve()),
        split=Path(request.vectors).stem, dataset_fingerprint=store.fingerprint("ids", *ids),
        label_names=names, labelled=bool(names), num_samples=len(ids), dim=vectors.shape[1],
        relative=RelativeSpec(anchor_set.fingerprint, request.similarity, request.center, len(anchors)),
        anchors_dataset=anchor_set.source, anchors_dataset_fingerprint=anchor_set.dataset_fingerprint,
        anchors_file=str(Path(request.anchors).resolve()), imported_from=str(Path(request.vectors).resolve()),
        anchor_embeddings_from=None if request.anchor_embeddings_from is None
        else str(Path(request.anchor_embeddings_from).resolve()),
    )
    metadata = meta.to_metadata()
    n = len(ids)
    columns = {"embeddings": (torch.float32, (n, vectors.shape[1])), "labels": (torch.int64, (n,)),
               "indices": (torch.int64, (n,)), "anchor_embeddings": (torch.float32, tuple(anchors.shape)),
               "relative": (torch.float32, (n, project.width))}
    with RowWriter(out, "embeddings", columns, metadata) as writer:
        for start in range(0, n, BLOCK):
            block = torch.from_numpy(vectors[start : start + BLOCK])
            writer.write("embeddings", start, block)
            writer.write("labels", start, torch.tensor(labels[start : start + BLOCK], dtype=torch.int64))
            writer.write("indices", start, torch.arange(start, start + len(block), dtype=torch.int64))
            writer.write("relative", start, project(block))
        writer.write("anchor_embeddings", 0, anchors)
    return meta
