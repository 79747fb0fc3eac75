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
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:  # `--out .`: it cannot be replaced
        raise StitchError(f"--out {out} is the current folder (or one above it); predictions would "
                          "replace it", hint="give a new folder name, e.g. --out decoded.")
    if out.is_dir() and any(out.iterdir()):
        stranger = _not_written_by_predict(out)
        if stranger is not None:
            raise StitchError(f"{out} holds {stranger}, which no earlier `stitch predict` wrote there; "
                              "predictions would replace the whole folder",
                              hint="give a new folder name (or one written by an earlier `stitch predict`).")
    return store.check_writable(out, folder=True)


def _not_written_by_predict(folder: Path) -> str | None:
    """What in ``folder`` an earlier run did not write (None: exactly its ``index.csv`` and the PNGs
    that index lists, so replacing the folder loses nothing of anyone else's). The index is the
    manifest: it names every file the run wrote."""
    index = folder / IMAGE_INDEX
    if not index.is_file() or index.is_symlink():
        return f"no {IMAGE_INDEX} of an earlier run"
    try:
        with index.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return f"an {IMAGE_INDEX} that is not one of stitchcli's"
    if not rows or rows[0] != ["file", "id"] or any(len(row) != 2 for row in rows[1:]):
        return f"an {IMAGE_INDEX} that is not one of stitchcli's"
    listed = {row[0] for row in rows[1:]}
    for entry in sorted(folder.iterdir()):
        if entry.name == IMAGE_INDEX:
            continue
        if entry.name not in listed or not _image_name(entry.name) or entry.is_symlink() \
                or not entry.is_file():
            return repr(entry.name)
    return None


def _image_name(name: str) -> bool:
    """``000042.png``: the names ``ImageWriter`` gives."""
    stem, _, suffix = name.partition(".")
    return suffix == "png" and len(stem) >= 6 and stem.isdigit()


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


def _parquet_error(column: str, exc: Exception) -> StitchError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StitchError(f"cannot write the {column} column to Parquet: {text}",
                       hint="a Parquet column holds one type: give an --id-column of one type, or write "
                       ".csv or .jsonl.")


def check_parquet_ids(out: Path, ids: list) -> None:
    """Refuse, before any embedding, ``--id-column`` values that one Parquet column cannot hold (ints
    mixed with strings...)."""
    if Path(out).suffix.lower() != ".parquet":
        return
    _require_pyarrow()
    import pyarrow as pa

    try:
        pa.array(ids)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _parquet_error("id", exc) from None


class _RowFile:
    """A CSV or JSONL file opened at once (CSV with its ``header``), or a Parquet writer opened with
    the first block; each writer says how its rows look."""

    def __init__(self, path: Path, header: list[str], ids_are_rows: bool = True) -> None:
        self.path, self.kind = path, path.suffix.lower()
        self.handle = self.csv = self.parquet = None
        self.header, self.ids_are_rows = header, ids_are_rows
        self.text_columns: set[str] = set()  # Parquet columns of strings (the others: numbers)
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

        try:
            table = pa.table(columns)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(str(self.path), table.schema)
            self.parquet.write_table(table)  # a block of another type than the first: ValueError
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
            raise _parquet_error("id", exc) from None

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.kind == ".parquet" and self.parquet is None:
            self._empty_parquet()
        if self.parquet is not None:
            self.parquet.close()

    def _empty_parquet(self) -> None:
        """No rows (an empty ``--shard`` part): a valid Parquet file of the columns, not 0 bytes. Row
        numbers are integers; ids from ``--id-column`` are taken as strings, labels strings, scores and
        values doubles."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        def kind(name: str):  # noqa: ANN202 - a pyarrow type
            if name == "id":
                return pa.int64() if self.ids_are_rows else pa.string()
            return pa.string() if name in self.text_columns else pa.float64()

        schema = pa.schema([(name, kind(name)) for name in self.header])
        self.parquet = pq.ParquetWriter(str(self.path), schema)


class PredictionWriter(_RowFile):
    """Rows to CSV, JSONL or Parquet in a temporary file beside ``out``, renamed at the end."""

    def __init__(self, path: Path, top_k: int, ids_are_rows: bool = True) -> None:
        extra = [f"{name}_{i}" for i in range(1, top_k + 1) for name in ("label", "score")]
        super().__init__(path, ["id", "label", "score", *(extra if top_k > 1 else [])], ids_are_rows)
        self.top_k = top_k
        self.text_columns = {name for name in self.header if name.startswith("label")}

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

    def __init__(self, path: Path, names: list[str], ids_are_rows: bool = True) -> None:
        super().__init__(path, ["id", *names], ids_are_rows)
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
