"""Cache I/O: write and read a 1M × 768 embeddings file vs the raw disk speed of copying it.

Sides, alternating: ``store.save`` + fsync; a raw ``write`` of the same bytes + fsync;
``shutil.copyfile`` + fsync of the file (the disk reference); ``store.save`` without fsync (page
cache speed); ``store.load`` + touching every value (loading is a lazy memory map, so the sum is
what actually reads); a raw ``readinto`` of the file. Nothing is dropped from the page cache, so
reads come from memory; the fsync'd writes measure the disk.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import torch

from stitchcli.storage import store

from _common import ROOT, alternate, argument_parser, best, median, report


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main() -> None:
    parser = argument_parser(__doc__)
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
        size = path.stat().st_size
        size_mb = size / 2**20
        buffer = bytearray(size)

        def write():
            store.save(path, "embeddings", tensors, {"encoder": "bench"})
            fsync(path)

        def write_cached():
            store.save(path, "embeddings", tensors, {"encoder": "bench"})

        raw_target = work / "raw.bin"
        payload = [memoryview(t.numpy()).cast("B") for t in tensors.values()]

        def raw_write():
            with raw_target.open("wb", buffering=0) as handle:
                for view in payload:
                    while view:
                        view = view[handle.write(view):]
                os.fsync(handle.fileno())

        def read():
            file = store.load(path, kind="embeddings")
            float(file.tensors["embeddings"].sum())  # touch every page: loading is a lazy mmap

        def raw_read():
            with path.open("rb", buffering=0) as handle:
                view = memoryview(buffer)
                while view:
                    got = handle.readinto(view)
                    if not got:
                        break
                    view = view[got:]

        def raw_copy():
            shutil.copyfile(path, copy)
            fsync(copy)

        times = alternate({"store.save + fsync": write, "raw write (write + fsync)": raw_write,
                           "shutil.copyfile + fsync": raw_copy, "store.save (no fsync)": write_cached,
                           "store.load + sum": read, "raw read (readinto)": raw_read},
                          rounds=args.rounds, warmup=True)
        reference = size_mb / best(times["shutil.copyfile + fsync"])
        rows = []
        for name, samples in times.items():
            speed = size_mb / best(samples)
            rows.append((name, f"{best(samples):.2f} s", f"{median(samples):.2f} s", f"{speed:,.0f} MiB/s",
                         f"{speed / reference:.2f}×"))
        report(
            f"Cache I/O, {n:,} × 768 float32 ({size_mb:,.0f} MiB), best of {args.rounds} alternating; "
            "page cache warm",
            rows,
            ("operation", "best", "median", "speed", "vs copyfile"),
            {"n": n, "bytes": size, "times": times},
            args.json_out,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
