"""Parallel anchors: a head trained in one language (or modality) used zero-shot in another."""

from __future__ import annotations

import codecs
import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from stitchcli.encoders import ENCODER_SOURCES, register_encoder_source
from stitchcli.storage import store

from conftest import TEXTS
from helpers import assert_one_line_error, random_orthogonal, run_cli

SPECIAL = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}


def rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


def write_csv(path, rows, header=("text", "label")):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


class Rotated:
    """Another encoder's vectors, rotated and rescaled: a latent space unlike the original's."""

    def __init__(self, inner, seed: int) -> None:
        self.inner, self.spec, self.modality, self.pooling = (
            inner,
            f"rotated:{inner.spec}",
            inner.modality,
            "mean",
        )
        self.rotation = random_orthogonal(32, seed)

    def embed(self, samples):
        return 3.0 * self.inner.embed(samples) @ self.rotation


class CaptionLookup:
    """A stand-in image encoder: image i shows its caption's id; its vector is the (rotated) text
    vector of that caption, as if the two towers had learnt the same concepts separately."""

    modality, pooling = "image", "lookup"

    def __init__(self, text_encoder, captions: list[str]) -> None:
        self.inner, self.captions, self.spec = text_encoder, captions, "lookup:captions"
        self.rotation = random_orthogonal(32, 7)

    def embed(self, samples):
        ids = [int(np.asarray(sample).reshape(-1)[0]) for sample in samples]
        return 0.5 * self.inner.embed([self.captions[i] for i in ids]) @ self.rotation


@pytest.fixture
def languages(tiny_bert, tmp_path):
    """English, a "second language" (rot13: a fixed token mapping) and an encoder that reads it
    exactly as the English one reads English, but in a rotated, rescaled latent space."""
    from stitchcli.encoders import load_encoder

    # Both read their vocabulary from vocab.txt (the saved tokenizer.json has its own copy); the
    # second one's vocabulary is rot13'd.
    same, other = tmp_path / "en-bert", tmp_path / "rot13-bert"
    for copy in (same, other):
        shutil.copytree(tiny_bert, copy)
        (copy / "tokenizer.json").unlink(missing_ok=True)
    vocab = (other / "vocab.txt").read_text().splitlines()
    (other / "vocab.txt").write_text("\n".join(w if w in SPECIAL else rot13(w) for w in vocab) + "\n")
    register_encoder_source(
        "rotated", lambda target, options: Rotated(load_encoder(f"hf:{target}", options), 3)
    )
    en = write_csv(tmp_path / "en.csv", TEXTS)
    xx = write_csv(tmp_path / "xx.csv", [(rot13(t), label) for t, label in TEXTS])
    shuffled = write_csv(tmp_path / "xx-shuffled.csv", [(rot13(t), label) for t, label in TEXTS[::-1]])
    yield {
        "en_encoder": f"hf:{same}",
        "xx_encoder": f"rotated:{other}",
        "en": en,
        "xx": xx,
        "shuffled": shuffled,
        "dir": tmp_path,
    }
    ENCODER_SOURCES.unregister("rotated")


def embed(encoder, dataset, out, *extra):
    result = run_cli(
        "embed", "-q", "--encoder", encoder, "--dataset", dataset, "--out", out, "--batch-size", 1, *extra
    )
    assert result.exit_code == 0, result.stderr
    return store.load(out)


