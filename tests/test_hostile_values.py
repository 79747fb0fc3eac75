"""Hostile values (issue 28, classes 3 and 5): numbers and samples a file carries, and numbers at the edges.

Each case is an attack through the CLI on a file a user could be handed (a head, an anchor set, a source,
vectors made elsewhere) or an option at its edge. Each must end in one ``Error:`` line that names the
field, exit 1, no traceback, no "looks like a bug" hint, and no output written.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from helpers import assert_one_line_error, ok, run_cli
from synthetic import write_embeddings


def read(path: Path) -> tuple[dict, dict]:
    with safe_open(str(path), framework="pt") as handle:
        return {k: handle.get_tensor(k) for k in handle.keys()}, dict(handle.metadata() or {})


def edited(source: Path, out: Path, meta: dict | None = None, tensors: dict | None = None,
           drop: tuple[str, ...] = ()) -> Path:
    """A copy of ``source`` with metadata and tensors replaced (as an attacker edits a file)."""
    old_tensors, old_meta = read(source)
    old_meta.update(meta or {})
    old_tensors.update(tensors or {})
    for key in drop:
        old_meta.pop(key, None)
        old_tensors.pop(key, None)
    save_file(old_tensors, str(out), old_meta)
    return out


def refused(result, field: str, *never: Path) -> None:
    """One line naming ``field``, exit 1, no bug hint, and none of ``never`` written."""
    assert_one_line_error(result, field)
    assert "bug" not in result.stderr.lower(), result.stderr
    for path in never:
        assert not Path(path).exists(), f"{path} was written"


@pytest.fixture(scope="module")
def heads(world, tmp_path_factory) -> dict:
    """The world's heads and a prototype head (the one that records a temperature)."""
    root = tmp_path_factory.mktemp("hostile-heads")
    proto = root / "proto.safetensors"
    ok("train-head", "-q", "--embeddings", world["files"]["trainA"], "--arch", "prototype", "--space",
       "relative", "--out", proto)
    return {"proto": proto, "relative": world["heads"]["relative"], "absolute": world["heads"]["absolute"]}


@pytest.fixture(scope="module")
def texts(tiny_bert, text_csv, tmp_path_factory) -> dict:
    """Anchors with their samples, a file embedded with them and a relative head carrying them."""
    root = tmp_path_factory.mktemp("hostile-texts")
    anchors, emb, head = root / "anchors.safetensors", root / "train.safetensors", root / "head.safetensors"
    ok("anchors", "-q", "--dataset", text_csv, "--num", 4, "--out", anchors)
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--anchors", anchors, "--out", emb)
    ok("train-head", "-q", "--embeddings", emb, "--space", "relative", "--arch", "prototype", "--out", head)
    return {"anchors": anchors, "head": head, "encoder": f"hf:{tiny_bert}", "csv": text_csv}


# --- class 3: values a head file carries --------------------------------------------------------------

HEAD_VALUES = [
    ("proto", "temperature", "0"),
    ("proto", "temperature", "nan"),
    ("proto", "temperature", "-1"),
    ("proto", "temperature", "inf"),
    ("proto", "temperature", "-inf"),
    ("relative", "lr", "nan"),
    ("relative", "lr", "-0.5"),
    ("relative", "epochs", "0"),
    ("relative", "batch_size", "-5"),
    ("relative", "num_anchors", "0"),
    ("relative", "num_anchors", "39"),  # its anchor embeddings are 40 rows
    ("absolute", "dim", "0"),
    ("absolute", "dim", "23"),  # its anchor embeddings are 24 wide
]


@pytest.mark.parametrize(("kind", "key", "value"), HEAD_VALUES, ids=[f"{k}-{f}={v}" for k, f, v in HEAD_VALUES])
def test_a_head_value_out_of_range_is_refused(world, heads, tmp_path, kind, key, value):
    head = edited(heads[kind], tmp_path / "head.safetensors", {key: value})
    out = tmp_path / "predictions.csv"
    refused(run_cli("predict", "--head", head, "--embeddings", world["files"]["testA"], "--out", out),
            f"'{key}'", out)


def test_an_infinite_topk_power_is_refused(world, heads, tmp_path):
    head = edited(heads["relative"], tmp_path / "head.safetensors", {"topk": "5", "topk_power": "inf"})
    out = tmp_path / "predictions.csv"
    refused(run_cli("predict", "--head", head, "--embeddings", world["files"]["testA"], "--out", out),
            "'topk_power'", out)


# --- class 3: an anchor set's values and samples --------------------------------------------------------

@pytest.mark.parametrize("count", ["39", "0", "-3"])
def test_an_anchor_count_that_is_not_the_sets_is_refused(world, tmp_path, count):
    anchors = edited(world["anchors"], tmp_path / "anchors.safetensors", {"num_anchors": count})
    emb = shutil.copy(world["files"]["trainA"], tmp_path / "train.safetensors")
    out = tmp_path / "relative.safetensors"
    refused(run_cli("relative", "--embeddings", emb, "--anchors", anchors, "--out", out), "num_anchors", out)


def test_swapped_samples_under_the_same_fingerprint_are_refused(world, tmp_path):
    tensors, _ = read(world["anchors"])
    data = tensors["samples.0.data"].clone()
    data[: 8] = torch.tensor(list(b"attacker"), dtype=torch.uint8)  # same length: offsets still fit
    anchors = edited(world["anchors"], tmp_path / "anchors.safetensors", tensors={"samples.0.data": data})
    emb = shutil.copy(world["files"]["trainA"], tmp_path / "train.safetensors")
    out = tmp_path / "relative.safetensors"
    refused(run_cli("relative", "--embeddings", emb, "--anchors", anchors, "--out", out), "samples", out)


def _swapped_head(texts, tmp_path: Path, raw: bytes) -> Path:
    """The head with its first anchor sample's bytes replaced by ``raw`` (the rest, digest included, kept)."""
    tensors, meta = read(texts["head"])
    data, offsets = tensors["anchors.samples.0.data"], tensors["anchors.samples.0.offsets"]
    first = int(offsets[1])
    new_data = torch.cat([torch.tensor(list(raw), dtype=torch.uint8), data[first:]])
    new_offsets = offsets.clone()
    new_offsets[1:] += len(raw) - first
    return edited(texts["head"], tmp_path / "head.safetensors",
                  tensors={"anchors.samples.0.data": new_data, "anchors.samples.0.offsets": new_offsets})


def test_a_head_carrying_swapped_samples_is_refused(texts, tmp_path, monkeypatch):
    monkeypatch.setenv("STITCH_NO_ANCHOR_CACHE", "1")
    head = _swapped_head(texts, tmp_path, b"a great movie , really fun")
    out = tmp_path / "predictions.csv"
    refused(run_cli("predict", "--head", head, "--encoder", texts["encoder"], "--dataset", texts["csv"],
                    "--out", out), "samples", out)


@pytest.mark.parametrize("raw", [b"\xff\xfe not text", "caf\u00e9".encode()[:-1]], ids=["not-utf8", "truncated"])
def test_anchor_samples_that_are_not_utf8_end_in_one_line(texts, tmp_path, monkeypatch, raw):
    """An anchor file of before the digest (none recorded) whose first sample is not UTF-8 text."""
    monkeypatch.setenv("STITCH_NO_ANCHOR_CACHE", "1")
    tensors, _ = read(texts["anchors"])
    data, offsets = tensors["samples.0.data"], tensors["samples.0.offsets"]
    first = int(offsets[1])
    new_offsets = offsets.clone()
    new_offsets[1:] += len(raw) - first
    anchors = edited(texts["anchors"], tmp_path / "anchors.safetensors", drop=("samples_sha256",), tensors={
        "samples.0.data": torch.cat([torch.tensor(list(raw), dtype=torch.uint8), data[first:]]),
        "samples.0.offsets": new_offsets})
    other = tmp_path / "other.csv"  # not the anchors' source: the anchors are embedded from their samples
    other.write_text("text,label\nfun film,fresh\nboring plot,rotten\n", encoding="utf-8")
    out = tmp_path / "embedded.safetensors"
    refused(run_cli("embed", "--encoder", texts["encoder"], "--dataset", other, "--anchors", anchors,
                    "--out", out), "UTF-8", out)


# --- class 5: numbers at the edges ------------------------------------------------------------------

@pytest.mark.parametrize("huge", ["1e39", "-3.5e38"])
def test_a_target_beyond_float32_is_refused(world, tmp_path, huge):
    source = tmp_path / "values.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "score"])
        writer.writerows((f"sample {i}", "ant", huge if i == 3 else str(i)) for i in range(8))
    vectors = torch.randn(8, 6, generator=torch.Generator().manual_seed(0))
    emb = write_embeddings(tmp_path / "values.safetensors", source, vectors, torch.zeros(8, dtype=torch.long),
                           "synth:V", ["ant"])
    out = tmp_path / "head.safetensors"
    refused(run_cli("train-head", "--embeddings", emb, "--task", "regression", "--target-column", "score",
                    "--translate", "none", "--out", out), "score", out)


def _imported(tmp_path: Path, vectors: np.ndarray):
    ids = [f"item-{i}" for i in range(len(vectors))]
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    ok("anchors", "-q", "--ids", tmp_path / "ids.txt", "--num", 4, "--out", tmp_path / "anchors.safetensors")
    np.save(tmp_path / "vectors.npy", vectors)
    out = tmp_path / "imported.safetensors"
    return run_cli("import", tmp_path / "vectors.npy", "--ids", tmp_path / "ids.txt", "--anchors",
                   tmp_path / "anchors.safetensors", "--out", out), out


