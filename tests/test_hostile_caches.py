"""Issue 28, class 2: caches and "up to date" checks keyed on the model's content, not its name.

A model replaced in place under the same spec (weights, config, tokenizer; a timm ``--weights`` file
rewritten with its size and mtime kept; the same relative ``hf:model`` in another folder) is another
model to ``embed``'s up-to-date check and to the anchor cache of ``predict --encoder``: the output is
what a fresh run writes. A damaged or foreign anchor-cache entry (another width, NaN, inf, an integer or
half dtype, values tampered with, another key's entry, cut short, not safetensors, unreadable) is
discarded and the anchors embedded again: never an internal error, never a silent use. Each case is
checked against a fresh run with an empty cache.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from stitchcli.storage import store

from conftest import WORDS
from helpers import run_cli, write_texts


def ok(*args, quiet: bool = True):
    result = run_cli(*args, *(["-q"] if quiet else []))
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr and "bug" not in result.stderr.lower(), result.stderr
    return result


@pytest.fixture(scope="module")
def data(tiny_bert, tmp_path_factory) -> dict:
    """A train CSV with anchors, a test CSV (no anchor among its rows) and a relative head."""
    root = tmp_path_factory.mktemp("hostile-caches")
    rng = random.Random(3)
    rows = [(" ".join(rng.choice(WORDS) for _ in range(8)), "pos" if i % 2 else "neg") for i in range(48)]
    train, test = write_texts(root / "train.csv", rows[:32]), write_texts(root / "test.csv", rows[32:])
    anchors, embedded = root / "anchors.safetensors", root / "train.safetensors"
    ok("anchors", "--dataset", train, "--num", 8, "--out", anchors)
    ok("embed", "--encoder", f"hf:{tiny_bert}", "--dataset", train, "--anchors", anchors, "--out", embedded)
    head = root / "head.safetensors"
    ok("train-head", "--embeddings", embedded, "--out", head, "--space", "relative")
    return {"train": train, "test": test, "anchors": anchors, "head": head}


def copy_model(tiny_bert: Path, where: Path) -> Path:
    where.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(tiny_bert, where))


def other_weights(model: Path, seed: int) -> bytes:
    """The bytes of ``model.safetensors`` for the same architecture with other random weights."""
    from transformers import BertConfig, BertModel

    scratch = model.parent / f".scratch-{seed}"
    torch.manual_seed(seed)
    BertModel(BertConfig.from_pretrained(str(model))).save_pretrained(scratch)
    data = (scratch / "model.safetensors").read_bytes()
    shutil.rmtree(scratch)
    return data


def rewrite_keeping_stat(path: Path, data: bytes) -> None:
    """Write ``data`` into ``path`` in place (same inode) and put its mtime back: size and mtime unchanged."""
    before = path.stat()
    assert len(data) == before.st_size  # the same architecture: the same number of bytes
    with path.open("r+b") as handle:
        handle.write(data)
        handle.truncate()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def stat_only(monkeypatch) -> None:
    """Identify every model file by its stat (as a large file is), not by its bytes."""
    try:
        from stitchcli.encoders import identity
    except ImportError:  # the code before issue 28
        return
    monkeypatch.setattr(identity, "HASHED_BYTES", 0)


def change_weights(model: Path, monkeypatch) -> None:
    from transformers import BertConfig, BertModel

    torch.manual_seed(7)
    BertModel(BertConfig.from_pretrained(str(model))).save_pretrained(model)  # what a retrained model does


def change_weights_in_place(model: Path, monkeypatch) -> None:
    rewrite_keeping_stat(model / "model.safetensors", other_weights(model, 7))


def change_weights_in_place_large(model: Path, monkeypatch) -> None:
    stat_only(monkeypatch)
    rewrite_keeping_stat(model / "model.safetensors", other_weights(model, 7))


def change_config(model: Path, monkeypatch) -> None:
    config = json.loads((model / "config.json").read_text())
    config["hidden_act"] = "relu"
    (model / "config.json").write_text(json.dumps(config, indent=2))


def change_tokenizer(model: Path, monkeypatch) -> None:
    """Two words swap their token ids (tokenizer.json, which the fast tokenizer reads, and vocab.txt)."""
    tokenizer = json.loads((model / "tokenizer.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    vocab["great"], vocab["bad"] = vocab["bad"], vocab["great"]
    vocab["boring"], vocab["fun"] = vocab["fun"], vocab["boring"]
    (model / "tokenizer.json").write_text(json.dumps(tokenizer))
    words = (model / "vocab.txt").read_text().splitlines()
    swap = {"great": "bad", "bad": "great", "boring": "fun", "fun": "boring"}
    (model / "vocab.txt").write_text("\n".join(swap.get(w, w) for w in words) + "\n")


MODEL_CHANGES = {
    "weights-resaved": change_weights,
    "weights-rewritten-same-size-and-mtime": change_weights_in_place,
    "large-weights-rewritten-same-size-and-mtime": change_weights_in_place_large,
    "config-changed": change_config,
    "tokenizer-changed": change_tokenizer,
}


def tensors(path: Path) -> dict:
    return store.load(path).tensors


def same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("change", list(MODEL_CHANGES), ids=list(MODEL_CHANGES))
def test_embed_is_not_up_to_date_after_the_model_changed_in_place(change, data, tiny_bert, tmp_path, monkeypatch):
    model = copy_model(tiny_bert, tmp_path / "model")
    out = tmp_path / "emb.safetensors"
    args = ["embed", "--encoder", f"hf:{model}", "--dataset", data["test"], "--anchors", data["anchors"]]
    ok(*args, "--out", out)
    before = tensors(out)
    MODEL_CHANGES[change](model, monkeypatch)
    again = ok(*args, "--out", out, quiet=False)
    assert "up to date" not in again.stderr
    monkeypatch.setenv("STITCH_CACHE_DIR", str(tmp_path / "fresh-cache"))
    ok(*args, "--out", tmp_path / "fresh.safetensors")
    fresh = tensors(tmp_path / "fresh.safetensors")
    assert not same_tensors(before, fresh)  # the change matters: the old vectors would be wrong
    assert same_tensors(tensors(out), fresh)


def test_timm_weights_rewritten_with_the_same_size_and_mtime_are_embedded_again(timm_weights, image_npz, tmp_path):
    import timm

    (tmp_path / "w").mkdir()
    weights = Path(shutil.copy(timm_weights, tmp_path / "w" / "test_resnet.pth"))
    out = tmp_path / "emb.safetensors"
    args = ["embed", "--encoder", "timm:test_resnet", "--weights", weights, "--dataset", image_npz,
            "--device", "cpu"]
    ok(*args, "--out", out)
    before = tensors(out)
    torch.manual_seed(5)
    other = tmp_path / "other" / "test_resnet.pth"
    other.parent.mkdir()
    torch.save(timm.create_model("test_resnet", pretrained=False).state_dict(), other)
    rewrite_keeping_stat(weights, other.read_bytes())
    again = ok(*args, "--out", out, quiet=False)
    assert "up to date" not in again.stderr
    ok(*args[:4], other, *args[5:], "--out", tmp_path / "fresh.safetensors")
    fresh = tensors(tmp_path / "fresh.safetensors")
    assert not torch.equal(before["embeddings"], fresh["embeddings"])
    assert torch.equal(tensors(out)["embeddings"], fresh["embeddings"])


def predict(data, spec: str, out: Path) -> bytes:
    ok("predict", "--head", data["head"], "--encoder", spec, "--dataset", data["test"], "--out", out)
    return out.read_bytes()


def test_predict_embeds_the_anchors_again_after_the_weights_changed_in_place(data, tiny_bert, tmp_path, monkeypatch):
    model = copy_model(tiny_bert, tmp_path / "model")
    first = predict(data, f"hf:{model}", tmp_path / "p1.csv")
    change_weights(model, monkeypatch)
    again = predict(data, f"hf:{model}", tmp_path / "p2.csv")
    monkeypatch.setenv("STITCH_CACHE_DIR", str(tmp_path / "fresh-cache"))
    fresh = predict(data, f"hf:{model}", tmp_path / "fresh.csv")
    assert first != fresh and again == fresh


def test_the_same_relative_spec_in_another_folder_is_another_model(data, tiny_bert, tmp_path, monkeypatch):
    here, there = copy_model(tiny_bert, tmp_path / "a" / "model"), copy_model(tiny_bert, tmp_path / "b" / "model")
    change_weights(there, monkeypatch)
    monkeypatch.chdir(here.parent)
    first = predict(data, "hf:model", tmp_path / "p1.csv")
    monkeypatch.chdir(there.parent)
    again = predict(data, "hf:model", tmp_path / "p2.csv")
    monkeypatch.setenv("STITCH_CACHE_DIR", str(tmp_path / "fresh-cache"))
    fresh = predict(data, "hf:model", tmp_path / "fresh.csv")
    assert first != fresh and again == fresh


def test_the_python_api_loads_a_model_replaced_in_place_again(data, tiny_bert, tmp_path, monkeypatch):
    from stitchcli import load_head

    model = copy_model(tiny_bert, tmp_path / "model")
    texts = [row[0] for row in csv.reader(data["test"].open(encoding="utf-8"))][1:]
    head = load_head(data["head"])
    first = head.predict(texts, encoder=f"hf:{model}")
    change_weights(model, monkeypatch)
    again = head.predict(texts, encoder=f"hf:{model}")
    fresh = load_head(data["head"]).predict(texts, encoder=f"hf:{model}")
    assert first != fresh and again == fresh


# --- damaged, foreign and tampered cache entries -------------------------------------------------------


def remember(key: str, vectors: torch.Tensor) -> None:
    """An entry written by stitchcli's own writer (a valid checksum where the writer records one)."""
    from stitchcli.embed.anchor_cache import remember_anchors

    remember_anchors(key, vectors)