def anchors(out, dataset, *extra, num=6):
    result = run_cli("anchors", "--json", "--dataset", dataset, "--num", num, "--out", out, *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def accuracy(head, embeddings):
    result = run_cli("evaluate", "--json", "--head", head, "--embeddings", embeddings)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["results"][0]


def test_a_head_from_language_a_reads_language_b_through_parallel_anchors(languages):
    d = languages["dir"]
    summary = anchors(d / "anchors.safetensors", languages["en"], "--parallel", languages["xx"])
    assert [v["source"] for v in summary["views"]] == [str(languages["en"]), str(languages["xx"])]
    assert [v["num_rows"] for v in summary["views"]] == [12, 12] and summary["views"][1]["modality"] == "text"
    en = embed(
        languages["en_encoder"], languages["en"], d / "en.safetensors", "--anchors", d / "anchors.safetensors"
    )
    # No --anchor-view: the view whose fingerprint matches --dataset (the rot13 file) is used.
    xx = embed(
        languages["xx_encoder"], languages["xx"], d / "xx.safetensors", "--anchors", d / "anchors.safetensors"
    )
    assert xx.metadata["anchors_dataset"] == str(languages["xx"])
    assert xx.metadata["anchors_fingerprint"] == en.metadata["anchors_fingerprint"]
    assert not torch.allclose(xx.tensors["embeddings"], en.tensors["embeddings"], atol=0.1)  # other spaces
    assert torch.allclose(xx.tensors["relative"], en.tensors["relative"], atol=1e-4)  # the same relative ones
    head = d / "head.safetensors"
    assert run_cli("train-head", "-q", "--space", "relative", "--embeddings", d / "en.safetensors",
                   "--out", head).exit_code == 0
    own, stitched = accuracy(head, d / "en.safetensors"), accuracy(head, d / "xx.safetensors")
    assert stitched["stitched"] and stitched["accuracy"] == own["accuracy"]

    # The same anchors in a non-parallel "translation" (rows in another order): other relative vectors.
    anchors(d / "wrong.safetensors", languages["en"], "--parallel", languages["shuffled"])
    wrong = embed(
        languages["xx_encoder"],
        languages["xx"],
        d / "wrong.safetensors.emb",
        "--anchors",
        d / "wrong.safetensors",
        "--anchor-view",
        languages["shuffled"],
    )
    assert (wrong.tensors["relative"] - en.tensors["relative"]).abs().max() > 0.1


def test_views_aligned_by_an_id_column(languages):
    d = languages["dir"]
    ids = [f"item{i}" for i in range(len(TEXTS))]
    en = write_csv(
        d / "en-ids.csv",
        [(i, t, lab) for i, (t, lab) in zip(ids, TEXTS, strict=True)],
        ("id", "text", "label"),
    )
    order = list(range(len(TEXTS)))[::-1]
    xx = write_csv(
        d / "xx-ids.csv", [(ids[i], rot13(TEXTS[i][0]), TEXTS[i][1]) for i in order], ("id", "text", "label")
    )
    summary = anchors(d / "a.safetensors", en, "--parallel", xx, "--id-column", "id")
    rows = store.load(d / "a.safetensors").tensors["view_indices"]
    assert torch.equal(rows[1], torch.tensor([order.index(i) for i in rows[0].tolist()]))
    assert summary["views"][1]["source"] == str(xx)
    first = embed(languages["en_encoder"], en, d / "en.safetensors", "--anchors", d / "a.safetensors")
    second = embed(languages["xx_encoder"], xx, d / "xx.safetensors", "--anchors", d / "a.safetensors")
    # The rot13 file lists the items in reverse order: the same anchors, found by id.
    assert torch.allclose(second.tensors["relative"].flip(0), first.tensors["relative"], atol=1e-4)


def test_parallel_refusals(languages):
    d, en, xx = languages["dir"], languages["en"], languages["xx"]
    out = ("--num", 4, "--out", d / "a.safetensors")
    short = write_csv(d / "short.csv", [(rot13(t), lab) for t, lab in TEXTS[:-1]])
    assert_one_line_error(run_cli("anchors", "--dataset", en, "--parallel", short, *out), "has 11 rows but")
    assert_one_line_error(run_cli("anchors", "--dataset", en, "--id-column", "id", *out), "--id-column aligns",
                          exit_code=2)
    assert_one_line_error(run_cli("anchors", "--dataset", en, "--parallel", xx, "--id-column", "nope", *out),
                          "no id column 'nope'")
    anchors(d / "a.safetensors", en, "--parallel", xx)
    result = run_cli("embed", "--encoder", languages["en_encoder"], "--dataset", en, "--anchors", d / "a.safetensors",
                     "--anchor-view", short, "--out", d / "e.safetensors")
    assert_one_line_error(result, "is not a view of anchor set")
    alone = run_cli("embed", "--encoder", "hf:x", "--dataset", en, "--anchor-view", xx, "--out", d / "e.safetensors")
    assert_one_line_error(alone, "give --anchors too", exit_code=2)
    assert str(xx) in result.stderr
    # A head refuses relative vectors built on another anchor set (even of the same rows).
    anchors(d / "plain.safetensors", en)
    embed(languages["en_encoder"], en, d / "plain.emb", "--anchors", d / "plain.safetensors")
    embed(languages["en_encoder"], en, d / "par.emb", "--anchors", d / "a.safetensors")
    assert run_cli("train-head", "-q", "--space", "relative", "--embeddings", d / "par.emb",
                   "--out", d / "h.safetensors").exit_code == 0
    assert_one_line_error(run_cli("evaluate", "--head", d / "h.safetensors", "--embeddings", d / "plain.emb"),
                          "anchor set")


def test_a_prompt_prototype_head_classifies_images_through_caption_anchors(tiny_bert, tmp_path):
    """ASIF-style: class prompts embedded by a text encoder, images by an image encoder that never
    saw it; captions and their images are the parallel anchors."""
    from stitchcli.encoders import load_encoder

    captions = [text for text, _ in TEXTS]
    write_csv(tmp_path / "captions.csv", TEXTS)
    images = np.zeros((len(TEXTS), 8, 8), dtype=np.uint8)
    images[:, 0, 0] = np.arange(len(TEXTS))
    np.savez(
        tmp_path / "images.npz",
        images=images,
        labels=np.array([lab == "fresh" for _, lab in TEXTS], dtype=np.int64),
        label_names=np.array(["rotten", "fresh"]),
    )
    templates = ["{}", "a {} one", "it was {}"]
    write_csv(
        tmp_path / "prompts.csv",
        [
            (t.format(word), label)
            for label, word in (("fresh", "great fun"), ("rotten", "boring bad"))
            for t in templates
        ],
    )
    register_encoder_source(
        "lookup", lambda target, options: CaptionLookup(load_encoder(f"hf:{tiny_bert}", options), captions)
    )
    try:
        anchors(
            tmp_path / "a.safetensors",
            tmp_path / "captions.csv",
            "--parallel",
            tmp_path / "images.npz",
            num=8,
        )
        text = f"hf:{tiny_bert}"
        embed(
            text, tmp_path / "prompts.csv", tmp_path / "prompts.emb", "--anchors", tmp_path / "a.safetensors"
        )
        embed(
            text,
            tmp_path / "captions.csv",
            tmp_path / "captions.emb",
            "--anchors",
            tmp_path / "a.safetensors",
        )
        pictures = embed(
            "lookup:captions",
            tmp_path / "images.npz",
            tmp_path / "images.emb",
            "--anchors",
            tmp_path / "a.safetensors",
        )
    finally:
        ENCODER_SOURCES.unregister("lookup")
    # The image view, found by the fingerprint of --dataset.
    assert pictures.metadata["anchors_dataset"] == str(tmp_path / "images.npz")
    written = store.load(tmp_path / "captions.emb").tensors["relative"]
    assert torch.allclose(pictures.tensors["relative"], written, atol=1e-4)
    assert (written - written[0]).abs().max() > 0.05  # rows differ: the check below means something
    head = tmp_path / "head.safetensors"
    result = run_cli(
        "train-head",
        "-q",
        "--space",
        "relative",
        "--arch",
        "prototype",
        "--normalize",
        "anchors",
        "--embeddings",
        tmp_path / "prompts.emb",
        "--out",
        head,
    )
    assert result.exit_code == 0, result.stderr
    on_images, on_captions = (
        accuracy(head, tmp_path / "images.emb"),
        accuracy(head, tmp_path / "captions.emb"),
    )
    assert on_images["stitched"] and on_images["num_samples"] == 12
    assert on_images["accuracy"] == on_captions["accuracy"]


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    from transformers import BertTokenizerFast, CLIPConfig, CLIPImageProcessor, CLIPModel

    from conftest import WORDS

    directory = tmp_path_factory.mktemp("tiny-clip")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", "."] + WORDS
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast.from_pretrained(str(directory)).save_pretrained(directory)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 64,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(directory)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        directory
    )
    return directory


def test_a_clip_checkpoint_gives_both_towers(tiny_clip, text_csv, image_folder, tmp_path):
    from PIL import Image
    from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

    texts = embed(f"hf:{tiny_clip}", text_csv, tmp_path / "t.safetensors")
    images = embed(f"hf:{tiny_clip}", image_folder, tmp_path / "i.safetensors")
    assert (
        texts.metadata["encoder"] == f"hf:{tiny_clip}#text"
        and images.metadata["encoder"] == f"hf:{tiny_clip}#image"
    )
    assert texts.metadata["pooling"] == "pooler" and texts.metadata["dim"] == images.metadata["dim"] == "16"
    model = CLIPModel.from_pretrained(tiny_clip).eval()
    tokens = AutoTokenizer.from_pretrained(tiny_clip)([TEXTS[0][0]], return_tensors="pt")
    first_image = sorted(p for p in image_folder.rglob("*") if p.is_file())[0]
    pixels = AutoImageProcessor.from_pretrained(tiny_clip)(
        images=[Image.open(first_image).convert("RGB")], return_tensors="pt"
    )["pixel_values"]
    with torch.inference_mode():
        text_vector = model.get_text_features(
            input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
        ).pooler_output
        image_vector = model.get_image_features(pixel_values=pixels).pooler_output
    assert torch.allclose(texts.tensors["embeddings"][0], text_vector[0], atol=1e-5)
    assert torch.allclose(images.tensors["embeddings"][0], image_vector[0], atol=1e-5)


