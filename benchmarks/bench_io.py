"""Cache I/O: write and read a 1M × 768 embeddings file vs the raw disk speed of copying it."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import torch

from stitchcli import store

from _common import ROOT, alternate, best, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=ROOT / "runs", help="where the files go (same disk)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-io-", dir=args.dir))
    try:
        tensors = {
            "embeddings": torch.randn(n, 768),
            "labels": torch.zeros(n, dtype=torch.int64),
            "indices": torch.arange(n),
        }
        path, copy = work / "emb.safetensors", work / "copy.safetensors"
        store.save(path, "embeddings", tensors, {"encoder": "bench"})
        size_mb = path.stat().st_size / 2**20

        def write():
            store.save(path, "embeddings", tensors, {"encoder": "bench"})
            os.sync()

        def read():
            file = store.load(path, kind="embeddings")
            float(file.tensors["embeddings"].sum())  # touch every page: loading may be lazy (mmap)

        def raw_copy():
            shutil.copyfile(path, copy)
            os.sync()

        times = alternate({"write": write, "read": read, "copy": raw_copy}, rounds=args.rounds)
        speeds = {k: size_mb / best(v) for k, v in times.items()}
        rows = [
            (k, f"{best(v):.2f} s", f"{speeds[k]:,.0f} MiB/s", f"{speeds[k] / speeds['copy']:.2f}× copy")
            for k, v in times.items()
        ]
        report(
            f"Cache I/O, {n:,} × 768 float32 ({size_mb:,.0f} MiB), page cache warm",
            rows,
            ("operation", "best", "speed", "vs raw copy"),
            {"n": n, "times": times},
            args.json_out,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
