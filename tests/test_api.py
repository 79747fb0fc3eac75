"""The Python API on arrays and objects gives the CLI's numbers: ``load_encoder().embed`` = ``stitch embed``,
``relative`` = the file's relative vectors, ``train_head().save`` = ``stitch train-head``, ``predict`` =
``stitch predict``; it accepts lists, numpy and torch, and refuses bad input in one line."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import stitchcli as st
from stitchcli.errors import StitchError
from stitchcli.storage import store

from conftest import WORDS
from helpers import ok, write_texts

# Keys that name the train file and its source: a head trained from arrays has neither.
SOURCE_KEYS = {"train_file", "dataset", "dataset_fingerprint"}


@pytest.fixture(scope="module")
def cli(tiny_bert, other_bert, tmp_path_factory) -> dict:
    """What the CLI writes: anchors, a train file (tiny BERT), a test file (the other BERT), three heads."""
    root = tmp_path_factory.mktemp("api")
    rng = random.Random(0)
    lengths = [rng.randint(1, 14) for _ in range(60)]  # unequal lengths: batches are length-sorted
    rows = [(" ".join(rng.choice(WORDS) for _ in range(n)), "pos" if i % 2 else "neg")
            for i, n in enumerate(lengths)]
    train, test = write_texts(root / "train.csv", rows[:40]), write_texts(root / "test.csv", rows[40:])
    anchors = root / "anchors.safetensors"
    ok("anchors", "-q", "--dataset", train, "--num", 16, "--out", anchors)
    files = {"train": root / "train.safetensors", "test": root / "test.safetensors"}
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", train, "--anchors", anchors,
       "--batch-size", 8, "--out", files["train"])
    ok("embed", "-q", "--encoder", f"hf:{other_bert}", "--dataset", test, "--anchors", anchors,
       "--out", files["test"])
    heads = {}
    for kind, extra in HEADS.items():
        heads[kind] = root / f"{kind}.safetensors"
        ok("train-head", "-q", "--embeddings", files["train"], "--out", heads[kind], *extra)
    unlabelled = write_texts(root / "unlabelled.csv", rows[40:], labelled=False)
    return {"root": root, "rows": rows, "anchors": anchors, "files": files, "heads": heads,
            "unlabelled": unlabelled, "tensors": {k: store.load(p).tensors for k, p in files.items()}}


HEADS = {"translated": [], "relative": ["--space", "relative"], "plain": ["--translate", "none"],
         "prototype": ["--arch", "prototype", "--space", "relative"]}
API_OPTIONS = {"translated": {}, "relative": {"space": "relative"}, "plain": {"translate": "none"},
               "prototype": {"arch": "prototype", "space": "relative"}}


@pytest.fixture(scope="module")
def encoders(cli, tiny_bert, other_bert) -> dict:
    return {"own": st.load_encoder(f"hf:{tiny_bert}", device="cpu"),
            "other": st.load_encoder(f"hf:{other_bert}", device="cpu")}


def test_embed_gives_stitch_embeds_vectors(cli, encoders):
    texts = [text for text, _ in cli["rows"][:40]]
    x = encoders["own"].embed(texts, batch_size=8)  # the train file's batch size
    assert isinstance(x, np.ndarray) and x.dtype == np.float32 and x.shape == (40, 32)
    assert np.array_equal(x, cli["tensors"]["train"]["embeddings"].numpy())
    test = encoders["other"].embed(np.array([text for text, _ in cli["rows"][40:]]))  # a numpy array of texts
    assert np.array_equal(test, cli["tensors"]["test"]["embeddings"].numpy())
    assert encoders["own"].embed([]).shape[0] == 0


def test_relative_gives_the_files_relative_vectors(cli):
    tensors = cli["tensors"]["train"]
    x, anchors = tensors["embeddings"], tensors["anchor_embeddings"]
    expected = tensors["relative"].numpy()
    for given in ((x, anchors), (x.numpy(), anchors.numpy()), (x.tolist(), anchors.tolist())):
        r = st.relative(*given)
        assert r.dtype == np.float32 and np.array_equal(r, expected)
    # Other settings, as `stitch relative` recomputes them.
    out = cli["root"] / "rel.safetensors"
    ok("relative", "-q", "--embeddings", cli["files"]["train"], "--anchors", cli["anchors"],
       "--similarity", "cosine+euclidean", "--no-center", "--out", out)
    r = st.relative(x, anchors, similarity="cosine+euclidean", center=False)
    assert np.array_equal(r, store.load(out).tensors["relative"].numpy())


@pytest.mark.parametrize("kind", sorted(HEADS))
def test_a_head_trained_from_arrays_is_the_one_train_head_writes(cli, tiny_bert, tmp_path, kind):
    file = store.load(cli["files"]["train"])
    names = json.loads(file.metadata["label_names"])
    labels = [names[i] for i in file.tensors["labels"].tolist()]
    head = st.train_head(file.tensors["embeddings"], labels, anchors=file.tensors["anchor_embeddings"],
                         anchor_set=cli["anchors"], encoder=f"hf:{tiny_bert}", **API_OPTIONS[kind])
    path = head.save(tmp_path / "head.safetensors")
    ours, theirs = store.load(path), store.load(cli["heads"][kind])
    assert sorted(ours.tensors) == sorted(theirs.tensors)
    for name, tensor in theirs.tensors.items():
        assert torch.equal(ours.tensors[name], tensor), name
    assert set(ours.metadata) == set(theirs.metadata)
    for key, value in theirs.metadata.items():
        if key not in SOURCE_KEYS:
            assert ours.metadata[key] == value, key
    assert ours.metadata["train_file"] == ours.metadata["dataset"] == "arrays"


def test_train_head_takes_ids_with_names_and_tensors(cli, tmp_path):
    file = store.load(cli["files"]["train"])
    names = json.loads(file.metadata["label_names"])
    a = st.train_head(file.tensors["embeddings"], file.tensors["labels"], label_names=names,
                      anchors=file.tensors["anchor_embeddings"])
    b = st.train_head(file.tensors["embeddings"].numpy(), [names[i] for i in file.tensors["labels"]],
                      anchors=file.tensors["anchor_embeddings"].numpy())
    assert a.labels == b.labels == names
    for key, value in a.head.module.state_dict().items():
        assert torch.equal(value, b.head.module.state_dict()[key])
    # Without an anchor set the head cannot embed its anchors itself, but reads vectors.
    x, anchors = cli["tensors"]["test"]["embeddings"], cli["tensors"]["test"]["anchor_embeddings"]
    assert len(a.predict_vectors(x, anchors=anchors)) == len(x)
    with pytest.raises(StitchError, match="does not carry its anchor set"):
        a.predict(["a great movie"], encoder="hf:unused")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _same(predictions, rows, top_k: int) -> None:
    assert len(predictions) == len(rows)
    for prediction, row in zip(predictions, rows, strict=True):
        assert (prediction.label, prediction.score) == (row["label"], row["score"])
        pairs = [(t["label"], t["score"]) for t in row.get("top_k", [row])]
        assert prediction.top_k == pairs and len(pairs) == top_k


@pytest.mark.parametrize("kind", sorted(HEADS))
def test_predict_vectors_is_predict_on_the_file(cli, tmp_path, kind):
    head = st.load_head(cli["heads"][kind])
    tensors = cli["tensors"]["test" if kind != "plain" else "train"]
    file = cli["files"]["test" if kind != "plain" else "train"]
    top_k = 2
    ok("predict", "-q", "--head", cli["heads"][kind], "--embeddings", file, "--top-k", top_k,
       "--out", tmp_path / "p.jsonl")
    rows = _jsonl(tmp_path / "p.jsonl")
    _same(head.predict_vectors(tensors["embeddings"], anchors=tensors["anchor_embeddings"], top_k=top_k),
          rows, top_k)
    _same(head.predict_vectors(tensors["embeddings"].numpy().tolist(),
                               anchors=tensors["anchor_embeddings"].numpy(), top_k=top_k), rows, top_k)


def test_fit_translation_maps_as_a_translated_head_reads(cli):
    head = st.load_head(cli["heads"]["translated"])
    test = cli["tensors"]["test"]
    m = st.fit_translation("ridge", test["anchor_embeddings"], head.head.anchor_embeddings.numpy())
    y = m.transform(test["embeddings"])
    assert y.dtype == np.float32 and y.shape == (20, 32)
    translated = head.predict_vectors(test["embeddings"], anchors=test["anchor_embeddings"], top_k=2)
    assert head.predict_vectors(y, translate="none", top_k=2) == translated


@pytest.mark.parametrize("kind", ["translated", "relative", "prototype"])
def test_predict_on_samples_is_stitch_predict_with_an_encoder(cli, encoders, other_bert, tmp_path, kind,
                                                              monkeypatch):
    ok("predict", "-q", "--head", cli["heads"][kind], "--encoder", f"hf:{other_bert}", "--dataset",
       cli["unlabelled"], "--top-k", 2, "--out", tmp_path / "p.jsonl")
    rows = _jsonl(tmp_path / "p.jsonl")
    texts = [text for text, _ in cli["rows"][40:]]
    head = st.load_head(cli["heads"][kind])
    import tempfile

    import stitchcli.encoders as registry

    def refuse(*args, **kwargs):
        raise AssertionError("the API wrote a temporary file or loaded an encoder again")

    for name in ("TemporaryDirectory", "NamedTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    monkeypatch.setattr(store, "save", refuse)
    embedded = []
    model = encoders["other"]
    original = type(model).embed_dataset
    monkeypatch.setattr(type(model), "embed_dataset",
                        lambda self, *a, **k: embedded.append(1) or original(self, *a, **k))
    monkeypatch.setattr(registry, "load_encoder", refuse)
    for _ in range(2):  # the anchors are embedded once per encoder object
        _same(head.predict(texts, encoder=model, top_k=2), rows, 2)
    assert len(embedded) == 3


def test_a_spec_given_as_a_string_is_loaded_once(cli, other_bert, monkeypatch):
    import stitchcli.encoders as registry

    loads = []
    original = registry.load_encoder
    monkeypatch.setattr(registry, "load_encoder", lambda *a, **k: loads.append(a) or original(*a, **k))
    head = st.load_head(cli["heads"]["translated"])
    texts = [text for text, _ in cli["rows"][40:44]]
    first = head.predict(texts, encoder=f"hf:{other_bert}", device="cpu")
    assert head.predict(texts, encoder=f"hf:{other_bert}", device="cpu") == first and len(loads) == 1


def _one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and isinstance(excinfo.value, StitchError)
    return message


def test_wrong_inputs_are_refused_in_one_line(cli, encoders):
    tensors = cli["tensors"]["test"]
    x, anchors = tensors["embeddings"], tensors["anchor_embeddings"]
    head = st.load_head(cli["heads"]["translated"])
    cases = [
        (lambda: st.relative(x[0], anchors), "2-D"),
        (lambda: st.relative(x[:, :5], anchors), "dimension 5"),
        (lambda: st.relative(x.numpy().astype(complex), anchors), "real numbers"),
        (lambda: st.relative(x > 0, anchors), "real numbers"),
        (lambda: st.relative([["a", "b"]], anchors), "real numbers"),
        (lambda: st.relative([[1.0, 2.0], [3.0]], anchors), "one length"),
        (lambda: st.relative(torch.full((2, 32), float("nan")), anchors), "NaN"),
        (lambda: st.relative("x", anchors), "not str"),
        (lambda: st.fit_translation("ridge", anchors, anchors[:3]), "rows"),
        (lambda: st.fit_translation("nonsense", anchors, anchors), "unknown translation"),
        (lambda: encoders["own"].embed("one string"), "not a single str"),
        (lambda: encoders["own"].embed([1, 2]), "not a text"),
        (lambda: encoders["own"].embed(["a"], batch_size=0), "batch_size"),
        (lambda: head.predict("one string", encoder=encoders["other"]), "not a single str"),
        (lambda: head.predict(["a"], encoder=encoders["other"], top_k=3), "top-k"),
        (lambda: head.predict(["a"], encoder=3), "encoder must be"),
        (lambda: head.predict_vectors(x), "pass anchors="),
        (lambda: head.predict_vectors(x, anchors=anchors[:4]), "4 rows, expected 16"),
        (lambda: head.predict_vectors(x[:, :8], anchors=anchors[:, :8], translate="none"), "dimension"),
        (lambda: st.train_head(x, ["a"] * 3, anchors=anchors), "3 entries for 20 rows"),
        (lambda: st.train_head(x, [0.5] * 20, anchors=anchors), "floats"),
        (lambda: st.train_head(x, [0] * 20, label_names=["a", "b"], translate="none", epochs=0), "epochs"),
        (lambda: st.train_head(x, [5] * 20, label_names=["a", "b"], anchors=anchors), "outside"),
        (lambda: st.train_head(x, ["a", "b"] * 10), "needs anchors="),
        (lambda: st.train_head(x, ["a", "b"] * 10, anchors=anchors, anchor_set=cli["root"] / "no"), "not found"),
    ]
    for call, expected in cases:
        with pytest.raises(StitchError) as excinfo:
            call()
        assert expected in _one_line(excinfo), expected


def test_value_heads_refuse_samples_and_give_arrays_for_vectors(cli, tiny_bert, encoders, tmp_path):
    source = tmp_path / "values.csv"
    source.write_text("text,price\n" + "".join(f"{text},{i % 7}\n" for i, (text, _) in enumerate(cli["rows"][:40])))
    emb, path = tmp_path / "v.safetensors", tmp_path / "head.safetensors"
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", source, "--anchors", cli["anchors"],
       "--out", emb)
    ok("train-head", "-q", "--embeddings", emb, "--task", "regression", "--target-column", "price", "--out", path)
    ok("predict", "-q", "--head", path, "--embeddings", emb, "--out", tmp_path / "v.jsonl")
    head = st.load_head(path)
    tensors = store.load(emb).tensors
    values = head.predict_vectors(tensors["embeddings"], anchors=tensors["anchor_embeddings"])
    assert values.dtype == np.float32 and values.shape == (40, 1)
    assert [[round(v, 6) for v in row] for row in values.tolist()] == \
        [[row["price"]] for row in _jsonl(tmp_path / "v.jsonl")]
    with pytest.raises(StitchError, match="regression head") as excinfo:
        head.predict(["x"], encoder=encoders["own"])
    _one_line(excinfo)


def test_the_readme_example_runs(tiny_bert, other_bert, tmp_path, monkeypatch):
    """The "Python API" section's example, with the tiny models in place of the hub's."""
    code = README_EXAMPLE
    readme = Path(__file__).resolve().parent.parent / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    ours = [block for block in blocks if "import stitchcli as st" in block and "st.train_head(" in block]
    if ours:  # once the README has the section, its own code is what runs
        code = ours[0]
    code = code.replace("sentence-transformers/all-MiniLM-L6-v2", str(tiny_bert))
    code = code.replace("sentence-transformers/paraphrase-MiniLM-L3-v2", str(other_bert))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README example", "exec"), {})
    assert (tmp_path / "head.safetensors").is_file()


README_EXAMPLE = '''\
import stitchcli as st

texts = ["a great movie , really fun", "the plot was boring", "loved the cast and the music",
         "awful script , hated the ending", "the actor was great", "bad film", "really loved it",
         "boring boring boring", "quite a good story", "the music was awful", "good fun", "not good"]
labels = ["pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg"]
anchor_texts = texts[:8]  # any texts both encoders embed: the shared reference points

enc = st.load_encoder("hf:sentence-transformers/all-MiniLM-L6-v2")
x, anchor_x = enc.embed(texts), enc.embed(anchor_texts)  # numpy float32 (N, D) and (K, D)
r = st.relative(x, anchor_x)                              # (N, K): cosines to the centred anchors
head = st.train_head(x, labels, anchors=anchor_x)         # `stitch train-head`'s defaults
head.save("head.safetensors")

# Zero-shot: another encoder's vectors, read through a map fitted on the shared anchors.
other = st.load_encoder("hf:sentence-transformers/paraphrase-MiniLM-L3-v2")
x_other, anchor_other = other.embed(["what a great film"]), other.embed(anchor_texts)
print(st.load_head("head.safetensors").predict_vectors(x_other, anchors=anchor_other)[0].label)

m = st.fit_translation("ridge", anchor_other, anchor_x)   # the map itself, other -> enc
print(m.transform(x_other).shape)
'''


def test_images_embed_and_predict_as_the_cli(image_folder, timm_weights, tmp_path):
    from PIL import Image

    anchors, emb, path = (tmp_path / f"{n}.safetensors" for n in ("anchors", "train", "head"))
    model = ["--encoder", "timm:test_resnet", "--weights", timm_weights]
    ok("anchors", "-q", "--dataset", image_folder, "--num", 4, "--out", anchors)
    ok("embed", "-q", *model, "--dataset", image_folder, "--anchors", anchors, "--batch-size", 4, "--out", emb)
    ok("train-head", "-q", "--embeddings", emb, "--out", path, "--arch", "prototype", "--space", "relative")
    files = sorted((p for p in image_folder.rglob("*") if p.is_file()), key=lambda p: (p.parent.name, p.name))
    enc = st.load_encoder("timm:test_resnet", weights=timm_weights, device="cpu")
    x = enc.embed(files, batch_size=4)  # paths, opened as the image folder opens them
    assert np.array_equal(x, store.load(emb).tensors["embeddings"].numpy())
    assert np.array_equal(enc.embed([Image.open(p) for p in files], batch_size=4), x)
    flat = tmp_path / "flat"
    flat.mkdir()
    for file in files[:5]:
        shutil.copy(file, flat / f"{file.parent.name}-{file.name}")
    ok("predict", "-q", "--head", path, *model, "--dataset", flat, "--top-k", 2, "--out", tmp_path / "p.jsonl")
    head = st.load_head(path)
    _same(head.predict(sorted(flat.iterdir()), encoder=enc, top_k=2), _jsonl(tmp_path / "p.jsonl"), 2)
    with pytest.raises(StitchError, match="not an image") as excinfo:
        head.predict([3], encoder=enc)
    _one_line(excinfo)


def test_a_head_embeds_its_anchor_set_with_the_encoder_given(cli, encoders, tiny_bert):
    """With an anchor file and an encoder instead of anchor vectors, the set's anchors are embedded."""
    tensors = cli["tensors"]["train"]
    names = ["neg", "pos"]
    labels = [names[i] for i in tensors["labels"].tolist()]
    head = st.train_head(tensors["embeddings"], labels, anchor_set=cli["anchors"], encoder=encoders["own"])
    assert head.head.anchor_embeddings.shape == (16, 32) and head.head.anchor_set() is not None
    assert torch.allclose(head.head.anchor_embeddings, tensors["anchor_embeddings"], atol=1e-5)


def test_importing_the_api_stays_light():
    import subprocess
    import sys

    code = "import sys, stitchcli, stitchcli.api; print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr
