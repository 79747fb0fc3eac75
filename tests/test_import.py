"""`stitch import`: vectors made elsewhere, anchors chosen by id (`stitch anchors --ids`), an ordinary
embeddings file that equals the one `embed` writes for the same vectors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from stitchcli.storage import store

from conftest import TEXTS
from helpers import assert_one_line_error, ok, run_cli


@pytest.fixture(scope="module")
def made_elsewhere(tiny_bert, text_csv, tmp_path_factory):
    """The tiny BERT's vectors of the 12 reviews, exported as .npy with ids and labels files, and the
    same rows embedded by stitch with anchors chosen the same way."""
    root = tmp_path_factory.mktemp("import")
    plain = root / "plain.safetensors"
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", plain)
    vectors = store.load(plain).tensors["embeddings"].numpy()
    np.save(root / "vectors.npy", vectors)
    ids = [f"review-{i}" for i in range(len(TEXTS))]
    (root / "ids.txt").write_text("\n".join(ids) + "\n")
    (root / "labels.txt").write_text("\n".join(label for _, label in TEXTS) + "\n")
    ok("anchors", "-q", "--ids", root / "ids.txt", "--num", 4, "--out", root / "id-anchors.safetensors")
    ok("anchors", "-q", "--dataset", text_csv, "--num", 4, "--out", root / "row-anchors.safetensors")
    embedded = root / "embedded.safetensors"
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--anchors",
       root / "row-anchors.safetensors", "--out", embedded)
    return {"root": root, "ids": ids, "vectors": vectors, "embedded": embedded}


def test_anchors_by_id_and_an_import_equal_to_embed(made_elsewhere):
    root = made_elsewhere["root"]
    # The same count, seed and strategy over 12 ids as over 12 rows: the same positions.
    assert torch.equal(store.load(root / "id-anchors.safetensors").tensors["indices"],
                       store.load(root / "row-anchors.safetensors").tensors["indices"])
    out = root / "imported.safetensors"
    summary = json.loads(ok("import", root / "vectors.npy", "--ids", root / "ids.txt", "--labels",
                            root / "labels.txt", "--anchors", root / "id-anchors.safetensors", "--out", out,
                            "--json"))
    assert summary == {"embeddings": str(out), "encoder": "import:vectors.npy", "num_samples": 12, "dim": 32,
                       "num_anchors": 4}
    imported, embedded = store.load(out), store.load(made_elsewhere["embedded"])
    for name in ("embeddings", "anchor_embeddings", "relative", "labels"):
        assert torch.allclose(imported.tensors[name].float(), embedded.tensors[name].float(), atol=1e-6), name
    assert imported.meta_json("label_names") == embedded.meta_json("label_names")
    # An ordinary embeddings file: heads train on it and evaluate it.
    head = root / "head.safetensors"
    ok("train-head", "-q", "--embeddings", out, "--space", "relative", "--out", head)
    [result] = json.loads(ok("evaluate", "--head", head, "--embeddings", out, "--json"))["results"]
    assert result["encoder"] == "import:vectors.npy" and result["num_samples"] == 12


def test_ids_in_another_order_find_the_same_anchors(made_elsewhere, tmp_path):
    root = made_elsewhere["root"]
    order = np.random.default_rng(0).permutation(12)
    np.savez(tmp_path / "shuffled.npz", embeddings=made_elsewhere["vectors"][order],
             ids=np.array(made_elsewhere["ids"])[order])
    out = tmp_path / "shuffled.safetensors"
    ok("import", tmp_path / "shuffled.npz", "--ids", "ids", "--anchors", root / "id-anchors.safetensors",
       "--out", out, "-q")
    straight = tmp_path / "straight.safetensors"
    ok("import", root / "vectors.npy", "--ids", root / "ids.txt", "--anchors", root / "id-anchors.safetensors",
       "--out", straight, "-q")
    assert torch.allclose(store.load(out).tensors["relative"],
                          store.load(straight).tensors["relative"][torch.from_numpy(order)], atol=1e-6)
    assert store.load_metadata_checked(out)["labelled"] == "false"


def test_import_refusals(made_elsewhere, text_csv, tmp_path):
    root = made_elsewhere["root"]
    anchors = root / "id-anchors.safetensors"
    vectors = made_elsewhere["vectors"]
    wanted = store.load(anchors).tensors["indices"].tolist()
    keep = [i for i in range(12) if i != wanted[0]]  # one anchor's vector is missing
    np.save(tmp_path / "some.npy", vectors[keep])
    (tmp_path / "some.txt").write_text("\n".join(made_elsewhere["ids"][i] for i in keep))
    assert_one_line_error(run_cli("import", tmp_path / "some.npy", "--ids", tmp_path / "some.txt", "--anchors",
                                  anchors, "--out", tmp_path / "o.safetensors"), "1 of the 4 anchors' ids")
    (tmp_path / "twice.txt").write_text("\n".join(made_elsewhere["ids"][:11] + ["review-0"]))
    assert_one_line_error(run_cli("import", root / "vectors.npy", "--ids", tmp_path / "twice.txt", "--anchors",
                                  anchors, "--out", tmp_path / "o.safetensors"), "appears twice")
    (tmp_path / "short.txt").write_text("\n".join(made_elsewhere["ids"][:5]))
    assert_one_line_error(run_cli("import", root / "vectors.npy", "--ids", tmp_path / "short.txt", "--anchors",
                                  anchors, "--out", tmp_path / "o.safetensors"), "5 ids for 12 vectors")
    assert_one_line_error(run_cli("import", root / "vectors.npy", "--ids", root / "ids.txt", "--anchors",
                                  root / "row-anchors.safetensors", "--out", tmp_path / "o.safetensors"),
                          "not from ids")
    assert_one_line_error(run_cli("anchors", "--dataset", text_csv, "--ids", root / "ids.txt", "--num", 2,
                                  "--out", tmp_path / "a.safetensors"), "either --dataset", exit_code=2)
    assert not (tmp_path / "o.safetensors").exists()


def test_test_vectors_take_the_anchors_from_the_train_file(made_elsewhere, tmp_path):
    """Test vectors hold no anchor: their anchors' vectors come from the same model's train file, and the
    relative vectors equal those of the rows in the train import."""
    root = made_elsewhere["root"]
    train = tmp_path / "train.safetensors"
    ok("import", root / "vectors.npy", "--ids", root / "ids.txt", "--anchors", root / "id-anchors.safetensors",
       "--out", train, "-q")
    held = [1, 5, 6, 9]  # rows that are not anchors
    anchors = store.load(root / "id-anchors.safetensors").tensors["indices"].tolist()
    held = [i for i in held if i not in anchors]
    np.save(tmp_path / "test.npy", made_elsewhere["vectors"][held])
    (tmp_path / "test-ids.txt").write_text("\n".join(f"review-{i}" for i in held) + "\n")
    test = tmp_path / "test.safetensors"
    result = run_cli("import", tmp_path / "test.npy", "--ids", tmp_path / "test-ids.txt", "--anchors",
                     root / "id-anchors.safetensors", "--out", test)
    assert_one_line_error(result, "anchors' ids are not among")
    assert "--anchor-embeddings-from" in result.stderr
    ok("import", tmp_path / "test.npy", "--ids", tmp_path / "test-ids.txt", "--anchors",
       root / "id-anchors.safetensors", "--anchor-embeddings-from", train, "--out", test, "-q")
    assert torch.allclose(store.load(test).tensors["relative"], store.load(train).tensors["relative"][held],
                          atol=1e-6)
    assert store.load_metadata_checked(test)["anchors_fingerprint"] == \
        store.load_metadata_checked(train)["anchors_fingerprint"]
    # A file of another anchor set is refused.
    result = run_cli("import", tmp_path / "test.npy", "--ids", tmp_path / "test-ids.txt", "--anchors",
                     root / "id-anchors.safetensors", "--anchor-embeddings-from", made_elsewhere["embedded"],
                     "--out", tmp_path / "other.safetensors")
    assert_one_line_error(result, "no anchor embeddings of anchor set")
