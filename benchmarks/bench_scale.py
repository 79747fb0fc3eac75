"""Corpus scale: is memory flat in N, and do DataLoader workers pay off?

* embed: peak RSS of a whole ``stitch embed`` (fresh process, tiny BERT, with 256 anchors so that
  the N × K relative vectors are written too) on 200k and 2M short texts read from Parquet; the
  larger run should stay within 1.2× of the smaller. Beside it the floor: a bare process that only
  imports torch + transformers and loads the model. ``--before COMMIT`` also runs an older
  stitchcli (a git worktree) on the same inputs.
* sharded: ``stitch train-head`` (prototype; mlp, 1 epoch) and ``stitch evaluate`` on a 1M-row input
  in 8 shards (64-d embeddings, 512 relative values per row): peak RSS against the size of one
  shard and of the whole, and against the floor (a process that imports torch).
* workers: ``stitch embed`` of JPEG images with a small timm model, ``--num-workers 2`` vs 0,
  alternating runs; images/s and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, report, stitch_executable

WORDS = (
    "good bad great awful film movie plot actor scene story funny boring slow fast long short "
    "music score ending start dull bright dark light warm cold"
).split()
MEASURE = (
    "import json, resource, subprocess, sys, time; t = time.perf_counter(); "
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(json.dumps({'rc': r.returncode, 'seconds': time.perf_counter() - t, 'err': r.stderr[-2000:], "
    "'peak_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"
)


def measure(argv: list, env: dict | None = None) -> dict:
    """Wall time and peak RSS (MiB) of one command run in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *map(str, argv)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{argv} failed: {result['err']}")
    return result


