"""Zero-shot stitching through the CLI on synthetic encoders related by rotation + scaling + noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from stitchcli.storage import store

from helpers import assert_one_line_error, run_cli
from synthetic import CLASSES, ok


def evaluate_json(*args) -> list[dict]:
    return json.loads(ok("evaluate", "--json", *args))["results"]


def test_relative_head_stitches_and_absolute_falls_to_chance(world):
    files, heads = world["files"], world["heads"]
    relative = evaluate_json("--head", heads["relative"], "--embeddings", files["testA"],
                             "--embeddings", files["testB"], "--embeddings", files["testC"])
    own, stitched_b, stitched_c = (r["accuracy"] for r in relative)
    assert own > 0.9
    assert stitched_b > own - 0.05  # rotation + scale: relative vectors barely change
    assert [r["stitched"] for r in relative] == [False, True, True]
    absolute = evaluate_json("--head", heads["absolute"], "--embeddings", files["testA"],
                             "--embeddings", files["testB"])
    assert absolute[0]["accuracy"] > 0.9
    assert absolute[1]["accuracy"] < 0.5  # chance is 0.25


def test_json_schema_is_exactly_the_contract(world):
    results = evaluate_json("--head", world["heads"]["relative"], "--embeddings", world["files"]["testB"])
    assert set(results[0]) == {"head", "head_encoder", "embeddings", "encoder", "space", "stitched",
                               "accuracy", "macro_f1", "num_samples", "method", "per_class", "confusion",
                               "task", "metric", "mse", "r2", "psnr", "refine"}
    result = results[0]
    # A classifier's result leads with accuracy; the values of heads of other tasks are null.
    assert (result["task"], result["metric"]) == ("classification", "accuracy")
    assert result["mse"] is None and result["r2"] is None and result["psnr"] is None
    # Per class of the head: scores that agree with the confusion matrix (rows: true class).
    matrix = result["confusion"]
    assert list(result["per_class"]) == ["ant", "bee", "cat", "dog"] and len(matrix) == 4
    assert sum(map(sum, matrix)) == 200
    assert sum(matrix[i][i] for i in range(4)) / 200 == pytest.approx(result["accuracy"])
    for i, scores in enumerate(result["per_class"].values()):
        assert scores["support"] == sum(matrix[i])
        assert scores["recall"] == pytest.approx(matrix[i][i] / sum(matrix[i]))
        assert scores["precision"] == pytest.approx(matrix[i][i] / sum(row[i] for row in matrix))
    macro = sum(s["f1"] for s in result["per_class"].values()) / 4
    assert macro == pytest.approx(result["macro_f1"])
    assert result["head_encoder"] == "synth:A" and result["encoder"] == "synth:B"
    assert result["space"] == "relative" and result["num_samples"] == 200
    assert result["method"] == "relative"
    assert 0.0 <= result["macro_f1"] <= 1.0


def test_table_for_people(world):
    out = ok("evaluate", "--head", world["heads"]["relative"], "--head", world["heads"]["absolute"],
             "--embeddings", world["files"]["testA"], "--embeddings", world["files"]["testB"])
    assert "synth:A" in out and "synth:B" in out and "head-relative" in out


def test_fail_under_exits_3_after_printing(world):
    result = run_cli("evaluate", "--json", "--head", world["heads"]["absolute"], "--embeddings",
                     world["files"]["testB"], "--fail-under", "0.9")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["results"][0]["accuracy"] < 0.9


def test_head_file_records_its_training(world):
    meta = store.load(world["heads"]["relative"], kind="head").metadata
    assert meta["space"] == "relative" and meta["encoder"] == "synth:A"
    assert meta["similarity"] == "cosine" and meta["num_anchors"] == "40"
    assert float(meta["train_accuracy"]) > 0.9
    assert json.loads(meta["label_names"]) == CLASSES


def test_training_is_deterministic(world, tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    for out in (a, b):
        ok("train-head", "--embeddings", world["files"]["trainA"], "--arch", "linear", "--epochs", 2,
           "--out", out, "--quiet")
    ta, tb = store.load(a).tensors, store.load(b).tensors
    assert all(torch.equal(ta[k], tb[k]) for k in ta)


def test_refuses_other_anchor_set_naming_both(world, tmp_path):
    other = tmp_path / "other-anchors.safetensors"
    ok("anchors", "--dataset", world["sources"]["train"], "--num", 40, "--seed", 7, "--out", other, "--quiet")
    moved = tmp_path / "testB-other.safetensors"
    ok("relative", "--embeddings", world["files"]["testB"], "--anchors", other,
       "--anchor-embeddings-from", world["files"]["trainB"], "--out", moved, "--quiet")
    result = run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", moved)
    assert_one_line_error(result, "anchor set")
    ours = store.load(world["anchors"]).metadata["anchors_fingerprint"]
    theirs = store.load(other).metadata["anchors_fingerprint"]
    assert ours in result.stderr and theirs in result.stderr


def test_refuses_other_similarity(world, tmp_path):
    moved = tmp_path / "testB-euclid.safetensors"
    ok("relative", "--embeddings", world["files"]["testB"], "--anchors", world["anchors"],
       "--similarity", "euclidean", "--out", moved, "--quiet")
    assert_one_line_error(run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", moved),
                          "similarity")


def test_absolute_head_refuses_other_dimension_unless_skipping(world):
    result = run_cli("evaluate", "--head", world["heads"]["absolute"], "--embeddings", world["files"]["testC"])
    assert_one_line_error(result, "dimension 16")
    skipped = run_cli("evaluate", "--json", "--skip-incompatible", "--head", world["heads"]["absolute"],
                      "--head", world["heads"]["relative"], "--embeddings", world["files"]["testC"])
    assert skipped.exit_code == 0
    assert [r["space"] for r in json.loads(skipped.stdout)["results"]] == ["relative"]


def test_labels_are_matched_by_name(world, tmp_path):
    file = store.load(world["files"]["testB"])
    names = CLASSES[::-1]
    remapped = {**file.tensors, "labels": len(CLASSES) - 1 - file.tensors["labels"]}
    meta = {k: v for k, v in file.metadata.items() if k not in ("format", "kind")}
    meta["label_names"] = json.dumps(names)
    reordered = tmp_path / "reordered.safetensors"
    store.save(reordered, "embeddings", remapped, meta)
    a = evaluate_json("--head", world["heads"]["relative"], "--embeddings", world["files"]["testB"])
    b = evaluate_json("--head", world["heads"]["relative"], "--embeddings", reordered)
    assert a[0]["accuracy"] == b[0]["accuracy"]
    meta["label_names"] = json.dumps(["ant", "bee", "cat", "eel"])
    unknown = tmp_path / "unknown.safetensors"
    store.save(unknown, "embeddings", file.tensors, meta)
    assert_one_line_error(run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", unknown),
                          "labels")


def test_wrong_kind_of_file(world):
    result = run_cli("evaluate", "--head", world["files"]["testA"], "--embeddings", world["files"]["testA"])
    assert_one_line_error(result, "expected a head file")
    result = run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", world["heads"]["absolute"])
    assert_one_line_error(result, "expected an embeddings file")


def test_fps_and_kmeans_anchors_from_embeddings(world, tmp_path):
    for strategy in ("fps", "kmeans"):
        out = tmp_path / f"{strategy}.safetensors"
        summary = json.loads(ok("anchors", "--dataset", world["sources"]["train"], "--num", 8,
                                "--strategy", strategy, "--embeddings", world["files"]["trainA"],
                                "--out", out, "--json"))
        assert summary["num_anchors"] == 8
        indices = store.load(out, kind="anchors").tensors["indices"]
        assert len(set(indices.tolist())) == 8
    result = run_cli("anchors", "--dataset", world["sources"]["test"], "--num", 8, "--strategy", "fps",
                     "--embeddings", world["files"]["trainA"], "--out", tmp_path / "x.safetensors")
    assert_one_line_error(result, "another dataset")


def test_shared_normalisation_gives_the_same_predictions_as_each_head_alone():
    from stitchcli.evaluate.evaluation import predict_many
    from stitchcli.heads.head import Head, HeadConfig, build_head
    from stitchcli.metadata import HeadMeta

    torch.manual_seed(0)
    heads = []
    for arch in ("linear", "mlp", "mlp"):
        module = build_head(HeadConfig(arch, 40, 5, hidden=16)).eval()
        for parameter in module.parameters():  # non-trivial LayerNorm affine parts too
            parameter.data.normal_()
        meta = HeadMeta(arch, "classification", 40, 5, "relative", "x", list("abcde"), hidden=16)
        heads.append(Head(path=None, meta=meta, module=module))
    features = torch.randn(300, 40) * 3 + 1
    with torch.inference_mode():
        together = predict_many(heads, features)
        for head, predicted in zip(heads, together, strict=True):
            assert torch.equal(predicted, head.module(features).argmax(dim=1))


def test_translated_head_records_its_map_and_evaluate_uses_it(world, tmp_path):
    head = tmp_path / "head-ridge.safetensors"
    ok("train-head", "--embeddings", world["files"]["trainA"], "--arch", "logistic", "--translate", "ridge",
       "--out", head, "--quiet")
    meta = store.read_metadata(head)
    assert meta["space"] == "absolute" and meta["translate"] == "ridge" and meta["arch"] == "logistic"
    results = evaluate_json("--head", head, "--embeddings", world["files"]["testA"],
                            "--embeddings", world["files"]["testB"], "--embeddings", world["files"]["testC"])
    by_file = {Path(r["embeddings"]).name: r for r in results}
    assert {r["method"] for r in results} == {"ridge"}
    assert by_file["testB.safetensors"]["accuracy"] > 0.9  # B = 3·A·Q: the map recovers it
    assert by_file["testC.safetensors"]["accuracy"] > 0.5  # another width: only translation can run
    # Asked for explicitly, other methods still override the recorded one.
    plain = evaluate_json("--head", head, "--embeddings", world["files"]["testB"], "--translate", "none")
    assert plain[0]["method"] == "absolute" and plain[0]["accuracy"] < 0.5


def test_translated_head_refuses_an_unknown_map(world, tmp_path):
    result = run_cli("train-head", "--embeddings", world["files"]["trainA"], "--translate", "warp",
                     "--out", tmp_path / "h.safetensors")
    assert_one_line_error(result, "unknown translation 'warp'")
