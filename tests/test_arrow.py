"""Parquet files, folders of Parquet shards and save_to_disk (Arrow) folders as dataset sources."""

from __future__ import annotations

import json

import pytest
import torch

from stitchcli.data import ReadOptions, load_dataset
from stitchcli.storage import store

from conftest import TEXTS
from helpers import assert_one_line_error, run_cli

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def table(rows=TEXTS):
    return pa.table({"text": [t for t, _ in rows], "label": [lab for _, lab in rows]})


def test_parquet_file_and_shard_folder_read_like_the_csv(text_csv, tmp_path):
    pq.write_table(table(), tmp_path / "one.parquet", row_group_size=5)  # three row groups
    folder = tmp_path / "shards"
    folder.mkdir()
    pq.write_table(table(TEXTS[:7]), folder / "part-0.parquet")
    pq.write_table(table(TEXTS[7:]), folder / "part-1.parquet")
    csv = load_dataset(str(text_csv))
    for source in (tmp_path / "one.parquet", folder):
        data = load_dataset(str(source))
        assert data.labels == csv.labels and data.label_names == csv.label_names
        assert [data.sample(i) for i in (11, 0, 6, 7)] == [csv.sample(i) for i in (11, 0, 6, 7)]
        assert data.modality == "text"


def test_save_to_disk_folder_with_class_label_names(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    features = {"text": {"dtype": "string", "_type": "Value"},
                "label": {"names": ["neg", "pos"], "_type": "ClassLabel"}}
    schema = pa.schema([("text", pa.string()), ("label", pa.int64())],
                       metadata={"huggingface": json.dumps({"info": {"features": features}})})
    with pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink, pa.ipc.new_stream(sink, schema) as w:
        w.write_batch(pa.record_batch([["bad film", "fun"], [0, 1]], schema=schema))
        w.write_batch(pa.record_batch([["great"], [1]], schema=schema))
    (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    data = load_dataset(str(folder))
    assert data.label_names == ["neg", "pos"] and data.labels == [0, 1, 1]
    assert data.sample(2) == "great"


def test_a_changed_file_is_another_fingerprint(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(table(), path)
    before = load_dataset(str(path)).fingerprint
    pq.write_table(table(TEXTS[::-1]), path)
    assert load_dataset(str(path)).fingerprint != before


def test_embed_from_parquet_equals_embed_from_csv(tiny_bert, text_csv, tmp_path):
    pq.write_table(table(), tmp_path / "d.parquet", row_group_size=4)
    outs = []
    for source in (tmp_path / "d.parquet", text_csv):
        outs.append(tmp_path / f"{source.suffix[1:]}.safetensors")
        result = run_cli("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", source, "--out", outs[-1])
        assert result.exit_code == 0, result.stderr
    assert torch.equal(store.load(outs[0]).tensors["embeddings"], store.load(outs[1]).tensors["embeddings"])


def test_missing_column_is_one_line(tmp_path):
    pq.write_table(pa.table({"review": ["a"], "label": ["x"]}), tmp_path / "d.parquet")
    result = run_cli("anchors", "--dataset", tmp_path / "d.parquet", "--num", 1, "--out", tmp_path / "a.safetensors")
    assert_one_line_error(result, "neither a 'text' nor an 'image' column")


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """The hub's Parquet conversion of ``org/reviews`` laid out on a local filesystem."""
    from fsspec.implementations.dirfs import DirFileSystem
    from fsspec.implementations.local import LocalFileSystem

    from stitchcli.data import hub

    root = tmp_path / "hub"
    split = root / "datasets" / "org" / "reviews@refs%2Fconvert%2Fparquet" / "default" / "train"
    split.mkdir(parents=True)
    pq.write_table(table(TEXTS[:5]), split / "0000.parquet", row_group_size=2)
    pq.write_table(table(TEXTS[5:]), split / "0001.parquet", row_group_size=3)
    opened = []

    class Recording(DirFileSystem):
        def open(self, path, *args, **kwargs):
            opened.append(path)
            return super().open(path, *args, **kwargs)

    monkeypatch.setattr(hub, "_hub_filesystem", lambda: Recording(path=str(root), fs=LocalFileSystem()))
    return {"split": split, "opened": opened}


def test_hub_streaming_reads_the_parquet_conversion_like_the_csv(fake_hub, tiny_bert, text_csv, tmp_path):
    streamed = load_dataset("hf:org/reviews", ReadOptions(streaming=True))
    csv = load_dataset(str(text_csv))
    assert streamed.labels == csv.labels and [streamed.sample(i) for i in (11, 0, 5)] == [
        csv.sample(i) for i in (11, 0, 5)]
    assert set(fake_hub["opened"]) == {f"datasets/org/reviews@refs%2Fconvert%2Fparquet/default/train/000{i}.parquet"
                                       for i in (0, 1)}
    assert load_dataset("hf:org/reviews", ReadOptions(streaming=True)).fingerprint == streamed.fingerprint
    anchors, out = tmp_path / "anchors.safetensors", tmp_path / "emb.safetensors"
    assert run_cli("anchors", "-q", "--dataset", "hf:org/reviews", "--streaming", "--num", 4,
                   "--out", anchors).exit_code == 0
    assert store.load_metadata_checked(anchors)["streaming"] == "true"
    result = run_cli("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", "hf:org/reviews", "--streaming",
                     "--anchors", anchors, "--limit", 9, "--out", out)  # anchors beyond row 9 read from the hub too
    assert result.exit_code == 0, result.stderr
    whole = tmp_path / "csv.safetensors"
    assert run_cli("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--limit", 9,
                   "--out", whole).exit_code == 0
    assert torch.allclose(store.load(out).tensors["embeddings"], store.load(whole).tensors["embeddings"], atol=1e-6)
    assert store.load(out).tensors["relative"].shape == (9, 4)


def test_hub_streaming_refusals(fake_hub, text_csv):
    assert_one_line_error(run_cli("embed", "--encoder", "hf:x", "--dataset", text_csv, "--streaming",
                                  "--out", "e.safetensors"), "--streaming is for hf:", exit_code=2)
    from stitchcli.errors import StitchError

    with pytest.raises(StitchError, match="no Parquet files for config 'default' split 'test'"):
        load_dataset("hf:org/reviews", ReadOptions(split="test", streaming=True))


def test_forked_workers_reopen_parquet_files(tmp_path):
    import os

    pq.write_table(table(), tmp_path / "one.parquet", row_group_size=5)
    data = load_dataset(str(tmp_path / "one.parquet"))
    assert data.sample(11) == TEXTS[11][0]  # the parent opened the file and cached a row group
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child starts with nothing open, and reads the same rows
        from stitchcli.data import arrow

        state = all(not rows.parquet and not rows.cache for rows in list(arrow._OPEN))
        os.write(write, json.dumps([state, data.sample(11), data.sample(0)]).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert json.loads(os.read(read, 10_000)) == [True, TEXTS[11][0], TEXTS[0][0]]
