"""Unlabelled data: every source format reads without labels (column absent or --label-column none),
embeddings record it, train-head / evaluate / sweep / run refuse it in one line, the rest accept it."""

from __future__ import annotations

import csv
import json
import sys
import types

import numpy as np
import pytest

from stitchcli.data import ReadOptions, load_dataset
from stitchcli.errors import StitchError
from stitchcli.storage import store

from conftest import TEXTS, make_images, write_idx
from helpers import assert_one_line_error, run_cli

NONE = ReadOptions(label_column="none")


def write_csv(path, header, rows, delimiter=","):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def check_unlabelled(data, count: int, first=None) -> None:
    assert not data.labelled and data.label_names == [] and data.labels == [-1] * count
    assert len(data) == count
    if first is not None:
        assert data.sample(0) == first


def test_text_tables_without_a_label_column(tmp_path):
    texts = [t for t, _ in TEXTS]
    check_unlabelled(load_dataset(str(write_csv(tmp_path / "u.csv", ["text"], [[t] for t in texts]))), 12, texts[0])
    check_unlabelled(load_dataset(str(write_csv(tmp_path / "u.tsv", ["text"], [[t] for t in texts], "\t"))), 12)
    jsonl = tmp_path / "u.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    check_unlabelled(load_dataset(str(jsonl)), 12, texts[0])


def test_label_column_none_ignores_labels_and_a_named_column_must_exist(text_csv):
    check_unlabelled(load_dataset(str(text_csv), NONE), 12, TEXTS[0][0])
    with pytest.raises(StitchError, match="no label column 'stars'") as error:
        load_dataset(str(text_csv), ReadOptions(label_column="stars"))
    assert "--label-column none" in error.value.hint


def test_parquet_and_save_to_disk_without_labels(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"text": [t for t, _ in TEXTS]}), tmp_path / "u.parquet", row_group_size=5)
    check_unlabelled(load_dataset(str(tmp_path / "u.parquet")), 12, TEXTS[0][0])
    pq.write_table(pa.table({"text": [t for t, _ in TEXTS], "label": [lab for _, lab in TEXTS]}),
                   tmp_path / "l.parquet")
    check_unlabelled(load_dataset(str(tmp_path / "l.parquet"), NONE), 12)
    folder = tmp_path / "saved"
    folder.mkdir()
    schema = pa.schema([("text", pa.string())])
    with pa.OSFile(str(folder / "data.arrow"), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
        writer.write_batch(pa.record_batch([["bad film", "fun"]], schema=schema))
    (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data.arrow"}]}))
    check_unlabelled(load_dataset(str(folder)), 2, "bad film")


def test_hub_datasets_without_labels(monkeypatch):
    class Table:
        column_names = ["text"]
        features = {"text": object()}
        _fingerprint = "abc"

        def __len__(self):
            return 3

        def __getitem__(self, key):
            return {"text": f"row {key}"} if isinstance(key, int) else [f"row {i}" for i in range(3)]

    fake = types.ModuleType("datasets")
    fake.load_dataset = lambda name, config, split: Table()
    monkeypatch.setitem(sys.modules, "datasets", fake)
    check_unlabelled(load_dataset("hf:org/unlabelled"), 3, "row 0")


def test_hub_streaming_without_labels(tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from fsspec.implementations.dirfs import DirFileSystem
    from fsspec.implementations.local import LocalFileSystem

    from stitchcli.data import hub

    split = tmp_path / "datasets" / "org" / "u@refs%2Fconvert%2Fparquet" / "default" / "train"
    split.mkdir(parents=True)
    pq.write_table(pa.table({"text": ["a", "b", "c"]}), split / "0000.parquet")
    monkeypatch.setattr(hub, "_hub_filesystem", lambda: DirFileSystem(path=str(tmp_path), fs=LocalFileSystem()))
    check_unlabelled(load_dataset("hf:org/u", ReadOptions(streaming=True)), 3, "a")


def test_image_sources_without_labels(tmp_path, image_folder):
    from PIL import Image

    images, _ = make_images(n=5, size=8)
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, array in enumerate(images):
        Image.fromarray(array).save(flat / f"img{i}.png")
    data = load_dataset(str(flat))
    check_unlabelled(data, 5)
    assert np.array_equal(np.asarray(data.sample(2)), images[2]) and data.get_raw(0)[:4] == b"\x89PNG"
    check_unlabelled(load_dataset(str(image_folder), NONE), 9)  # every image under the class folders
    np.savez(tmp_path / "u.npz", images=images)
    check_unlabelled(load_dataset(str(tmp_path / "u.npz")), 5)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images)  # no labels file beside it
    check_unlabelled(load_dataset(str(tmp_path / "t10k-images-idx3-ubyte")), 5)


@pytest.fixture(scope="module")
def unlabelled_files(tiny_bert, tmp_path_factory):
    root = tmp_path_factory.mktemp("unlabelled")
    data = write_csv(root / "u.csv", ["text"], [[t] for t, _ in TEXTS])
    anchors, out = root / "anchors.safetensors", root / "u.safetensors"
    assert run_cli("anchors", "-q", "--dataset", data, "--num", 4, "--out", anchors).exit_code == 0
    result = run_cli("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", data, "--anchors", anchors,
                     "--out", out)
    assert result.exit_code == 0, result.stderr
    return {"data": data, "anchors": anchors, "embeddings": out, "root": root}


def test_embeddings_record_that_they_have_no_labels(unlabelled_files):
    meta = store.load_metadata_checked(unlabelled_files["embeddings"])
    assert meta["labelled"] == "false" and json.loads(meta["label_names"]) == []
    assert not store.is_labelled(meta)
    assert store.load(unlabelled_files["embeddings"]).tensors["labels"].eq(-1).all()


def test_commands_that_need_labels_refuse_in_one_line(unlabelled_files, world, tmp_path):
    emb = unlabelled_files["embeddings"]
    assert_one_line_error(run_cli("train-head", "--embeddings", emb, "--out", tmp_path / "h.safetensors"),
                          "unlabelled data, so it cannot train a head")
    assert_one_line_error(run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", emb),
                          "unlabelled")
    assert_one_line_error(run_cli("sweep", "--train", emb, "--test", emb), "unlabelled")
    assert_one_line_error(run_cli("run", "hf:a/x", "hf:b/y", "--train", unlabelled_files["data"], "--test",
                                  unlabelled_files["data"], "--out-dir", tmp_path / "run"), "no labels")
    assert not (tmp_path / "h.safetensors").exists()


def test_other_commands_accept_unlabelled_files(unlabelled_files, tmp_path):
    assert run_cli("info", unlabelled_files["embeddings"]).exit_code == 0
    result = run_cli("relative", "--embeddings", unlabelled_files["embeddings"], "--anchors",
                     unlabelled_files["anchors"], "--out", tmp_path / "r.safetensors", "-q")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(run_cli("anchors", "--dataset", unlabelled_files["data"], "--num", 3, "--strategy",
                                 "stratified", "--out", tmp_path / "a.safetensors", "--json").stdout)
    assert summary["per_class"] == {} and summary["samples"] == "stored"
