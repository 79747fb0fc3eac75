"""Golden files: anchors, embeddings, heads, predictions and an evaluate report made by the CLI for fixed inputs.

``generate(root)`` builds two tiny seeded BERTs and a small CSV under ``root/work``, runs ``stitch anchors``,
``embed`` (with and without ``--anchors``), ``train-head`` (an absolute logistic head with the default ridge
map, a relative linear head, a relative prototype head, a regression ridge head), ``predict`` (CSV and JSONL,
from ``--embeddings`` and with ``--encoder``) and ``evaluate --json``, all on the CPU, writing the outputs to
``root/out``. ``tests/test_golden.py`` runs it with the code under test and compares the outputs with the
files checked into ``tests/golden/files`` (written by the code of 2026-12-04, commit 14469a3).

Regenerate (from the repository root)::

    HF_HUB_OFFLINE=1 .venv/bin/python -m tests.golden.make --out tests/golden/files

WARNING: regenerating the golden files ACCEPTS whatever the code now writes as the file format, the
predictions and the ``--json`` schema. Do it only for an intended, documented format change (and say so
in CHANGELOG.md), never to make a failing ``test_golden.py`` pass.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

# The fixed inputs: (text, label, score). Two labels; ``score`` is the regression target.
ROWS = [
    ("a great movie , really fun", "fresh", 4.5),
    ("the plot was boring", "rotten", 1.5),
    ("loved the cast and the music", "fresh", 4.0),
    ("awful script , hated the ending", "rotten", 0.5),
    ("good", "fresh", 3.5),
    ("not good , not fun , very very bad and really quite boring", "rotten", 1.0),
    ("the actor was great", "fresh", 4.0),
    ("bad film", "rotten", 1.0),
    ("quite a good story with a great scene", "fresh", 4.5),
    ("the music was awful", "rotten", 1.5),
    ("really loved it", "fresh", 5.0),
    ("boring boring boring", "rotten", 0.0),
    ("the ending was fun", "fresh", 3.5),
    ("hated the plot and the cast", "rotten", 1.0),
    ("a very good film", "fresh", 4.0),
    ("not a good scene", "rotten", 2.0),
]
TRAIN, TEST = ROWS[:12], ROWS[12:] + ROWS[:4]
WORDS = ("the a movie film was is great good bad awful boring fun loved hated plot actor "
         "story not very really quite music scene ending cast script it and with from start to").split()
# Where the tmp root of a run appears inside a value, both sides read this instead.
ROOT = "<ROOT>"
MANIFEST = "manifest.json"


def tiny_bert(directory: Path, seed: int, hidden: int) -> Path:
    """A random 2-layer BERT with a small WordPiece vocabulary (as tests/conftest.py's ``tiny_bert``)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", "."] + WORDS + list("abcdefghijklmnopqrstuvwxyz")
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast.from_pretrained(str(directory), do_lower_case=True)
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=2 * hidden, max_position_embeddings=64)
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def write_csv(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "score"])
        writer.writerows(rows)
    return path


def stitch(*args) -> str:
    """Run ``stitch ARGS`` in-process; fail with its stderr unless it exits 0."""
    from typer.testing import CliRunner

    from stitchcli.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exit_code != 0:
        raise RuntimeError(f"stitch {' '.join(map(str, args))} exited {result.exit_code}:\n"
                           f"{result.stderr}\n{result.exception!r}")
    return result.stdout