@pytest.mark.parametrize(("vectors", "field"), [
    (np.zeros((12, 0), dtype=np.float32), "dimension"),
    ((np.arange(24).reshape(12, 2) * (1 + 1j)).astype(np.complex64), "real"),
], ids=["zero-width", "complex"])
def test_vectors_that_are_no_space_do_not_import(tmp_path, vectors, field):
    result, out = _imported(tmp_path, vectors)
    refused(result, field, out)


@pytest.fixture(scope="module")
def one_anchor(world, tmp_path_factory) -> dict:
    """The world's train and test files of A, embedded relative to a single anchor."""
    root = tmp_path_factory.mktemp("one-anchor")
    anchors = root / "anchors.safetensors"
    ok("anchors", "-q", "--dataset", world["sources"]["train"], "--num", 1, "--out", anchors)
    train = shutil.copy(world["files"]["trainA"], root / "trainA.safetensors")
    ok("relative", "-q", "--embeddings", train, "--anchors", anchors)
    return {"train": train, "anchors": anchors}


@pytest.mark.parametrize("method", ["procrustes", "auto", "ridge", "affine"])
def test_a_map_on_a_single_anchor_is_refused(one_anchor, tmp_path, method):
    out = tmp_path / "head.safetensors"
    refused(run_cli("train-head", "--embeddings", one_anchor["train"], "--translate", method, "--out", out),
            "at least 2 anchors", out)


def test_negative_refinement_rounds_are_refused(world):
    files = world["files"]
    result = run_cli("sweep", "--train", files["trainA"], "--train", files["trainB"], "--test", files["testA"],
                     "--test", files["testB"], "--translate", "ridge", "--refine", "-1", "--json")
    refused(result, "--refine")
    assert not result.stdout.strip()


def test_identical_anchor_embeddings_warn(world, tmp_path):
    """Every anchor embedded at one point: a map sends every row there. Evaluated, but not silently."""
    tensors, _ = read(world["files"]["testB"])
    same = tensors["anchor_embeddings"][:1].expand_as(tensors["anchor_embeddings"]).contiguous()
    test = edited(world["files"]["testB"], tmp_path / "testB.safetensors", tensors={"anchor_embeddings": same})
    head = tmp_path / "head.safetensors"
    ok("train-head", "-q", "--embeddings", world["files"]["trainA"], "--translate", "ridge", "--out", head)
    result = run_cli("evaluate", "--head", head, "--embeddings", test)
    assert result.exit_code == 0, result.stderr
    assert "identically" in result.stderr and "chance" in result.stderr, result.stderr



TRAINING_EDGES = [
    (("--arch", "linear", "--lr", "nan"), "--lr"),
    (("--arch", "linear", "--lr", "inf"), "--lr"),
    (("--arch", "linear", "--weight-decay", "-1"), "--weight-decay"),
    (("--arch", "linear", "--weight-decay", "nan"), "--weight-decay"),
    (("--space", "relative", "--topk", "5", "--topk-power", "inf"), "--topk-power"),
    (("--arch", "linear", "--seed", str(10**23)), "--seed"),
]


@pytest.mark.parametrize(("options", "field"), TRAINING_EDGES, ids=[" ".join(o) for o, _ in TRAINING_EDGES])
def test_training_numbers_at_the_edges_are_refused(world, tmp_path, options, field):
    out = tmp_path / "head.safetensors"
    refused(run_cli("train-head", "--embeddings", world["files"]["trainA"], "--translate", "none", "--epochs", 2,
                    *options, "--out", out), field, out)


def test_a_head_with_nan_weights_is_never_written(world, tmp_path):
    """The last guard, whatever made the weights NaN: ``save_head`` refuses before writing."""
    from stitchcli.errors import StitchError
    from stitchcli.heads import load_head, save_head

    head = load_head(world["heads"]["absolute"])
    next(iter(head.module.parameters())).data.fill_(float("nan"))
    out = tmp_path / "head.safetensors"
    with pytest.raises(StitchError, match="NaN"):
        save_head(out, head)
    assert not out.exists()


def test_a_seed_beyond_64_bits_is_refused_by_anchors(world, tmp_path):
    out = tmp_path / "anchors.safetensors"
    refused(run_cli("anchors", "--dataset", world["sources"]["train"], "--num", 4, "--seed", 10**23, "--out", out),
            "--seed", out)


def test_relative_vectors_against_one_point_warn(world, one_anchor, tmp_path):
    """One anchor, centred: every relative vector is zero. Written (a user may mean it), not silently."""
    emb = shutil.copy(world["files"]["trainA"], tmp_path / "train.safetensors")
    result = run_cli("relative", "--embeddings", emb, "--anchors", one_anchor["anchors"],
                     "--out", tmp_path / "relative.safetensors")
    assert result.exit_code == 0, result.stderr
    assert "one point" in result.stderr and "chance" in result.stderr, result.stderr
