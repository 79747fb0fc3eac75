"""Reading and writing embeddings files a block of rows at a time: same values as whole tensors."""

from __future__ import annotations

import json
import os

import pytest
import torch

from stitchcli.errors import StitchError
from stitchcli.heads.inputs import FileInputs
from stitchcli.relspace import RelativeTransform, anchor_self_relative, relative_projection
from stitchcli.storage import store
from stitchcli.storage.rows import RowWriter, open_rows
from stitchcli.storage.shards.index import write_index
from stitchcli.storage.shards.plan import Shard

from helpers import run_cli


def columns_of(tensors: dict[str, torch.Tensor]) -> dict:
    return {name: (t.dtype, tuple(t.shape)) for name, t in tensors.items()}


def write_blocks(path, tensors, metadata, block: int, seed: int = 0) -> None:
    """Row tensors written in shuffled blocks of ``block`` rows (any order must give the same file)."""
    with RowWriter(path, "embeddings", columns_of(tensors), metadata) as writer:
        n = len(tensors["labels"])
        starts = list(range(0, n, block))
        order = torch.randperm(len(starts), generator=torch.Generator().manual_seed(seed)).tolist()
        for name, tensor in tensors.items():
            if name == "anchor_embeddings":
                writer.write(name, 0, tensor)
                continue
            for i in order:
                writer.write(name, starts[i], tensor[starts[i] : starts[i] + block])


def sample(n=50, d=6, k=9, seed=0):
    generator = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(n, d, generator=generator)
    anchors = torch.randn(k, d, generator=generator)
    return {"embeddings": embeddings, "labels": torch.randint(0, 3, (n,), generator=generator),
            "indices": torch.arange(n), "anchor_embeddings": anchors,
            "relative": relative_projection(embeddings, anchors, "cosine", True)}


META = {"encoder": "synthetic", "dataset_fingerprint": "f", "label_names": ["a", "b", "c"],
        "anchors_fingerprint": "a", "similarity": "cosine", "center": "true", "num_anchors": "9"}


def sharded(tmp_path, tensors, count: int):
    out = tmp_path / "emb.safetensors"
    n = len(tensors["labels"])
    for i in range(count):
        rows = Shard(i, count).rows(n)
        part = {name: (t if name == "anchor_embeddings" else t[rows.start : rows.stop]) for name, t in tensors.items()}
        meta = META | {"shard": f"{i}/{count}", "shard_rows": json.dumps([rows.start, rows.stop]),
                       "shard_run": "r", "output_key": f"k{i}", "num_samples": str(len(rows))}
        write_blocks(Shard(i, count).path(out), part, meta, block=4)
    return write_index(out)


@pytest.mark.parametrize("block", [1, 7, 50, 1000])
def test_a_file_written_block_by_block_in_any_order_equals_the_tensors(tmp_path, block):
    tensors = sample() | {"half": torch.randn(50, 3).half()}
    path = tmp_path / "e.safetensors"
    write_blocks(path, tensors, META, block, seed=block)
    loaded = store.load(path)  # safetensors itself reads what RowWriter wrote
    for name, tensor in tensors.items():
        assert torch.equal(loaded.tensors[name], tensor), name
    assert loaded.meta_json("label_names") == ["a", "b", "c"] and loaded.kind == "embeddings"


def test_an_incomplete_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "e.safetensors"
    store.save(path, "embeddings", {"labels": torch.arange(3)}, {})
    before = path.read_bytes()
    with pytest.raises(StitchError, match="not completely written"), \
            RowWriter(path, "embeddings", {"labels": (torch.int64, (10,))}, {}) as writer:
        writer.write("labels", 0, torch.arange(5))
    with pytest.raises(RuntimeError), RowWriter(path, "embeddings", {"labels": (torch.int64, (3,))}, {}):
        raise RuntimeError("killed half-way")
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["e.safetensors"]


def test_written_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        with RowWriter(tmp_path / "e.safetensors", "embeddings", {"labels": (torch.int64, (2,))}, {}) as writer:
            writer.write("labels", 0, torch.arange(2))
    finally:
        os.umask(old)
    assert (tmp_path / "e.safetensors").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("count", [1, 3, 7])
def test_reads_across_shards_equal_the_whole(tmp_path, count):
    tensors = sample(n=23)
    reader = open_rows(sharded(tmp_path, tensors, count))
    assert reader.num_rows == 23 and reader.shape("relative") == (23, 9)
    for name in ("embeddings", "labels", "relative"):
        assert torch.equal(reader.read(name), tensors[name])
        assert torch.equal(reader.read(name, 5, 19), tensors[name][5:19])
        assert torch.equal(torch.cat([b for _, b in reader.blocks(name, 4)]), tensors[name])
        positions = torch.tensor([22, 0, 1, 2, 7, 7, 15, 3, 21])
        assert torch.equal(reader.take(name, positions), tensors[name][positions])
    assert torch.equal(reader.read("anchor_embeddings"), tensors["anchor_embeddings"])
    with pytest.raises(StitchError, match="outside"):
        reader.take("labels", torch.tensor([23]))


