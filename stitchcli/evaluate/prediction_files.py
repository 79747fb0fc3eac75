"""Prediction files: which formats ``stitch predict`` writes (CSV, JSONL, Parquet; a folder of PNGs for
a reconstruction head) and the writers that add rows a block at a time. Importing it costs no torch:
the output is checked before any work."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from stitchcli.errors import StitchError, UsageError
from stitchcli.storage import store

FORMATS = (".csv", ".jsonl", ".parquet")
IMAGE_INDEX = "index.csv"  # in a folder of decoded images: each PNG's row id


def check_image_folder(out: Path) -> Path:
    """Refuse, before any work, a folder of decoded images that cannot be written (``out`` has no
    suffix; a folder of other files than an earlier run's would be replaced)."""
    out = Path(out)
    if out.suffix or (out.exists() and not out.is_dir()):
        raise UsageError(f"a reconstruction head writes a folder of PNG images, not {out.name}",
                         hint="give a folder name without a suffix, e.g. --out decoded.")
    if out.is_dir() and any(out.iterdir()) and not (out / IMAGE_INDEX).is_file():
        raise StitchError(f"{out} is a folder with other files in it; predictions would replace it",
                          hint="give a new folder name (or one written by an earlier `stitch predict`).")
    return store.check_writable(out, folder=True)


def check_output(out: Path) -> Path:
    """Refuse, before any work, a predictions file whose format is unknown or whose folder cannot be
    written."""
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise UsageError(f"cannot write predictions to {out.name}: unknown suffix {out.suffix or '(none)'}",
                         hint=f"give a file ending in {', '.join(FORMATS)}.")
    return store.check_writable(out)


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise StitchError("writing Parquet needs pyarrow",
                          hint="pip install 'stitchcli[parquet]', or write .csv or .jsonl.") from None


class _RowFile:
    """A CSV or JSONL file opened at once (CSV with its ``header``), or a Parquet writer opened with
    the first block; each writer says how its rows look."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path, self.kind = path, path.suffix.lower()
        self.handle = self.csv = self.parquet = None
        if self.kind == ".parquet":
            _require_pyarrow()
        else:
            self.handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
            if self.kind == ".csv":
                self.csv = csv.writer(self.handle)
                self.csv.writerow(header)

    def _json_lines(self, records) -> None:
        for record in records:
            self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _parquet_block(self, columns: dict[str, list]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(columns)
        if self.parquet is None:
            self.parquet = pq.ParquetWriter(str(self.path), table.schema)
        self.parquet.write_table(table)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.parquet is not None:
            self.parquet.close()


class PredictionWriter(_RowFile):
    """Rows to CSV, JSONL or Parquet in a temporary file beside ``out``, renamed at the end."""

    def __init__(self, path: Path, top_k: int) -> None:
        extra = [f"{name}_{i}" for i in range(1, top_k + 1) for name in ("label", "score")]
        super().__init__(path, ["id", "label", "score", *(extra if top_k > 1 else [])])
        self.top_k = top_k

    def write(self, ids: list, labels: list[list[str]], scores: list[list[float]]) -> None:
        if self.kind == ".jsonl":
            self._json_lines(self._record(i, names, values)
                             for i, names, values in zip(ids, labels, scores, strict=True))
        elif self.kind == ".csv":
            for i, names, values in zip(ids, labels, scores, strict=True):
                pairs = zip(names, values, strict=True)
                extra = [x for pair in pairs for x in pair] if self.top_k > 1 else []
                self.csv.writerow([i, names[0], values[0], *extra])
        else:
            columns = {"id": ids, "label": [n[0] for n in labels], "score": [s[0] for s in scores]}
            if self.top_k > 1:
                for k in range(self.top_k):
                    columns[f"label_{k + 1}"] = [n[k] for n in labels]
                    columns[f"score_{k + 1}"] = [s[k] for s in scores]
            self._parquet_block(columns)

    def _record(self, i, names: list[str], values: list[float]) -> dict:
        row = {"id": i, "label": names[0], "score": values[0]}
        if self.top_k > 1:
            row["top_k"] = [{"label": n, "score": s} for n, s in zip(names, values, strict=True)]
        return row


class ValueWriter(_RowFile):
    """A regression head's values: ``id`` and one column per output, in CSV, JSONL or Parquet."""

    def __init__(self, path: Path, names: list[str]) -> None:
        super().__init__(path, ["id", *names])
        self.names = names

    def write(self, ids: list, values: list[list[float]]) -> None:
        if self.kind == ".jsonl":
            self._json_lines({"id": i, **dict(zip(self.names, row, strict=True))}
                             for i, row in zip(ids, values, strict=True))
        elif self.kind == ".csv":
            for i, row in zip(ids, values, strict=True):
                self.csv.writerow([i, *row])
        else:
            self._parquet_block({"id": ids, **{name: [row[k] for row in values]
                                               for k, name in enumerate(self.names)}})


class ImageWriter:
    """A reconstruction head's images: ``NNNNNN.png`` per row (its position) and ``index.csv`` giving
    each file's row id, in a folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.count = folder, 0
        self.index = open(folder / IMAGE_INDEX, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.csv = csv.writer(self.index)
        self.csv.writerow(["file", "id"])

    def write(self, ids: list, images) -> None:
        """``images``: uint8 arrays C × S × S (C = 1 or 3)."""
        from PIL import Image

        for i, image in zip(ids, images, strict=True):
            name = f"{self.count:06d}.png"
            picture = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
            Image.fromarray(picture).save(self.folder / name, format="PNG")
            self.csv.writerow([name, i])
            self.count += 1

    def close(self) -> None:
        self.index.close()
