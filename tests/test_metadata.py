"""Typed file metadata: every kind reads back what it wrote, key by key, and refuses bad values in one line."""

from __future__ import annotations

import json

import pytest
import torch

from stitchcli.errors import StitchError
from stitchcli.metadata import AnchorSetMeta, EmbeddingsMeta, HeadMeta, RelativeSpec, ShardInfo
from stitchcli.storage import store
from stitchcli.storage.plain import FORMAT_VERSION

from helpers import assert_one_line_error, run_cli

ANCHORS = {"dataset": "/data/train.csv", "split": "train", "dataset_fingerprint": "f1", "anchors_fingerprint": "a1",
           "strategy": "random", "seed": "0", "num_anchors": "3", "label_names": '["x", "y"]',
           "text_column": "text", "label_column": "label", "image_column": "image", "modality": "text",
           "num_rows": "10", "samples": "stored", "made_by_a_plugin": "kept"}
EMBEDDINGS = {"encoder": "hf:m", "pooling": "mean", "modality": "text", "max_length": "128", "dtype": "float32",
              "dataset": "/data/train.csv", "split": "train", "dataset_fingerprint": "f1",
              "label_names": '["x", "y"]', "num_samples": "10", "dim": "4", "text_column": "text",
              "label_column": "label", "image_column": "image", "output_key": "k", "shard": "1/2",
              "shard_rows": "[5, 10]", "shard_run": "r", "anchors_fingerprint": "a1", "similarity": "cosine",
              "center": "true", "num_anchors": "3", "anchors_dataset": "/data/train.csv",
              "anchors_dataset_fingerprint": "f1", "anchors_file": "/data/a.safetensors"}
HEAD = {"arch": "mlp", "task": "classification", "in_dim": "4", "num_classes": "2", "hidden": "16",
        "activation": "silu", "space": "relative", "encoder": "hf:m", "label_names": '["x", "y"]',
        "normalize": "file", "topk": "25", "topk_power": "3.0", "seed": "0", "train_file": "t.safetensors",
        "dataset": "/data/train.csv", "dataset_fingerprint": "f1", "dim": "4", "train_accuracy": "0.916667",
        "epochs": "10", "lr": "0.0001", "batch_size": "32", "anchors_fingerprint": "a1", "similarity": "cosine",
        "center": "true", "num_anchors": "3", "anchor_set": json.dumps(ANCHORS, sort_keys=True),
        "anchor_samples": "stored", "translate": "ridge"}


@pytest.mark.parametrize(("kind", "meta"), [(AnchorSetMeta, ANCHORS), (EmbeddingsMeta, EMBEDDINGS), (HeadMeta, HEAD)])
def test_every_kind_writes_back_what_it_read_key_by_key(kind, meta):
    parsed = kind.from_metadata(meta, "f")
    assert parsed.to_metadata() == meta
    assert kind.from_metadata(parsed.to_metadata(), "f") == parsed


def test_values_are_typed_once_with_one_default():
    embeddings = EmbeddingsMeta.from_metadata(EMBEDDINGS, "f")
    assert embeddings.relative == RelativeSpec("a1", "cosine", True, 3)
    assert embeddings.shard == ShardInfo(1, 2, 5, 10, "r") and str(embeddings.shard) == "1/2"
    assert embeddings.dim == 4 and embeddings.has_labels and embeddings.read.text_column == "text"
    head = HeadMeta.from_metadata(HEAD, "h")
    assert head.scores == {"train_accuracy": 0.916667} and head.lr == 1e-4 and head.topk_power == 3.0
    assert head.carried_anchors("h") == AnchorSetMeta.from_metadata(ANCHORS, "a")
    # "no map" is None inside, whichever way a file spells it
    assert HeadMeta.from_metadata(HEAD | {"translate": "none"}, "h").translate is None
    plain = HeadMeta.from_metadata({k: v for k, v in HEAD.items() if k not in ("hidden", "activation")}, "h")
    assert plain.hidden == 768 and plain.activation == "silu"  # stitchcli.defaults, in one place


def test_files_of_other_tools_keep_what_they_leave_out():
    meta = {"encoder": "synth:x", "label_names": '["a"]'}
    parsed = EmbeddingsMeta.from_metadata(meta, "f")
    assert parsed.dim is None and parsed.relative is None and parsed.read_options.text_column == "text"
    assert parsed.to_metadata() == meta


@pytest.mark.parametrize(("kind", "meta", "change", "message"), [
    (HeadMeta, HEAD, {"in_dim": "four"}, "'in_dim' must be an integer"),
    (HeadMeta, HEAD, {"in_dim": "0"}, "in_dim must be positive"),
    (HeadMeta, HEAD, {"topk_power": "x"}, "'topk_power' must be a number"),
    (HeadMeta, HEAD, {"center": "yes"}, "'center' must be true or false"),
    (HeadMeta, HEAD, {"anchor_set": "{"}, "anchor_set entry is unreadable"),
    (EmbeddingsMeta, EMBEDDINGS, {"label_names": "[1]"}, "label_names must be a JSON list of strings"),
    (EmbeddingsMeta, EMBEDDINGS, {"shard": "one"}, "must read I/N"),
    (AnchorSetMeta, ANCHORS, {"samples": "maybe"}, "samples must be stored or none"),
    (AnchorSetMeta, ANCHORS, {"views": "{}"}, "views must be a JSON list"),
])
def test_bad_values_are_refused_naming_file_and_key(kind, meta, change, message):
    with pytest.raises(StitchError, match=message):
        parsed = kind.from_metadata(meta | change, "f")
        if kind is HeadMeta:
            parsed.carried_anchors("f")


@pytest.mark.parametrize("key", ["arch", "encoder", "label_names", "normalize"])
def test_a_missing_required_key_is_one_line(key):
    with pytest.raises(StitchError, match=f"missing metadata '{key}'"):
        HeadMeta.from_metadata({k: v for k, v in HEAD.items() if k != key}, "h")


def test_every_file_records_its_format_version_and_a_newer_one_is_refused(tmp_path):
    path = tmp_path / "e.safetensors"
    store.save(path, "embeddings", {"embeddings": torch.zeros(2, 4)}, {"encoder": "x", "label_names": []})
    assert store.read_metadata(path)["format_version"] == str(FORMAT_VERSION)
    newer = tmp_path / "newer.safetensors"
    from safetensors.torch import save_file

    save_file({"embeddings": torch.zeros(2, 4)}, str(newer), metadata={
        "format": "stitchcli", "kind": "embeddings", "format_version": str(FORMAT_VERSION + 1),
        "encoder": "x", "label_names": "[]"})
    result = run_cli("info", newer)
    assert_one_line_error(result, f"is in stitchcli's file format {FORMAT_VERSION + 1}")
    assert "upgrade stitchcli" in result.stderr