def generate(root: Path) -> Path:
    """Write every golden output under ``root/out`` (inputs and models under ``root/work``); return ``root/out``."""
    import torch

    root = Path(root).resolve()
    (root / "work").mkdir(parents=True)
    (root / "out").mkdir()
    here = os.getcwd()
    saved_env = {k: os.environ.get(k) for k in ("STITCH_CACHE_DIR", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    threads = torch.get_num_threads()
    os.environ.update(STITCH_CACHE_DIR=str(root / "work" / "cache"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    torch.set_num_threads(2)  # as tests/conftest.py: results must not depend on the machine's threads
    # Relative paths from the root: values that hash a path (output_key hashes the encoder's) stay the
    # same from run to run; values the code resolves to absolute paths hold the root (see test_golden.py).
    os.chdir(root)
    try:
        _generate(Path("work"), Path("out"))
    finally:
        os.chdir(here)
        torch.set_num_threads(threads)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    (root / "out" / MANIFEST).write_text(json.dumps({"root": str(root)}, indent=1) + "\n")
    return root / "out"


def _generate(work: Path, out: Path) -> None:
    a = f"hf:{tiny_bert(work / 'bert-a', seed=0, hidden=32)}"
    b = f"hf:{tiny_bert(work / 'bert-b', seed=1, hidden=48)}"
    train, test = write_csv(work / "train.csv", TRAIN), write_csv(work / "test.csv", TEST)
    cpu = ("--device", "cpu", "--quiet")
    stitch("anchors", "--dataset", train, "--num", 6, "--seed", 0, "--out", out / "anchors.safetensors", "--quiet")
    stitch("anchors", "--dataset", train, "--num", 6, "--strategy", "stratified", "--no-samples",
           "--out", out / "anchors-stratified.safetensors", "--quiet")
    anchors = out / "anchors.safetensors"
    for name, encoder in (("a", a), ("b", b)):
        for split, source in (("train", train), ("test", test)):
            stitch("embed", "--encoder", encoder, "--dataset", source, "--anchors", anchors,
                   "--out", out / f"emb-{name}-{split}.safetensors", *cpu)
    stitch("embed", "--encoder", a, "--dataset", test, "--no-center", "--similarity", "euclidean",
           "--out", out / "emb-a-test-plain.safetensors", *cpu)
    emb = {f"{n}-{s}": out / f"emb-{n}-{s}.safetensors" for n in "ab" for s in ("train", "test")}
    heads = {
        "absolute": ("--space", "absolute"),
        "relative-linear": ("--space", "relative", "--arch", "linear", "--epochs", 3, "--batch-size", 4),
        "relative-prototype": ("--space", "relative", "--arch", "prototype", "--topk", 0),
        "regression": ("--space", "relative", "--task", "regression", "--target-column", "score"),
    }
    for name, options in heads.items():
        stitch("train-head", "--embeddings", emb["a-train"], *options, "--out", out / f"head-{name}.safetensors",
               "--quiet")
    stitch("predict", "--head", out / "head-absolute.safetensors", "--embeddings", emb["b-test"],
           "--top-k", 2, "--out", out / "pred-absolute-b.csv", "--quiet")
    stitch("predict", "--head", out / "head-relative-linear.safetensors", "--embeddings", emb["b-test"],
           "--out", out / "pred-relative-linear-b.jsonl", "--quiet")
    stitch("predict", "--head", out / "head-regression.safetensors", "--embeddings", emb["a-test"],
           "--out", out / "pred-regression-a.csv", "--quiet")
    stitch("predict", "--head", out / "head-relative-prototype.safetensors", "--encoder", b, "--dataset", test,
           "--out", out / "pred-prototype-encoder-b.jsonl", *cpu)
    report = stitch("evaluate", "--json", *(x for h in ("absolute", "relative-linear", "relative-prototype")
                                           for x in ("--head", out / f"head-{h}.safetensors")),
                    "--embeddings", emb["a-test"], "--embeddings", emb["b-test"], "--translate", "ridge",
                    "--translate", "procrustes", "--skip-incompatible")
    (out / "evaluate.json").write_text(report)
    values = stitch("evaluate", "--json", "--head", out / "head-regression.safetensors",
                    "--embeddings", emb["a-test"], "--embeddings", emb["b-test"])
    (out / "evaluate-regression.json").write_text(values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)write, e.g. tests/golden/files")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="stitch-golden-"))
    try:
        made = generate(root)
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.copytree(made, args.out)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"wrote {len(list(args.out.iterdir()))} files ({size / 1024:.0f} KB) to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