def entry_metadata(path: Path) -> dict:
    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata() or {})


def tampered(path: Path, key: str, anchors: torch.Tensor) -> None:
    save_file({"anchor_embeddings": anchors * 1.5}, str(path), metadata=entry_metadata(path))


def foreign(path: Path, key: str, anchors: torch.Tensor) -> None:
    """Another key's entry (another model's vectors for these anchors) copied over this key's file."""
    remember("0" * 16, torch.randn_like(anchors))
    shutil.copy(path.with_name("0" * 16 + ".safetensors"), path)


def truncated(path: Path, key: str, anchors: torch.Tensor) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def unreadable(path: Path, key: str, anchors: torch.Tensor) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads a file whatever its permissions")
    path.chmod(0)


def with_nan(anchors: torch.Tensor) -> torch.Tensor:
    bad = anchors.clone()
    bad[2] = float("nan")
    return bad


def with_inf(anchors: torch.Tensor) -> torch.Tensor:
    bad = anchors.clone()
    bad[0, 0] = float("inf")
    return bad


ENTRY_DAMAGE = {
    # (what is done to the entry, whether the code before issue 28 got it wrong)
    "wider": (lambda p, k, a: remember(k, torch.randn(len(a), a.shape[1] + 3)), True),
    "nan": (lambda p, k, a: remember(k, with_nan(a)), True),
    "inf": (lambda p, k, a: remember(k, with_inf(a)), True),
    "int64-dtype": (lambda p, k, a: remember(k, (a * 100).round().long()), True),
    "float16-dtype": (lambda p, k, a: remember(k, a.half()), True),
    "values-tampered-key-kept": (tampered, True),
    "another-keys-entry": (foreign, True),
    "one-row-short": (lambda p, k, a: remember(k, a[:-1]), False),
    "truncated": (truncated, False),
    "not-safetensors": (lambda p, k, a: p.write_bytes(b"not a safetensors file\n" * 10), False),
    "unreadable": (unreadable, False),
}


