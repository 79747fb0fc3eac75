"""The documented shell flow on a tiny model, through real processes: anchors → embed → train → evaluate."""

from __future__ import annotations

import json

import torch

from stitchcli.storage import store

from helpers import run_cli, run_subprocess


def ok(*args) -> str:
    result = run_subprocess(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def ok_in_process(*args) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_full_flow_from_the_shell(tiny_bert, text_csv, text_jsonl, tmp_path):
    anchors = tmp_path / "anchors.safetensors"
    ok("anchors", "--dataset", text_csv, "--num", 4, "--strategy", "stratified", "--out", anchors)
    train = tmp_path / "train.safetensors"
    ok("embed", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--anchors", anchors, "--out", train)
    file = store.load(train)
    assert file.tensors["relative"].shape == (12, 4)
    assert file.tensors["anchor_embeddings"].shape == (4, 32)
    rows = store.load(anchors).tensors["indices"]
    # The anchors were embedded by the same encoder: they equal those rows of the train file.
    assert torch.allclose(file.tensors["anchor_embeddings"], file.tensors["embeddings"][rows], atol=1e-5)
    assert file.metadata["similarity"] == "cosine"
    assert file.metadata["anchors_fingerprint"] == store.load(anchors).metadata["anchors_fingerprint"]

    # JSONL stars are other labels than fresh/rotten: evaluation is refused with a clear line.
    other = tmp_path / "other.safetensors"
    ok_in_process("embed", "--encoder", f"hf:{tiny_bert}", "--dataset", text_jsonl, "--text-column", "review",
       "--label-column", "stars", "--anchors", anchors, "--out", other)

    head = tmp_path / "head.safetensors"
    summary = json.loads(ok("train-head", "--embeddings", train, "--space", "relative", "--epochs", 5,
                                 "--json", "--out", head))
    assert summary["space"] == "relative" and 0 <= summary["train_accuracy"] <= 1
    report = json.loads(ok("evaluate", "--head", head, "--embeddings", train, "--json"))
    assert report["results"][0]["stitched"] is False and report["results"][0]["num_samples"] == 12
    refused = run_cli("evaluate", "--head", head, "--embeddings", other)
    assert refused.exit_code == 1 and "labels" in refused.stderr

    recomputed = tmp_path / "angular.safetensors"
    ok_in_process("relative", "--embeddings", train, "--anchors", anchors, "--similarity", "angular", "--out", recomputed)
    assert store.load(recomputed).metadata["similarity"] == "angular"
    assert "anchors" in ok_in_process("info", anchors)
