"""Parquet files, folders of Parquet shards and save_to_disk (Arrow) folders as dataset sources."""

from __future__ import annotations

import json

import pytest
import torch

from stitchcli import store
from stitchcli.data import load_dataset

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