@pytest.mark.parametrize("damage", list(ENTRY_DAMAGE), ids=list(ENTRY_DAMAGE))
def test_a_damaged_cache_entry_is_discarded_and_the_anchors_embedded_again(damage, data, tiny_bert, tmp_path,
                                                                            monkeypatch):
    from stitchcli.data.fingerprint_cache import cache_dir
    from stitchcli.embed import job as embed_job

    args = ["embed", "--encoder", f"hf:{tiny_bert}", "--dataset", data["test"], "--anchors", data["anchors"]]
    ok(*args, "--out", tmp_path / "first.safetensors")
    reference = tensors(tmp_path / "first.safetensors")
    [entry] = list((cache_dir() / "anchor-embeddings").glob("*.safetensors"))
    ENTRY_DAMAGE[damage][0](entry, entry.stem, reference["anchor_embeddings"])

    groups = []
    real = embed_job.embed_chunks
    monkeypatch.setattr(embed_job, "embed_chunks", lambda enc, source, rows, *a, **k: (
        groups.append(a[3]), real(enc, source, rows, *a, **k))[1])
    ok(*args, "--out", tmp_path / "second.safetensors", quiet=False)
    assert "anchors" in groups  # embedded again, not read from the damaged entry
    assert same_tensors(tensors(tmp_path / "second.safetensors"), reference)
    # The entry now holds the right vectors again (or is gone).
    if entry.exists():
        with safe_open(str(entry), framework="pt") as handle:
            assert torch.equal(handle.get_tensor("anchor_embeddings"), reference["anchor_embeddings"])


# --- the identity itself: cheap, torch-free, and what it reads ----------------------------------------


def test_the_identity_imports_no_torch_and_loads_no_model(tiny_bert):
    code = ("import sys; from stitchcli.encoders.identity import encoder_identity; "
            f"encoder_identity('hf:{tiny_bert}'); encoder_identity('hf:{tiny_bert}#text'); "
            "heavy = [m for m in ('torch', 'numpy', 'transformers', 'safetensors', 'timm') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_identity_follows_a_two_tower_spec_a_hub_cache_and_a_plugins_folder(tiny_bert, tmp_path, monkeypatch):
    from stitchcli.encoders.identity import encoder_identity

    model = copy_model(tiny_bert, tmp_path / "model")
    tower, folder = encoder_identity(f"hf:{model}#text"), encoder_identity(f"st:{model}")
    (model / "1_Pooling").mkdir()
    (model / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    assert encoder_identity(f"st:{model}") != folder  # sentence-transformers' module folders count
    (model / "README.md").write_text("a model card")
    unchanged = encoder_identity(f"st:{model}")
    assert encoder_identity(f"st:{model}") == unchanged
    change_weights(model, monkeypatch)
    assert encoder_identity(f"hf:{model}#text") != tower
    # A hub id: the commit the local cache resolves it to; unresolved (the spec alone) when absent.
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    absent = encoder_identity("hf:org/name")
    refs = tmp_path / "hub" / "models--org--name" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text("a" * 40)
    first = encoder_identity("hf:org/name")
    (refs / "main").write_text("b" * 40)
    assert len({absent, first, encoder_identity("hf:org/name")}) == 3