def test_prompts_file_from_a_dataset_or_names(image_folder, tmp_path):
    out = tmp_path / "prompts.csv"
    result = run_cli("prompts", "--labels-from", image_folder, "--template", "a photo of a {label}", "--template",
                     "{label}!", "--out", out)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["text", "label"] and rows[1:3] == [["a photo of a cat", "cat"], ["cat!", "cat"]]
    assert len(rows) == 1 + 3 * 2
    assert run_cli("prompts", "--label", "golden_retriever", "--out", out, "-q").exit_code == 0
    rows = list(csv.reader(out.open()))
    assert rows[1] == ["a photo of a golden retriever.", "golden_retriever"] and len(rows) == 6
    assert_one_line_error(run_cli("prompts", "--out", out), "either --labels-from", exit_code=2)
    assert_one_line_error(run_cli("prompts", "--label", "x", "--template", "no slot", "--out", out),
                          "has no {label}", exit_code=2)


def test_every_view_keeps_its_samples_and_reads_without_its_source(languages, tmp_path, monkeypatch):
    from stitchcli.anchors import load_anchor_set

    d = languages["dir"]
    copies = tmp_path / "copies"
    copies.mkdir()
    en, xx = (Path(shutil.copy(languages[name], copies / f"{name}.csv")) for name in ("en", "xx"))
    anchors(tmp_path / "a.safetensors", en, "--parallel", xx)
    before = embed(languages["xx_encoder"], languages["xx"], d / "x1.safetensors", "--anchors",
                   tmp_path / "a.safetensors").tensors["anchor_embeddings"]
    for path in (en, xx):
        path.unlink()  # both views' sources are gone: the file keeps their samples
    anchor_set = load_anchor_set(tmp_path / "a.safetensors")
    assert len(anchor_set.samples) == 2
    view = anchor_set.viewed(str(xx), "", "text")
    texts = [view.load_source().sample(i) for i in view.indices.tolist()]
    assert all(isinstance(t, str) and t for t in texts)
    monkeypatch.setenv("STITCH_NO_ANCHOR_CACHE", "1")  # embedded again, from the stored samples
    again = embed(languages["xx_encoder"], languages["xx"], d / "x2.safetensors", "--anchors",
                  tmp_path / "a.safetensors", "--anchor-view", str(xx)).tensors["anchor_embeddings"]
    assert torch.allclose(before, again, atol=1e-5)
