"""Text datasets from CSV, TSV and JSONL files with a text column and a label column."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from stitchcli.data.registry import (
    Dataset,
    DatasetSource,
    ReadOptions,
    default_split,
    encode_labels,
    reads_labels,
    refuse_repeated_columns,
    register_source,
    unlabelled,
)
from stitchcli.errors import StitchError
from stitchcli.storage.store import fingerprint

SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".ndjson": None}


def _read_text(path: Path) -> tuple[str, bytes]:
    if not path.is_file():
        raise StitchError(f"dataset not found: {path}")
    raw = path.read_bytes()
    if not raw.strip():
        raise StitchError(f"dataset {path} is empty")
    try:
        return raw.decode("utf-8-sig"), raw
    except UnicodeDecodeError as exc:
        raise StitchError(
            f"dataset {path} is not UTF-8 text (byte {exc.start})",
            hint="convert it, e.g. iconv -f latin1 -t utf-8",
        ) from None


def _rows_from_delimited(text: str, delimiter: str, path: Path) -> list[dict]:
    # strict: an unterminated quote is an error at its line, not the rest of the file read as one field
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        kind = path.suffix[1:].upper()
        raise StitchError(f"dataset {path} is not valid {kind}: {exc} in the record after line "
                          f"{reader.line_num}",
                          hint="check the quoting there: a field that opens a quote must close it.") from None
    if not reader.fieldnames:
        raise StitchError(f"dataset {path} has no header row")
    refuse_repeated_columns(reader.fieldnames, f"dataset {path}")
    if not rows:
        raise StitchError(f"dataset {path} has a header but no rows")
    for number, row in enumerate(rows):
        if None in row:  # DictReader's key for fields past the header's: they would be dropped
            raise StitchError(f"dataset {path} row {number} has {len(reader.fieldnames) + len(row[None])} "
                              f"fields but the header names {len(reader.fieldnames)}",
                              hint="quote fields that hold the delimiter, or name every column in the "
                              "header.")
    return rows


def _rows_from_jsonl(text: str, path: Path) -> list[dict]:
    rows = []
    # "\n" only: str.splitlines would also split at U+2028, U+0085, form feeds... inside strings
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, object_pairs_hook=_object(path, number))
        except json.JSONDecodeError as exc:
            raise StitchError(f"dataset {path} line {number} is not valid JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise StitchError(f"dataset {path} line {number} is not a JSON object")
        rows.append(row)
    if not rows:
        raise StitchError(f"dataset {path} has no rows")
    return rows


def _object(path: Path, number: int):
    """A JSON object hook that refuses a key given twice (json.loads would keep the last silently)."""
    def build(pairs: list[tuple[str, object]]) -> dict:
        refuse_repeated_columns([key for key, _ in pairs], f"dataset {path} line {number}")
        return dict(pairs)
    return build


def _texts(values: list, path: Path, name: str) -> list[str]:
    """A text column's values, which must be strings (a JSON list, object, number or boolean would be
    embedded as its Python repr)."""
    for number, value in enumerate(values):
        if not isinstance(value, str):
            kind = {bool: "a boolean", list: "a list", dict: "an object"}.get(type(value), "a number")
            raise StitchError(f"dataset {path} row {number}: column {name!r} holds {kind}, not a text",
                              hint="text values must be JSON strings.")
    return values


def _column(rows: list[dict], name: str, kind: str, path: Path, flag: str) -> list:
    available = list(rows[0].keys())
    if name not in available:
        hint = f"choose one with {flag}."
        other = {".csv": ("\t", "tab", ".tsv"), ".tsv": (",", "comma", ".csv")}.get(path.suffix.lower())
        if other and any(other[0] in str(column) for column in available):
            hint = (f"its header holds {other[1]}s: it looks {other[1]}-separated; name the file "
                    f"{path.stem}{other[2]}.")
        raise StitchError(
            f"dataset {path} has no {kind} column '{name}' (columns: {', '.join(map(str, available))})",
            hint=hint,
        )
    values = []
    for number, row in enumerate(rows):
        if row.get(name) is None:
            raise StitchError(f"dataset {path} row {number} has no value in column '{name}'")
        values.append(row[name])
    return values


def load_tabular(source: str, options: ReadOptions) -> Dataset:
    path = Path(source)
    text, raw = _read_text(path)
    suffix = path.suffix.lower()
    delimiter = SUFFIXES[suffix]
    rows = _rows_from_jsonl(text, path) if delimiter is None else _rows_from_delimited(
        text, delimiter, path
    )
    texts = _texts(_column(rows, options.text_column, "text", path, "--text-column"), path,
                   options.text_column)
    if reads_labels(options, list(rows[0].keys()), f"dataset {path}"):
        raw_labels = _column(rows, options.label_column, "label", path, "--label-column")
        labels, names = encode_labels(raw_labels, f"dataset {path}")
    else:
        labels, names = unlabelled(len(texts))
    return Dataset(
        source=str(path),
        split=options.split or default_split(source),
        modality="text",
        labels=labels,
        label_names=names,
        fingerprint=fingerprint(raw),
        get_sample=texts.__getitem__,
        get_column=lambda name, flag: _column(rows, name, flag.strip("-").removesuffix("-column"), path,
                                              flag),
    )


register_source(
    DatasetSource(
        name="table",
        description=".csv, .tsv or .jsonl with a text column and, if labelled, a label column",
        matches=lambda s: not s.startswith("hf:") and Path(s).suffix.lower() in SUFFIXES,
        load=load_tabular,
    )
)
