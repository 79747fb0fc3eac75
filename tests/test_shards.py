"""Sharded embeds: --shard I/N and torchrun ranks, `stitch merge`, and readers that take the index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from stitchcli.storage import store
from stitchcli.storage.shards.plan import Shard, from_environment, parse_shard

from helpers import assert_one_line_error, run_cli


def embed(tiny_bert, text_csv, out, *extra):
    # Batch size 1: no padding, so a row's vector does not depend on which shard batches it.
    result = run_cli("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out,
                     "--batch-size", 1, *extra)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture
def sharded(tiny_bert, text_csv, tmp_path):
    anchors = tmp_path / "anchors.safetensors"
    assert run_cli("anchors", "-q", "--dataset", text_csv, "--num", 4, "--out", anchors).exit_code == 0
    whole = tmp_path / "whole.safetensors"
    embed(tiny_bert, text_csv, whole, "--anchors", anchors)
    out = tmp_path / "emb.safetensors"
    for i in range(3):
        embed(tiny_bert, text_csv, out, "--anchors", anchors, "--shard", f"{i}/3")
    return {"whole": whole, "out": out, "anchors": anchors}


def test_shards_cover_contiguous_rows_named_like_the_hub():
    assert [list(Shard(i, 3).rows(10)) for i in range(3)] == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert Shard(0, 3).path("x/emb.safetensors").name == "emb-00001-of-00003.safetensors"
    assert parse_shard("2/4") == Shard(2, 4)
    assert from_environment({"WORLD_SIZE": "4", "RANK": "3"}) == Shard(3, 4)
    assert from_environment({"SLURM_ARRAY_TASK_ID": "11", "SLURM_ARRAY_TASK_MIN": "10",
                             "SLURM_ARRAY_TASK_COUNT": "3"}) == Shard(1, 3)
    assert from_environment({}) is None


@pytest.mark.parametrize("bad", ["3/3", "1", "a/b", "-1/2"])
def test_bad_shard_values_exit_2(tiny_bert, text_csv, tmp_path, bad):
    result = run_cli("embed", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--shard", bad,
                     "--out", tmp_path / "e.safetensors")
    assert_one_line_error(result, "--shard takes INDEX/COUNT", exit_code=2)


def test_merged_shards_equal_a_whole_run(sharded, tmp_path):
    out = sharded["out"]
    assert run_cli("merge", out, "--concat", "-q").exit_code == 0
    index = json.loads((tmp_path / "emb.safetensors.index.json").read_text())
    assert [s["rows"] for s in index["shards"]] == [[0, 4], [4, 8], [8, 12]] and index["num_samples"] == 12
    whole = store.load(sharded["whole"])
    for merged in (store.load(out), store.load(tmp_path / "emb.safetensors.index.json")):
        for name in ("embeddings", "labels", "indices", "relative", "anchor_embeddings"):
            assert torch.equal(merged.tensors[name], whole.tensors[name]), name
        assert merged.metadata["num_samples"] == "12" and "shard" not in merged.metadata


def test_every_reader_takes_the_index(sharded, tmp_path):
    run_cli("merge", sharded["out"], "-q")
    index = tmp_path / "emb.safetensors.index.json"
    head = tmp_path / "head.safetensors"
    assert run_cli("train-head", "-q", "--embeddings", index, "--out", head).exit_code == 0
    results = [json.loads(run_cli("evaluate", "--head", head, "--embeddings", f, "--json").stdout)["results"][0]
               for f in (index, sharded["whole"])]
    assert results[0]["accuracy"] == results[1]["accuracy"] and results[0]["num_samples"] == 12
    info = json.loads(run_cli("info", index, "--json").stdout)
    assert info["tensors"]["embeddings"]["shape"][0] == 12
    assert run_cli("compare", index, sharded["whole"], "--k", 3).exit_code == 0


def test_a_missing_or_foreign_shard_is_refused(sharded, tiny_bert, text_csv, tmp_path):
    out = sharded["out"]
    (tmp_path / "emb-00002-of-00003.safetensors").unlink()
    assert_one_line_error(run_cli("merge", out), "1 of the 3 shards")
    embed(tiny_bert, text_csv, out, "--shard", "1/3")  # another run: no anchors
    assert_one_line_error(run_cli("merge", out), "different runs")
    assert not (tmp_path / "emb.safetensors.index.json").exists()


def test_torchrun_ranks_write_shards_and_rank_0_the_index(tiny_bert, text_csv, tmp_path):
    out = tmp_path / "emb.safetensors"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29571",
         "-m", "stitchcli", "embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", str(text_csv),
         "--batch-size", "1", "--device", "cpu", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "emb-00001-of-00002.safetensors", "emb-00002-of-00002.safetensors", "emb.safetensors.index.json"]
    whole = tmp_path / "whole.safetensors"
    embed(tiny_bert, text_csv, whole)
    # The ranks run with one thread each (torchrun's default), this process with two: equal up to
    # the float rounding of another thread count.
    assert torch.allclose(store.load(f"{out}.index.json").tensors["embeddings"],
                          store.load(whole).tensors["embeddings"], atol=1e-5)


def test_relative_on_an_index_needs_an_out(sharded, tmp_path):
    run_cli("merge", sharded["out"], "-q")
    index = tmp_path / "emb.safetensors.index.json"
    assert_one_line_error(run_cli("relative", "--embeddings", index, "--anchors", sharded["anchors"]),
                          "shard index")
    out = tmp_path / "angular.safetensors"
    result = run_cli("relative", "--embeddings", index, "--anchors", sharded["anchors"], "--similarity",
                     "angular", "--out", out, "-q")
    assert result.exit_code == 0, result.stderr
    assert store.load(out).tensors["relative"].shape == (12, 4)


def test_opening_an_index_reads_each_shard_header_once(sharded, monkeypatch):
    from stitchcli.storage import open_rows, plain

    run_cli("merge", sharded["out"], "-q")
    read = []
    real = plain.read_header
    monkeypatch.setattr(plain, "read_header", lambda path, fd=None: (read.append(path.name), real(path, fd))[1])
    reader = open_rows(f"{sharded['out']}.index.json")
    assert reader.num_rows == 12
    assert sorted(read) == sorted(set(read)) and len(read) == 3  # three shards, one read each


def test_shard_status_line_names_the_file_written(tiny_bert, text_csv, tmp_path):
    out = tmp_path / "e.safetensors"
    result = run_cli("embed", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--shard", "0/2",
                     "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "e-00001-of-00002.safetensors (shard 1 of 2)" in result.stderr
    assert "{INDEX+1:05d}" in run_cli("embed", "--help").stdout

