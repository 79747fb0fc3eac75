"""Evaluate at scale: 10 heads × 10 embedding files of N samples × 1,000 anchors, and growth with N."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch

from stitchcli import store
from stitchcli.heads import Head, save_head
from stitchcli.training import TrainRequest, train_head

from _common import ROOT, report

K, CLASSES = 1000, 10


def write_file(path: Path, n: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    store.save(
        path,
        "embeddings",
        {
            "embeddings": torch.randn(n, 8, generator=generator),
            "labels": torch.randint(0, CLASSES, (n,), generator=generator),
            "indices": torch.arange(n),
            "relative": torch.rand(n, K, generator=generator) * 2 - 1,
        },
        {
            "encoder": f"bench:{seed}",
            "dataset": "bench",
            "dataset_fingerprint": "bench",
            "label_names": [str(i) for i in range(CLASSES)],
            "num_samples": str(n),
            "dim": "8",
            "anchors_fingerprint": "bench",
            "similarity": "cosine",
            "center": "false",
            "num_anchors": str(K),
        },
    )


def make_heads(work: Path, count: int, arch: str) -> list[Path]:
    train = work / "train.safetensors"
    write_file(train, 2000, seed=999)
    paths = []
    for i in range(count):
        head: Head = train_head(TrainRequest(train, arch=arch, epochs=1, seed=i, quiet=True))
        head.path = work / f"head{i}.safetensors"
        save_head(head.path, head)
        paths.append(head.path)
    return paths


def evaluate_cli(heads: list[Path], files: list[Path]) -> float:
    from typer.testing import CliRunner

    from stitchcli.cli import app

    args = ["evaluate", "--json"]
    for head in heads:
        args += ["--head", str(head)]
    for file in files:
        args += ["--embeddings", str(file)]
    start = time.perf_counter()
    result = CliRunner().invoke(app, args)
    seconds = time.perf_counter() - start
    assert result.exit_code == 0, result.stderr
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N up to 1e5 with fewer files")
    parser.add_argument("--arch", default="mlp")
    parser.add_argument("--dir", type=Path, default=ROOT / "runs")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-eval-", dir=args.dir))
    # 10 files of 1e6 × 1000 would be 40 GB on disk: the 1e6 point uses 2 files, said in the table.
    series = [(10_000, 10), (100_000, 10 if not args.quick else 2)] + ([] if args.quick else [(1_000_000, 2)])
    try:
        heads = make_heads(work, 10, args.arch)
        rows, data = [], {}
        for n, count in series:
            files = []
            for i in range(count):
                files.append(work / f"n{n}-{i}.safetensors")
                write_file(files[-1], n, seed=i)
            seconds = evaluate_cli(heads, files)
            per_pair = seconds / (len(heads) * count)
            data[str(n)] = {"files": count, "seconds": seconds}
            target = "< 10 s " + ("met" if seconds < 10 else "MISSED") if (n, count) == (100_000, 10) else ""
            rows.append(
                (
                    f"{n:,}",
                    f"10 × {count}",
                    f"{seconds:.2f} s",
                    f"{per_pair * 1000:.0f} ms",
                    f"{n * len(heads) * count / seconds:,.0f}",
                    target,
                )
            )
            for file in files:
                file.unlink()
        report(
            f"stitch evaluate, {args.arch} heads on {K}-anchor relative vectors",
            rows,
            ("N", "heads × files", "total", "per pair", "samples/s", "target"),
            data,
            args.json_out,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
