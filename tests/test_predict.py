"""`stitch predict --embeddings`: one row per sample in source order, the same accuracy as `evaluate` for
relative, absolute and translated heads, top-k scores that are probabilities, every output format."""

from __future__ import annotations

import csv
import json

import pytest

from helpers import assert_one_line_error, run_cli
from synthetic import CLASSES, ok


def predict_json(*args) -> dict:
    return json.loads(ok("predict", *args, "--json"))


def evaluate_accuracy(head, embeddings, *extra) -> float:
    report = json.loads(ok("evaluate", "--head", head, "--embeddings", embeddings, "--json", *extra))
    [result] = report["results"]
    return result["accuracy"]


@pytest.fixture(scope="module")
def translated_head(world, tmp_path_factory):
    head = tmp_path_factory.mktemp("predict") / "head-ridge.safetensors"
    ok("train-head", "--embeddings", world["files"]["trainA"], "--out", head, "--quiet")  # the default
    return head


@pytest.mark.parametrize("kind", ["relative", "absolute", "translated"])
@pytest.mark.parametrize("encoder", ["A", "B", "C"])
def test_predict_accuracy_equals_evaluate(world, translated_head, tmp_path, kind, encoder):
    head = translated_head if kind == "translated" else world["heads"][kind]
    embeddings = world["files"][f"test{encoder}"]
    if kind == "absolute" and encoder == "C":  # another width: neither command can run it
        assert run_cli("predict", "--head", head, "--embeddings", embeddings, "--out", tmp_path / "p.csv").exit_code == 1
        return
    summary = predict_json("--head", head, "--embeddings", embeddings, "--out", tmp_path / "p.csv")
    assert summary["accuracy"] == pytest.approx(evaluate_accuracy(head, embeddings), abs=1e-12)
    assert summary["num_samples"] == 200


def test_rows_come_in_source_order_with_probabilities(world, translated_head, tmp_path):
    out = tmp_path / "p.csv"
    ok("predict", "--head", translated_head, "--embeddings", world["files"]["testB"], "--out", out,
       "--top-k", 3, "--quiet")
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 200 and [int(r["id"]) for r in rows] == list(range(200))
    assert set(rows[0]) == {"id", "label", "score", "label_1", "score_1", "label_2", "score_2", "label_3", "score_3"}
    for row in rows:
        scores = [float(row[f"score_{k}"]) for k in (1, 2, 3)]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-5
        assert row["label"] == row["label_1"] in CLASSES and float(row["score"]) == scores[0]


def test_jsonl_and_parquet_hold_the_same_predictions(world, tmp_path):
    head = world["heads"]["relative"]
    ok("predict", "--head", head, "--embeddings", world["files"]["testB"], "--out", tmp_path / "p.jsonl",
       "--top-k", 2, "--quiet")
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert len(rows) == 200 and rows[0]["top_k"][0] == {"label": rows[0]["label"], "score": rows[0]["score"]}
    pq = pytest.importorskip("pyarrow.parquet")
    ok("predict", "--head", head, "--embeddings", world["files"]["testB"], "--out", tmp_path / "p.parquet",
       "--quiet")
    table = pq.read_table(tmp_path / "p.parquet").to_pydict()
    assert table["label"] == [r["label"] for r in rows] and table["id"] == list(range(200))


def test_prototype_heads_record_a_fitted_temperature(world, tmp_path):
    head = tmp_path / "proto.safetensors"
    ok("train-head", "--embeddings", world["files"]["trainA"], "--space", "relative", "--arch", "prototype",
       "--out", head, "--quiet")
    from stitchcli.storage import store

    temperature = float(store.read_metadata(head)["temperature"])
    assert 0.001 <= temperature <= 1
    summary = predict_json("--head", head, "--embeddings", world["files"]["testA"], "--out", tmp_path / "p.jsonl")
    assert summary["accuracy"] == pytest.approx(evaluate_accuracy(head, world["files"]["testA"]), abs=1e-12)


def test_refusals(world, tmp_path):
    head, embeddings = world["heads"]["relative"], world["files"]["testA"]
    result = run_cli("predict", "--head", head, "--embeddings", embeddings, "--out", tmp_path / "p.txt")
    assert_one_line_error(result, "unknown suffix .txt", exit_code=2)
    result = run_cli("predict", "--head", head, "--embeddings", embeddings, "--out", tmp_path / "p.csv",
                     "--top-k", 9)
    assert_one_line_error(result, "--top-k must be between 1 and the head's 4 classes", exit_code=2)
    assert not (tmp_path / "p.csv").exists()
    result = run_cli("predict", "--head", embeddings, "--embeddings", embeddings, "--out", tmp_path / "p.csv")
    assert_one_line_error(result, "expected a head file")