@pytest.mark.parametrize("transform", [RelativeTransform(), RelativeTransform("file"),
                                       RelativeTransform("anchors"), RelativeTransform("file", 3, 3.0),
                                       RelativeTransform("none", 4)])
@pytest.mark.parametrize("block_rows", [1, 5, 10_000])
def test_file_inputs_equal_the_whole_transformed_tensor(tmp_path, transform, block_rows):
    tensors = sample(n=40)
    reader = open_rows(sharded(tmp_path, tensors, 3))
    anchor_relative = anchor_self_relative(tensors["anchor_embeddings"], "cosine", True)
    expected = transform.apply(tensors["relative"], anchor_relative)
    inputs = FileInputs(reader, "relative", transform, block_rows=block_rows)
    assert torch.allclose(inputs.all(), expected, atol=1e-6)
    positions = torch.tensor([39, 3, 3, 17])
    assert torch.allclose(inputs.take(positions), expected[positions], atol=1e-6)
    absolute = FileInputs(reader, "absolute", transform, block_rows=block_rows)
    assert torch.equal(absolute.all(), tensors["embeddings"])  # no transform on absolute inputs


def test_file_inputs_refuse_non_finite_values(tmp_path):
    tensors = sample(n=20)
    tensors["relative"][13, 2] = float("nan")
    reader = open_rows(sharded(tmp_path, tensors, 2))
    for transform in (RelativeTransform(), RelativeTransform("file")):
        with pytest.raises(StitchError, match="NaN or infinite"):
            FileInputs(reader, "relative", transform, block_rows=3)


@pytest.mark.parametrize("arch", ["prototype", "mlp"])
def test_heads_trained_on_an_index_equal_heads_trained_on_the_joined_file(tmp_path, arch):
    tensors = sample(n=60)
    index = sharded(tmp_path, tensors, 4)
    assert run_cli("merge", tmp_path / "emb.safetensors", "--concat", "-q").exit_code == 0
    heads = []
    for source, name in ((index, "a"), (tmp_path / "emb.safetensors", "b")):
        head = tmp_path / f"{name}.safetensors"
        result = run_cli("train-head", "-q", "--arch", arch, "--epochs", 2, "--embeddings", source, "--out", head)
        assert result.exit_code == 0, result.stderr
        heads.append(store.load(head))
    for name, tensor in heads[0].tensors.items():
        assert torch.equal(tensor, heads[1].tensors[name]), name
    assert heads[0].metadata["train_accuracy"] == heads[1].metadata["train_accuracy"]


def test_relative_streams_the_same_vectors_as_the_whole_projection(tmp_path):
    from stitchcli.relspace.job import recompute_relative

    tensors = sample(n=30)
    index = sharded(tmp_path, tensors, 3)
    anchors = tmp_path / "anchors.safetensors"
    store.save(anchors, "anchors", {"indices": torch.arange(9), "labels": torch.zeros(9, dtype=torch.long)},
               {"dataset": "d", "split": "s", "dataset_fingerprint": "other", "anchors_fingerprint": "a",
                "strategy": "random", "seed": "0", "num_anchors": "9", "label_names": ["a", "b", "c"],
                "modality": "text", "num_rows": "30", "samples": "none"})
    # Same anchor set as the file's ("a"): its anchor embeddings are taken from the file.
    out = tmp_path / "rel.safetensors"
    recompute_relative(index, anchors, "cosine+euclidean", False, None, out, block_rows=4)
    written = store.load(out)
    expected = relative_projection(tensors["embeddings"], tensors["anchor_embeddings"], "cosine+euclidean", False)
    assert torch.allclose(written.tensors["relative"], expected, atol=1e-6)
    assert torch.equal(written.tensors["embeddings"], tensors["embeddings"])
    assert written.metadata["similarity"] == "cosine+euclidean" and written.metadata["center"] == "false"


def test_trained_heads_read_batches_from_disk_beyond_the_memory_budget(tmp_path, monkeypatch):
    from stitchcli.heads import inputs as head_inputs
    from stitchcli.heads import training

    tensors = sample(n=60)
    index = sharded(tmp_path, tensors, 3)
    heads, taken, real = [], [], head_inputs.FileInputs.take
    monkeypatch.setattr(head_inputs.FileInputs, "take", lambda self, p: (taken.append(len(p)), real(self, p))[1])
    for budget in (1 << 30, 0):  # in memory, then batch by batch from disk
        monkeypatch.setattr(training, "TRAIN_IN_MEMORY_BYTES", budget)
        taken.clear()
        out = tmp_path / f"h{budget}.safetensors"
        result = run_cli("train-head", "-q", "--arch", "mlp", "--epochs", 2, "--embeddings", index, "--out", out)
        assert result.exit_code == 0, result.stderr
        heads.append(store.load(out))
        assert bool(taken) == (budget == 0)
    for name, tensor in heads[0].tensors.items():
        assert torch.equal(tensor, heads[1].tensors[name]), name