def tiny_bert(directory: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    if (directory / "config.json").exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    # from_pretrained reads vocab.txt; transformers 5 ignores a vocab_file argument (every word [UNK])
    tokenizer = BertTokenizerFast.from_pretrained(str(directory), do_lower_case=True)
    import torch

    torch.manual_seed(0)
    BertModel(
        BertConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    ).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def texts_parquet(path: Path, n: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return path
    rng = random.Random(n)
    with pq.ParquetWriter(path, pa.schema([("text", pa.string()), ("label", pa.int64())])) as writer:
        for start in range(0, n, 100_000):
            size = min(100_000, n - start)
            texts = [" ".join(rng.choices(WORDS, k=rng.randint(3, 12))) for _ in range(size)]
            writer.write_table(pa.table({"text": texts, "label": [(start + i) % 10 for i in range(size)]}))
    return path


def embed_rss(work: Path, sizes: list[int], before: str | None) -> list[tuple]:
    model = tiny_bert(work / "tiny-bert")
    stitch = str(stitch_executable())
    rows = []
    floor = measure(
        [
            sys.executable,
            "-c",
            f"import torch, transformers; transformers.AutoModel.from_pretrained('{model}')",
        ]
    )
    rows.append(("bare: import + load model", "—", "—", f"{floor['peak_mib']:.0f}", "—"))
    sides = [("stitch embed (this commit)", [stitch], {})]
    if before:
        tree = work / "before"
        if not tree.exists():
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(tree), before],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        # Not `python -m stitchcli`: that puts the current folder (this checkout) first on sys.path.
        launcher = f"import sys; sys.path.insert(0, {str(tree)!r}); from stitchcli.cli import main; main()"
        where = subprocess.run(
            [
                sys.executable,
                "-c",
                launcher.replace(
                    "from stitchcli.cli import main; main()", "import stitchcli; print(stitchcli.__file__)"
                ),
            ],
            capture_output=True,
            text=True,
        )
        if not where.stdout.startswith(str(tree)):
            raise RuntimeError(f"the older checkout is not what runs: {where.stdout or where.stderr}")
        sides.append((f"stitch embed ({before})", [sys.executable, "-c", launcher], {}))
    for label, command, env in sides:
        peaks = {}
        for n in sizes:
            data = texts_parquet(work / f"texts-{n}.parquet", n)
            anchors = work / f"anchors-{n}.safetensors"
            subprocess.run(
                [stitch, "anchors", "-q", "--dataset", data, "--num", "256", "--out", anchors], check=True
            )
            out = work / f"emb-{n}.safetensors"
            result = measure(
                [
                    *command,
                    "embed",
                    "-q",
                    "--force",
                    "--encoder",
                    f"hf:{model}",
                    "--dataset",
                    data,
                    "--anchors",
                    anchors,
                    "--batch-size",
                    "256",
                    "--out",
                    out,
                ],
                env,
            )
            peaks[n] = result["peak_mib"]
            rows.append(
                (
                    label,
                    f"{n:,}",
                    f"{n / result['seconds']:.0f}/s",
                    f"{result['peak_mib']:.0f}",
                    f"{result['peak_mib'] / peaks[sizes[0]]:.2f}×",
                )
            )
            out.unlink(missing_ok=True)
    return rows


def sharded_input(work: Path, n: int, shards: int, dim: int, k: int) -> Path:
    import torch

    from stitchcli.relspace import relative_projection
    from stitchcli.storage.rows import RowWriter
    from stitchcli.storage.shards.index import write_index
    from stitchcli.storage.shards.plan import Shard

    out = work / "sharded" / "emb.safetensors"
    index = Path(f"{out}.index.json")
    if index.exists():
        return index
    out.parent.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(10, dim, generator=generator)
    anchors = centres[torch.arange(k) % 10] + torch.randn(k, dim, generator=generator)
    meta = {
        "encoder": "synthetic",
        "dataset": "synthetic",
        "dataset_fingerprint": "synthetic",
        "split": "train",
        "label_names": [str(c) for c in range(10)],
        "dim": str(dim),
        "anchors_fingerprint": "synthetic",
        "similarity": "cosine",
        "center": "true",
        "num_anchors": str(k),
        "shard_run": "synthetic",
    }
    for s in range(shards):
        rows = Shard(s, shards).rows(n)
        size = len(rows)
        columns = {
            "embeddings": (torch.float32, (size, dim)),
            "labels": (torch.int64, (size,)),
            "indices": (torch.int64, (size,)),
            "relative": (torch.float32, (size, k)),
            "anchor_embeddings": (torch.float32, (k, dim)),
        }
        info = meta | {
            "shard": f"{s}/{shards}",
            "shard_rows": json.dumps([rows.start, rows.stop]),
            "output_key": f"synthetic-{s}",
            "num_samples": str(size),
        }
        with RowWriter(Shard(s, shards).path(out), "embeddings", columns, info) as writer:
            for start in range(0, size, 65_536):
                count = min(65_536, size - start)
                labels = torch.randint(0, 10, (count,), generator=generator)
                x = centres[labels] + 1.5 * torch.randn(count, dim, generator=generator)
                writer.write("embeddings", start, x)
                writer.write("labels", start, labels)
                writer.write("indices", start, torch.arange(rows.start + start, rows.start + start + count))
                writer.write("relative", start, relative_projection(x, anchors, "cosine", True))
            writer.write("anchor_embeddings", 0, anchors)
    return write_index(out)


def sharded_rss(work: Path, sizes: list[int], shards: int) -> list[tuple]:
    """Peak RSS of train-head and evaluate on sharded inputs of each size: flat in N if bounded."""
    stitch = str(stitch_executable())
    imports = "import torch, typer, rich, stitchcli.cli, stitchcli.storage.rows"
    floor = measure([sys.executable, "-c", imports])["peak_mib"]
    rows = [("bare: import torch + the CLI", "—", "—", f"{floor:.0f}", "—", "—")]
    for n in sizes:
        index = sharded_input(work / f"n{n}", n, shards, 64, 512)
        files = sorted(index.parent.glob("emb-*-of-*.safetensors"))
        shard_mib = max(f.stat().st_size for f in files) / 2**20
        whole_mib = sum(f.stat().st_size for f in files) / 2**20
        head = work / f"proto-{n}.safetensors"
        commands = {
            "train-head (prototype)": ["train-head", "-q", "--embeddings", index, "--out", head],
            "train-head (mlp, 1 epoch)": [
                "train-head",
                "-q",
                "--arch",
                "mlp",
                "--epochs",
                "1",
                "--embeddings",
                index,
                "--out",
                work / f"mlp-{n}.safetensors",
            ],
            "evaluate (prototype head)": ["evaluate", "--json", "--head", head, "--embeddings", index],
        }
        for label, argv in commands.items():
            result = measure([stitch, *argv])
            above = result["peak_mib"] - floor
            rows.append(
                (
                    label,
                    f"{n:,} rows (shard {shard_mib:.0f} MiB, whole {whole_mib:.0f} MiB)",
                    f"{result['seconds']:.1f} s",
                    f"{result['peak_mib']:.0f}",
                    f"{above:.0f}",
                    f"{above / shard_mib:.2f}× a shard",
                )
            )
    return rows


def jpeg_folder(path: Path, n: int) -> Path:
    import numpy as np
    from PIL import Image

    if path.exists():
        return path
    rng = np.random.default_rng(0)
    for i in range(n):
        folder = path / f"class{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        base = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((800, 800), Image.BICUBIC)
        image.save(folder / f"{i:05d}.jpg", quality=92)
    return path


def workers(work: Path, n: int, rounds: int) -> list[tuple]:
    """--num-workers vs 0: with torch on both cores (workers compete with the model for them), and
    with the model on one thread (OMP_NUM_THREADS=1), which leaves a core free as a GPU would."""
    import timm
    import torch
    from safetensors.torch import save_file

    from stitchcli.storage import store

    folder = jpeg_folder(work / "jpegs", n)
    weights = work / "test_resnet.safetensors"
    torch.manual_seed(0)
    save_file(timm.create_model("test_resnet", pretrained=False).state_dict(), str(weights))
    stitch = str(stitch_executable())
    rows = []
    for setting, env, counts in (
        ("torch on 2 threads", {}, (0, 2)),
        ("model on 1 thread (OMP_NUM_THREADS=1)", {"OMP_NUM_THREADS": "1"}, (0, 1)),
    ):
        times: dict[int, list[float]] = {count: [] for count in counts}
        for _ in range(rounds):
            for count in counts:
                out = work / f"img-{count}.safetensors"
                argv = [
                    stitch,
                    "embed",
                    "-q",
                    "--force",
                    "--encoder",
                    "timm:test_resnet",
                    "--weights",
                    weights,
                    "--dataset",
                    folder,
                    "--num-workers",
                    count,
                    "--out",
                    out,
                ]
                times[count].append(measure(argv, env)["seconds"])
        outputs = [store.load(work / f"img-{count}.safetensors").tensors["embeddings"] for count in counts]
        same = torch.equal(outputs[0], outputs[1])
        best = {count: min(t) for count, t in times.items()}
        rows += [
            (
                setting,
                f"--num-workers {count}",
                f"{n / best[count]:.1f} images/s",
                f"{best[count]:.1f} s (best of {rounds})",
                f"{best[counts[0]] / best[count]:.2f}×",
                "identical" if same else "DIFFERENT",
            )
            for count in counts
        ]
    return rows


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--only", choices=("embed", "sharded", "workers"), action="append")
    parser.add_argument("--quick", action="store_true", help="20k/200k texts, 100k rows, 200 images")
    parser.add_argument("--before", help="also run this older commit's stitch embed (git worktree)")
    parser.add_argument("--dir", type=Path, default=ROOT / "runs" / "bench-scale")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs in --dir")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    only = args.only or ["embed", "sharded", "workers"]
    quick = args.quick
    texts = [20_000, 200_000] if quick else [200_000, 2_000_000]
    rows = [10_000, 100_000] if quick else [100_000, 1_000_000]
    sections = {  # name: (run, title, header)
        "embed": (lambda: embed_rss(args.dir, texts, args.before),
                  "stitch embed: peak RSS vs N (tiny BERT, 256 anchors, Parquet)",
                  ("run", "texts", "rate", "peak RSS MiB", "vs smallest")),
        "sharded": (lambda: sharded_rss(args.dir, rows, 8),
                    "train-head / evaluate on a sharded input (8 shards)",
                    ("command", "input", "time", "peak RSS MiB", "above floor MiB", "vs one shard")),
        "workers": (lambda: workers(args.dir, 200 if quick else 1000, 2),
                    "stitch embed on JPEGs: DataLoader workers",
                    ("setting", "workers", "rate", "time", "speed-up", "output")),
    }
    data = {}
    try:
        for name in only:
            run, title, header = sections[name]
            data[name] = run()
            report(title, data[name], header, {"rows": data[name]}, None)
    finally:
        if args.json_out:
            from _common import machine

            args.json_out.write_text(json.dumps({"machine": machine(), **data}, indent=2))
        if not args.keep:
            if (args.dir / "before").exists():
                subprocess.run(["git", "worktree", "remove", "--force", str(args.dir / "before")], cwd=ROOT)
            shutil.rmtree(args.dir, ignore_errors=True)
    print(time.strftime("done %H:%M"))


if __name__ == "__main__":
    main()
