"""Evaluate at scale: 10 heads × 10 embedding files of N samples × 1,000 anchors, and growth with N.

The timed figure is the whole ``stitch evaluate --json`` subprocess (start-up, imports, head
loading included), one run per architecture, alternating (linear, mlp, linear, mlp, ...). A
breakdown in-process then splits the work into loading files, checking them, the head forwards
and the metrics. Files are freshly written, so they are read from a warm page cache.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from stitchcli.heads.head import Head, load_head, save_head
from stitchcli.heads.training import TrainRequest, train_head
from stitchcli.relspace import RelativeTransform
from stitchcli.storage import store

from _common import ROOT, alternate, argument_parser, best, met, report, stitch_executable

K, CLASSES, HEADS = 1000, 10, 10
TARGET_S = 10.0


def write_file(path: Path, n: int, seed: int) -> None:
    """An embeddings file with relative vectors, as `stitch embed --anchors` writes it."""
    generator = torch.Generator().manual_seed(seed)
    relative = torch.rand(n, K, generator=generator).mul_(2).sub_(1)  # in place: 1e6 × 1000 is 4 GB
    store.save(
        path,
        "embeddings",
        {
            "embeddings": torch.randn(n, 8, generator=generator),
            "labels": torch.randint(0, CLASSES, (n,), generator=generator),
            "indices": torch.arange(n),
            "relative": relative,
        },
        {
            "encoder": f"bench:{seed}",
            "pooling": "mean",
            "dataset": "bench",
            "split": "test",
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


def make_heads(work: Path, arch: str) -> list[Path]:
    train = work / "train.safetensors"
    if not train.exists():
        write_file(train, 2000, seed=999)
    paths = []
    for i in range(HEADS):
        head: Head = train_head(TrainRequest(train, space="relative", arch=arch, epochs=1, seed=i,
                                             transform=RelativeTransform()))
        head.path = work / f"{arch}-head{i}.safetensors"
        save_head(head.path, head)
        paths.append(head.path)
    return paths


def evaluate_cli(heads: list[Path], files: list[Path]):
    argv = [str(stitch_executable()), "evaluate", "--json"]
    for head in heads:
        argv += ["--head", str(head)]
    for file in files:
        argv += ["--embeddings", str(file)]
    return lambda: subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)


@torch.inference_mode()
def breakdown(heads: list[Path], files: list[Path]) -> dict[str, float]:
    """The steps of evaluate_matrix, timed separately (same calls, same order)."""
    from stitchcli.evaluate.evaluation import _check_pair, _result, predict_many
    from stitchcli.heads.inputs import FileInputs
    from stitchcli.relspace import RelativeTransform
    from stitchcli.storage.rows import open_rows

    steps = dict.fromkeys(("load heads", "open files", "read + check", "head forwards", "metrics"), 0.0)
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps[step] += now - clock
        clock = now

    loaded = [load_head(h) for h in heads]
    lap("load heads")
    for path in files:
        store.load_metadata_checked(path, kind="embeddings")
    for path in files:
        file = open_rows(path)
        for head in loaded:
            _check_pair(head, file)
        lap("open files")
        features = FileInputs(file, "relative", RelativeTransform()).all()  # reads and checks it
        lap("read + check")
        predictions = predict_many(loaded, features)
        lap("head forwards")
        for head, predicted in zip(loaded, predictions, strict=True):
            _result(head, file, predicted, "relative")
        lap("metrics")
        del file, features
    return steps


def predict_many_stacked(heads: list[Head], features: torch.Tensor) -> list[torch.Tensor]:
    """Prototype of a faster ``stitchcli.evaluation.predict_many`` (not in stitchcli yet).

    Heads that start with LayerNorm → Linear share the normalisation (as now) *and* one matmul:
    their first Linear layers (with the LayerNorm's affine part folded in) are stacked into one
    weight matrix, so the N × K inputs are read once per chunk instead of once per head. Linear
    heads end there; for MLP heads the rest (activation, batch norm, last Linear) runs per head
    on its slice of the stacked output. Other heads fall back to the current code.
    """
    from torch import nn

    from stitchcli.evaluate.evaluation import predict_many
    from stitchcli.relspace.normalize import CHUNK_ROWS  # the rows of each block predict_many reads

    stackable, rest = [], []
    for i, head in enumerate(heads):
        module = head.module
        if (isinstance(module, nn.Sequential) and len(module) >= 2 and isinstance(module[0], nn.LayerNorm)
                and isinstance(module[1], nn.Linear)
                and tuple(module[0].normalized_shape) == (features.shape[1],)):
            stackable.append(i)
        else:
            rest.append(i)
    out: list[torch.Tensor | None] = [None] * len(heads)
    for eps in {heads[i].module[0].eps for i in stackable}:
        group = [i for i in stackable if heads[i].module[0].eps == eps]
        weights, biases, widths = [], [], []
        for i in group:
            norm, linear = heads[i].module[0], heads[i].module[1]
            weight = linear.weight
            bias = linear.bias if linear.bias is not None else torch.zeros(weight.shape[0])
            if norm.weight is not None:  # fold the affine part: W(γx̂ + β) + b = (Wγ)x̂ + (Wβ + b)
                if norm.bias is not None:
                    bias = bias + weight @ norm.bias
                weight = weight * norm.weight
            weights.append(weight)
            biases.append(bias)
            widths.append(weight.shape[0])
        weight_t, bias = torch.cat(weights).T.contiguous(), torch.cat(biases)
        parts: dict[int, list[torch.Tensor]] = {i: [] for i in group}
        for start in range(0, len(features), CHUNK_ROWS):
            chunk = features[start : start + CHUNK_ROWS]
            normed = torch.nn.functional.layer_norm(chunk, (chunk.shape[1],), eps=eps)
            stacked = torch.addmm(bias, normed, weight_t)
            offset = 0
            for i, width in zip(group, widths, strict=True):
                block = stacked[:, offset : offset + width]
                offset += width
                tail = heads[i].module[2:]
                parts[i].append((tail(block) if len(tail) else block).argmax(dim=1))
        for i in group:
            out[i] = torch.cat(parts[i])
    if rest:
        for i, predicted in zip(rest, predict_many([heads[i] for i in rest], features), strict=True):
            out[i] = predicted
    return out


@torch.inference_mode()
def prototype(heads: list[Path], files: list[Path], rounds: int) -> dict:
    """Current predict_many vs the stacked prototype, same process, alternating, same files."""
    from stitchcli.evaluate.evaluation import predict_many
    from stitchcli.heads.inputs import FileInputs
    from stitchcli.relspace import RelativeTransform
    from stitchcli.storage.rows import open_rows

    def features_for(path):
        return FileInputs(open_rows(path), "relative", RelativeTransform()).all()

    loaded = [load_head(h) for h in heads]
    mismatches = 0
    for path in files[:1]:
        features = features_for(path)
        for a, b in zip(predict_many(loaded, features), predict_many_stacked(loaded, features), strict=True):
            mismatches += int((a != b).sum())

    def run(predict):
        def go():
            for path in files:
                predict(loaded, features_for(path))

        return go

    times = alternate({"current": run(predict_many), "stacked": run(predict_many_stacked)}, rounds=rounds)
    return {"current_s": best(times["current"]), "stacked_s": best(times["stacked"]), "times": times,
            "mismatched_predictions_first_file": mismatches}


def profile(heads: list[Path], files: list[Path]) -> str:
    from pyinstrument import Profiler

    from stitchcli.evaluate.evaluation import evaluate_matrix

    loaded = [load_head(h) for h in heads]
    profiler = Profiler(interval=0.005)
    profiler.start()
    evaluate_matrix(loaded, files, [None])
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def macro_f1_bincount(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """Prototype of ``stitchcli.metrics.macro_f1`` from one confusion matrix (one pass, no unique)."""
    if len(target) == 0:
        return 0.0
    n = int(torch.maximum(predicted.max(), target.max())) + 1
    confusion = torch.bincount(target * n + predicted, minlength=n * n).reshape(n, n).double()
    tp = confusion.diagonal()
    predicted_count, target_count = confusion.sum(0), confusion.sum(1)
    present = (predicted_count + target_count) > 0
    f1 = 2 * tp / (predicted_count + target_count).clamp(min=1)
    return float(f1[present].mean())


def metrics_prototype(rounds: int, n: int = 100_000) -> dict:
    from stitchcli.heads.metrics import macro_f1

    generator = torch.Generator().manual_seed(0)
    target = torch.randint(0, CLASSES, (n,), generator=generator)
    predicted = torch.where(torch.rand(n, generator=generator) < 0.7, target,
                            torch.randint(0, CLASSES, (n,), generator=generator))
    assert abs(macro_f1(predicted, target) - macro_f1_bincount(predicted, target)) < 1e-9
    times = alternate({"current": lambda: [macro_f1(predicted, target) for _ in range(HEADS)],
                       "bincount": lambda: [macro_f1_bincount(predicted, target) for _ in range(HEADS)]},
                      rounds=max(rounds, 3))
    return {"current_s": best(times["current"]), "bincount_s": best(times["bincount"]), "times": times}


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 1e4 (10 files) and 1e5 (2 files) only")
    parser.add_argument("--arch", nargs="+", default=["linear", "mlp"], choices=["linear", "mlp"])
    parser.add_argument("--rounds", type=int, default=2, help="CLI runs per architecture and N")
    parser.add_argument("--sizes", type=int, nargs="+", help="N values (default 1e4 1e5 1e6)")
    parser.add_argument("--million-files", type=int, default=2,
                        help="files at N = 1e6 (each is 4 GB on disk; 10 would be 40 GB)")
    parser.add_argument("--mlp-max-n", type=int, default=100_000,
                        help="largest N for MLP heads (compute-bound: ~150 GFLOP per head and 1e5-row file)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of the 1e5 point")
    parser.add_argument("--prototype", action="store_true",
                        help="also time the stacked-heads and bincount-F1 prototypes at N = 1e5")
    parser.add_argument("--dir", type=Path, default=ROOT / "runs", help="where the files go")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-eval-", dir=args.dir))
    try:
        heads = {arch: make_heads(work, arch) for arch in args.arch}
        tiny = work / "tiny.safetensors"
        write_file(tiny, 1000, seed=123)
        rows, detail, proto, data = [], [], [], {"series": {}}
        for n in sizes:
            count = 10 if n < 1_000_000 else args.million_files
            if args.quick and n >= 100_000:
                count = 2
            archs = [a for a in args.arch if a != "mlp" or n <= args.mlp_max_n]
            files = []
            for i in range(count):
                files.append(work / f"n{n}-{i}.safetensors")
                write_file(files[-1], n, seed=i)
            gb = sum(f.stat().st_size for f in files) / 1e9
            sides = {}
            for arch in archs:
                sides[arch] = evaluate_cli(heads[arch], files)
                sides[f"{arch} fixed"] = evaluate_cli(heads[arch], [tiny])
            rounds = 1 if "mlp" in archs and n >= 100_000 else args.rounds
            times = alternate(sides, rounds=rounds)
            for arch in archs:
                seconds, fixed = best(times[arch]), best(times[f"{arch} fixed"])
                entry = {"files": count, "gb": gb, "cli_seconds": times[arch],
                         "fixed_seconds": times[f"{arch} fixed"]}
                target = ""
                if (n, count) == (100_000, 10):
                    target = f"< {TARGET_S:.0f} s {met(seconds < TARGET_S)}"
                rows.append((
                    arch, f"{n:,}", f"{HEADS} × {count} ({gb:.1f} GB)", f"{seconds:.2f} s", f"{fixed:.2f} s",
                    f"{(seconds - fixed) / (n * count) * 1e9:.0f} ns", target,
                ))
                if arch == "linear" or n <= 10_000:
                    steps = breakdown(heads[arch], files)
                    entry["breakdown"] = steps
                    detail.append((arch, f"{n:,} × {count}", *(f"{v:.2f}" for v in steps.values()),
                                   f"{sum(steps.values()):.2f}"))
                data["series"][f"{arch}/{n}"] = entry
            if args.prototype and n == 100_000:
                for arch in archs:
                    subset = files if arch == "linear" else files[:2]
                    result = prototype(heads[arch], subset, args.rounds)
                    data[f"prototype_{arch}"] = result
                    proto.append((
                        f"predict_many, {arch} heads, {len(subset)} files", f"{result['current_s']:.2f} s",
                        f"{result['stacked_s']:.2f} s", f"{result['current_s'] / result['stacked_s']:.2f}×",
                        f"{result['mismatched_predictions_first_file']} differing predictions",
                    ))
                result = metrics_prototype(args.rounds, n)
                data["prototype_macro_f1"] = result
                proto.append((
                    f"macro_f1 × {HEADS} heads, {n:,} labels", f"{result['current_s'] * 1000:.0f} ms",
                    f"{result['bincount_s'] * 1000:.0f} ms",
                    f"{result['current_s'] / result['bincount_s']:.2f}×", "same value",
                ))
            if args.profile and n == 100_000:
                for arch in archs:
                    text = profile(heads[arch], files if arch == "linear" else files[:2])
                    data[f"profile_{arch}"] = text
                    print(f"\n### pyinstrument, {arch} heads, N = {n:,}\n{text}")
            for file in files:
                file.unlink()
        report(
            "In-process breakdown of the same work (one run, seconds)",
            detail,
            ("arch", "N × files", "load heads", "open files", "read + check", "head forwards", "metrics",
             "sum"),
            {}, None,
        )
        if proto:
            report("Prototypes (not in stitchcli), same process, alternating, best of rounds", proto,
                   ("what", "current", "prototype", "speed-up", "check"), {}, None)
        report(
            f"stitch evaluate --json (subprocess, best of {args.rounds} alternating; 1 round where MLP "
            f"runs at N ≥ 1e5), {HEADS} heads on {K}-anchor relative vectors; page cache warm",
            rows,
            ("arch", "N", "heads × files", "total", "fixed cost", "per row·file", "target"),
            data,
            args.json_out,
        )
        print("fixed cost = the same command on one 1,000-row file: interpreter, imports (torch), "
              "head loading, JSON output. per row·file = (total − fixed) / (N × files).")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
