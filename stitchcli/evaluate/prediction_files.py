"""Prediction files: which formats ``stitch predict`` writes (CSV, JSONL, Parquet) and the writer that
adds rows a block at a time. Importing it costs no torch: the output is checked before any work."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from stitchcli.errors import StitchError, UsageError
from stitchcli.storage import store

FORMATS = (".csv", ".jsonl", ".parquet")


def check_output(out: Path) -> Path:
    """Refuse, before any work, an output whose format is unknown or whose folder cannot be written."""
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise UsageError(f"cannot write predictions to {out.name}: unknown suffix {out.suffix or '(none)'}",
                         hint=f"give a file ending in {', '.join(FORMATS)}.")
    return store.check_writable(out)


class PredictionWriter:
    """Rows to CSV, JSONL or Parquet in a temporary file beside ``out``, renamed at the end."""

    def __init__(self, path: Path, top_k: int) -> None:
        self.path, self.top_k, self.kind = path, top_k, path.suffix.lower()
        self.handle = self.csv = self.parquet = None
        if self.kind == ".parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise StitchError("writing Parquet needs pyarrow",
                                  hint="pip install 'stitchcli[parquet]', or write .csv or .jsonl.") from None
        else:
            self.handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
            if self.kind == ".csv":
                self.csv = csv.writer(self.handle)
                extra = [f"{name}_{i}" for i in range(1, top_k + 1) for name in ("label", "score")]
                self.csv.writerow(["id", "label", "score", *(extra if top_k > 1 else [])])

    def write(self, ids: list, labels: list[list[str]], scores: list[list[float]]) -> None:
        if self.kind == ".jsonl":
            for i, names, values in zip(ids, labels, scores, strict=True):
                row = {"id": i, "label": names[0], "score": values[0]}
                if self.top_k > 1:
                    row["top_k"] = [{"label": n, "score": s} for n, s in zip(names, values, strict=True)]
                self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif self.kind == ".csv":
            for i, names, values in zip(ids, labels, scores, strict=True):
                pairs = zip(names, values, strict=True)
                extra = [x for pair in pairs for x in pair] if self.top_k > 1 else []
                self.csv.writerow([i, names[0], values[0], *extra])
        else:
            self._parquet(ids, labels, scores)

    def _parquet(self, ids: list, labels: list[list[str]], scores: list[list[float]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = {"id": ids, "label": [n[0] for n in labels], "score": [s[0] for s in scores]}
        if self.top_k > 1:
            for k in range(self.top_k):
                columns[f"label_{k + 1}"] = [n[k] for n in labels]
                columns[f"score_{k + 1}"] = [s[k] for s in scores]
        table = pa.table(columns)
        if self.parquet is None:
            self.parquet = pq.ParquetWriter(str(self.path), table.schema)
        self.parquet.write_table(table)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.parquet is not None:
            self.parquet.close()
