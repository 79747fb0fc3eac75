"""`stitch predict --encoder --dataset`: throughput against `stitch embed` of the same data, peak RSS
against N, and what the anchor-embedding cache saves on a small test file.

* throughput: a MiniLM-L6 head (768 anchors, the quickstart's data) predicts 2,000 Rotten Tomatoes
  test snippets through MiniLM-L3, in-process (``run_predict_on_data``), against ``run_embed`` of the
  same file with the same anchors (what a user would otherwise run before ``predict --embeddings``).
  Both read the anchors' embeddings from the cache (a warm-up run fills it), both include the model
  load and the file writes; rounds alternate (A B A B ...). Goal: predict within 5% of embed.
* memory: peak RSS of a whole ``stitch predict --encoder`` (fresh process, tiny BERT, 256 anchors,
  unlabelled Parquet) at 100k, 300k and 1M texts, against the floor of importing torch and loading
  the model. Goal: flat in N.
* anchor cache: ``stitch embed --anchors`` of a 240-row test file after its 640-row train file,
  with the cache and without (``STITCH_NO_ANCHOR_CACHE=1``), MiniLM-L6: the train file's anchors
  are among its rows, the test file's must be embedded unless cached.

Needs the quickstart's assets (``./recipes/quickstart.sh`` prepares them in ``.assets/``).
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_scale import measure, texts_parquet, tiny_bert

from _common import ROOT, alternate, argument_parser, best, met, report, stitch_executable

ASSETS = ROOT / ".assets"


def _stitch(*args) -> None:
    import subprocess

    subprocess.run([str(stitch_executable()), *map(str, args)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def _rows(path: Path, n: int, out: Path) -> Path:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:n]
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def _check_assets() -> None:
    for name in ("minilm-l6", "minilm-l3", "rotten_tomatoes/train.csv", "rotten_tomatoes/test.csv"):
        if not (ASSETS / name).exists():
            sys.exit(f"missing .assets/{name}: run ./recipes/quickstart.sh first")


def throughput(work: Path, n: int, rounds: int) -> list[tuple]:
    from stitchcli.data import ReadOptions
    from stitchcli.embed.job import EmbedRequest, run_embed
    from stitchcli.encoders import EncoderOptions
    from stitchcli.heads import load_head
    from stitchcli.jobs import PredictDataRequest, run_predict_on_data

    _check_assets()
    train = ASSETS / "rotten_tomatoes/train.csv"
    data = _rows(ASSETS / "rotten_tomatoes/test.csv", n, work / "data.csv")
    anchors, head = work / "anchors.safetensors", work / "head.safetensors"
    _stitch("anchors", "-q", "--dataset", train, "--num", 768, "--out", anchors)
    _stitch("embed", "-q", "--encoder", f"hf:{ASSETS / 'minilm-l6'}", "--dataset", train,
            "--anchors", anchors, "--out", work / "l6-train.safetensors")
    _stitch("train-head", "-q", "--embeddings", work / "l6-train.safetensors", "--out", head)
    loaded = load_head(head)
    encoder = f"hf:{ASSETS / 'minilm-l3'}"
    options = EncoderOptions(device="cpu")

    def embed() -> None:
        run_embed(EmbedRequest(encoder, str(data), work / "emb.safetensors", ReadOptions(), options,
                               anchors=anchors, force=True, resume=False))

    def predict() -> None:
        out = work / "pred.csv"
        out.unlink(missing_ok=True)
        run_predict_on_data(PredictDataRequest(loaded, encoder, str(data), out, ReadOptions(), options))

    times = alternate({"stitch embed --anchors": embed, "stitch predict --encoder": predict}, rounds,
                      warmup=True)
    base = best(times["stitch embed --anchors"])
    rows = []
    for side, values in times.items():
        ratio = base / best(values)
        rows.append((side, f"{n:,}", f"{best(values):.1f} s", f"{n / best(values):.1f}/s", f"{ratio:.3f}×",
                     "—" if side.startswith("stitch embed") else f"≥ 0.95× ({met(ratio >= 0.95)})"))
    return rows


def memory(work: Path, sizes: list[int]) -> list[tuple]:
    model = tiny_bert(work / "tiny-bert")
    stitch = str(stitch_executable())
    train = texts_parquet(work / "texts-20000.parquet", 20_000)
    anchors, emb = work / "anchors-256.safetensors", work / "train.safetensors"
    head = work / "head.safetensors"
    _stitch("anchors", "-q", "--dataset", train, "--num", 256, "--out", anchors)
    _stitch("embed", "-q", "--encoder", f"hf:{model}", "--dataset", train, "--anchors", anchors,
            "--batch-size", 256, "--out", emb)
    _stitch("train-head", "-q", "--embeddings", emb, "--out", head)
    load = f"import torch, transformers; transformers.AutoModel.from_pretrained('{model}')"
    floor = measure([sys.executable, "-c", load])
    rows = [("bare: import + load model", "—", "—", f"{floor['peak_mib']:.0f}", "—")]
    first = None
    for n in sizes:
        data = texts_parquet(work / f"texts-{n}.parquet", n)
        out = work / f"pred-{n}.csv"
        result = measure([stitch, "predict", "-q", "--head", head, "--encoder", f"hf:{model}",
                          "--dataset", data, "--label-column", "none", "--batch-size", 256, "--out", out])
        first = first or result["peak_mib"]
        rows.append(("stitch predict --encoder", f"{n:,}", f"{n / result['seconds']:.0f}/s",
                     f"{result['peak_mib']:.0f}", f"{result['peak_mib'] / first:.2f}×"))
        out.unlink(missing_ok=True)
    return rows


def anchor_cache(work: Path, rounds: int) -> list[tuple]:
    _check_assets()
    train = _rows(ASSETS / "rotten_tomatoes/train.csv", 640, work / "train-640.csv")
    test = _rows(ASSETS / "rotten_tomatoes/test.csv", 240, work / "test-240.csv")
    anchors = work / "anchors-cache.safetensors"
    _stitch("anchors", "-q", "--dataset", train, "--num", 300, "--out", anchors)
    stitch = str(stitch_executable())
    base = [stitch, "embed", "-q", "--force", "--no-resume", "--encoder", f"hf:{ASSETS / 'minilm-l6'}",
            "--anchors", anchors]
    rows, seconds = [], {}
    sides = (("without the cache (test: 240 rows + 300 anchors embedded)", {"STITCH_NO_ANCHOR_CACHE": "1"}),
             ("with the cache (test: 240 rows embedded)", {}))
    for label, env in sides:
        cache = Path(tempfile.mkdtemp(prefix="stitch-cache-"))
        env = {**env, "STITCH_CACHE_DIR": str(cache)}
        train_s, test_s = [], []
        for _ in range(rounds):
            shutil.rmtree(cache / "anchor-embeddings", ignore_errors=True)
            started = time.perf_counter()
            measure([*base, "--dataset", train, "--out", work / "c-train.safetensors"], env)
            train_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            measure([*base, "--dataset", test, "--out", work / "c-test.safetensors"], env)
            test_s.append(time.perf_counter() - started)
        seconds[label] = best(test_s)
        rows.append((label, f"{best(train_s):.1f} s", f"{best(test_s):.1f} s",
                     f"{best(test_s) / best(train_s):.2f}"))
        shutil.rmtree(cache, ignore_errors=True)
    without, cached = seconds.values()
    rows.append(("saved on the test file", "—", f"{without - cached:.1f} s",
                 f"{cached / without:.2f}× the time"))
    return rows


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--quick", action="store_true", help="500 texts, 10k/30k rows, one round")
    parser.add_argument("--only", choices=("throughput", "memory", "cache"), action="append")
    parser.add_argument("--dir", type=Path, default=ROOT / "runs" / "bench-predict")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("STITCH_CACHE_DIR", tempfile.mkdtemp(prefix="stitch-bench-cache-"))
    args.dir.mkdir(parents=True, exist_ok=True)
    parts = args.only or ["throughput", "memory", "cache"]
    results = {}
    if "throughput" in parts:
        n, rounds = (500, 2) if args.quick else (2000, 3)
        rows = throughput(args.dir, n, rounds)
        results["throughput"] = rows
        report("predict --encoder vs embed --anchors (MiniLM-L6 head through MiniLM-L3, best of rounds)",
               rows, ("side", "texts", "time", "rate", "vs embed", "goal"), {}, None)
    if "memory" in parts:
        sizes = [10_000, 30_000] if args.quick else [100_000, 300_000, 1_000_000]
        rows = memory(args.dir, sizes)
        results["memory"] = rows
        report("stitch predict --encoder: peak RSS vs N (tiny BERT, 256 anchors, unlabelled Parquet)", rows,
               ("run", "texts", "rate", "peak RSS MiB", "vs smallest"), {}, None)
    if "cache" in parts:
        rows = anchor_cache(args.dir, 1 if args.quick else 2)
        results["cache"] = rows
        report("anchor cache: embed a 240-row test file after its 640-row train file (300 anchors, "
               "MiniLM-L6)", rows, ("run", "train file", "test file", "test / train"), {}, None)
    if args.json_out:
        report("bench_predict", [], ("",), results, args.json_out)
    shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
