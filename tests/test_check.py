"""`stitch check`: label-free signals of a pair, the forecast they give, and the command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from stitchcli.check import CALIBRATION, SIGNAL_NAMES, forecast, pair_signals, predict_of_probe, verdict_of
from stitchcli.check.signals import kmeans, nearest_centroid

from helpers import assert_one_line_error, ok, random_orthogonal, run_cli
from synthetic import CLASSES, write_embeddings, write_source

DIM = 16
MAP_SIGNALS = ("heldout_match", "heldout_top5", "heldout_r2", "cluster_agreement", "pool_balance")


def clustered(n: int, seed: int, dim: int = DIM, classes: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points around ``classes`` well-separated centroids (row i in class i % classes)."""
    generator = torch.Generator().manual_seed(seed)
    centroids = torch.randn(classes, dim, generator=generator) * 3.0
    labels = torch.arange(n) % classes
    return centroids[labels] + torch.randn(n, dim, generator=generator), labels


def noise(shape, seed: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def pairs():
    """A's anchors and pool; a good B (A rotated, small noise) and a bad B (unrelated clustered points)."""
    a, _ = clustered(600, seed=1)
    good = a @ random_orthogonal(DIM, 5) + 0.05 * noise(a.shape, 2)
    bad, _ = clustered(600, seed=9)
    bad = bad[torch.randperm(600, generator=torch.Generator().manual_seed(3))]  # no partner is near its own
    return {"a": a, "good": good, "bad": bad}


def split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[:100], x[100:]  # 100 anchors, 500 unpaired rows


def test_a_good_pair_is_forecast_above_a_bad_one(pairs):
    (a, a_pool), (good, good_pool), (bad, bad_pool) = (split(pairs[k]) for k in ("a", "good", "bad"))
    strong, weak = forecast(a, good, a_pool, good_pool), forecast(a, bad, a_pool, bad_pool)
    assert strong.predicted_of_probe > weak.predicted_of_probe
    # 100 anchors: the calibration (fitted on real pairs) vouches for no pair with so few (below PASS)
    assert strong.verdict == "WARN" and weak.verdict == "FAIL"
    for name in sorted(set(SIGNAL_NAMES) - {"log_anchors"}):  # every signal of the pair, not the count
        assert strong.signals[name] > weak.signals[name] + 0.2, name
    assert strong.anchors == 100 and strong.pool_rows == {"target": 500, "source": 500}
    assert not strong.same_encoder


def test_signals_are_deterministic_and_pools_are_capped(pairs):
    a, good = pairs["a"], pairs["good"]
    first = pair_signals(a[:50], good[:50], a[50:], good[50:])
    assert first == pair_signals(a[:50], good[:50], a[50:], good[50:])
    big = forecast(a[:50], good[:50], a.repeat(8, 1), good.repeat(8, 1))  # 4800 unpaired rows each
    assert big.pool_rows == {"target": 4096, "source": 4096}


def rotated_and_scaled(x: torch.Tensor) -> torch.Tensor:
    return 3.7 * x @ random_orthogonal(DIM, 11)


def permuted_scaled_shifted(x: torch.Tensor) -> torch.Tensor:
    return 0.25 * x[:, torch.randperm(DIM, generator=torch.Generator().manual_seed(4))] + 5.0


def test_signals_are_invariant_to_what_the_map_is_invariant_to(pairs):
    """Rotating B (once more, relative to a rotated B) and rescaling it leaves the signals that
    compare neighbourhoods unchanged; the map-based ones only move a little, because the default
    ridge map standardises B's columns (and real stitching through it moves alike). A column
    permutation, a rescaling and a shift of B leave every signal unchanged."""
    a, a_pool = split(pairs["a"])
    b, b_pool = split(pairs["good"])
    base = pair_signals(a, b, a_pool, b_pool)
    turned = pair_signals(a, rotated_and_scaled(b), a_pool, rotated_and_scaled(b_pool))
    for name in ("cka", "knn_agreement"):
        assert turned[name] == pytest.approx(base[name], abs=1e-5), name
    for name in MAP_SIGNALS:
        assert turned[name] == pytest.approx(base[name], abs=0.05), name
    moved = pair_signals(a, permuted_scaled_shifted(b), a_pool, permuted_scaled_shifted(b_pool))
    for name in SIGNAL_NAMES:
        assert moved[name] == pytest.approx(base[name], abs=1e-5), name


def test_the_same_encoder_passes_and_too_few_anchors_give_no_forecast(pairs):
    a, a_pool = split(pairs["a"])
    same = forecast(a, a.clone(), a_pool, a_pool)
    assert same.same_encoder and same.predicted_of_probe == 1.0 and same.verdict == "PASS"
    assert "same encoder" in same.reasons[0]
    few = forecast(a[:8], pairs["good"][:8])
    assert few.predicted_of_probe is None and few.verdict == "WARN"
    assert few.signals["heldout_match"] is None and few.signals["cka"] is not None
    assert "only 8 anchors" in few.reasons[0]


def test_the_calibration_and_thresholds():
    weights = CALIBRATION["weights"]
    signals = {"heldout_match": 0.9, "log_anchors": 2.0}
    assert predict_of_probe(signals) == pytest.approx(CALIBRATION["intercept"] + sum(
        weights[name] * signals[name] for name in weights))
    assert predict_of_probe({**signals, "heldout_match": None}) is None
    assert predict_of_probe({"cka": 9.0}, {"intercept": 0.0, "weights": {"cka": 1.0}}) == 1.1  # clipped
    assert set(CALIBRATION["weights"]) <= set(SIGNAL_NAMES)
    assert [verdict_of(p) for p in (0.95, 0.90, 0.87, 0.85, 0.5, None)] == [
        "PASS", "PASS", "WARN", "WARN", "FAIL", "WARN"]


def test_kmeans_finds_well_separated_clusters():
    x, labels = clustered(400, seed=7, classes=4)
    for seed in range(5):  # each true class falls in one cluster of its own, whatever the seed
        assigned = nearest_centroid(x, kmeans(x, k=4, seed=seed))
        assert sorted(len(set(assigned[labels == c].tolist())) for c in range(4)) == [1, 1, 1, 1]
        assert len(set(assigned.tolist())) == 4


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Through the CLI: files of encoders A, B (A rotated) and C (unrelated), with one anchor set; B
    also with another anchor set; a head trained on A."""
    root = tmp_path_factory.mktemp("check")
    a, labels = clustered(400, seed=1, classes=len(CLASSES))
    vectors = {"A": a, "B": 2.0 * a @ random_orthogonal(DIM, 5) + 0.05 * noise(a.shape, 2),
               "C": clustered(400, seed=9)[0][torch.randperm(400, generator=torch.Generator().manual_seed(3))]}
    source = write_source(root / "train.csv", labels)
    files = {name: write_embeddings(root / f"{name}.safetensors", source, x, labels, f"synth:{name}")
             for name, x in vectors.items()}
    files["B-other"] = write_embeddings(root / "B-other.safetensors", source, vectors["B"], labels, "synth:B")
    ok("anchors", "--dataset", source, "--num", 300, "--out", root / "anchors.safetensors", "--quiet")
    ok("anchors", "--dataset", source, "--num", 100, "--seed", 7, "--out", root / "other.safetensors", "--quiet")
    for name in "ABC":
        ok("relative", "--embeddings", files[name], "--anchors", root / "anchors.safetensors", "--quiet")
    ok("relative", "--embeddings", files["B-other"], "--anchors", root / "other.safetensors", "--quiet")
    files["head"] = root / "head.safetensors"
    ok("train-head", "--embeddings", files["A"], "--epochs", 2, "--out", files["head"], "--quiet")
    return files


def test_check_prints_a_table_with_the_verdict(world):
    shown = ok("check", world["A"], world["B"])
    for text in ("held-out anchor match", "cluster agreement", "predicted of-probe", "verdict", "PASS",
                 "PASS at 0.90"):
        assert text in shown, text


def test_check_json_has_the_documented_keys(world):
    result = json.loads(ok("check", world["A"], world["B"], "--json"))
    assert {"head_side", "file", "head_encoder", "encoder", "anchors", "pool_rows", "signals",
            "predicted_of_probe", "verdict", "thresholds"} <= set(result)
    assert result["head_encoder"] == "synth:A" and result["encoder"] == "synth:B"
    assert result["anchors"] == 300 and result["pool_rows"] == {"head_side": 400, "file": 400}
    assert set(result["signals"]) == set(SIGNAL_NAMES)
    assert result["thresholds"] == {"pass": 0.90, "warn": 0.85}
    unrelated = json.loads(ok("check", world["A"], world["C"], "--json"))
    assert unrelated["predicted_of_probe"] < result["predicted_of_probe"] and unrelated["verdict"] == "FAIL"


def test_check_refuses_files_of_other_anchor_sets(world):
    result = run_cli("check", world["A"], world["B-other"])
    assert_one_line_error(result, "anchor set")
    assert "Hint: embed both with the same ANCHORS.safetensors" in result.stderr


def test_fail_on_sets_the_exit_code(world):
    assert run_cli("check", world["A"], world["C"]).exit_code == 0  # a FAIL alone exits 0
    assert_one_line_error(run_cli("check", world["A"], world["C"], "--fail-on", "fail", "--json"), "is FAIL")
    assert_one_line_error(run_cli("check", world["A"], world["C"], "--fail-on", "warn"), "is FAIL")
    assert run_cli("check", world["A"], world["B"], "--fail-on", "warn").exit_code == 0
    assert_one_line_error(run_cli("check", world["A"], world["B"], "--fail-on", "maybe"), "--fail-on",
                          exit_code=2)


def test_check_reads_a_head_and_a_file(world):
    from_head = json.loads(ok("check", world["head"], world["B"], "--json"))
    assert from_head["head_side"] == str(world["head"]) and from_head["head_encoder"] == "synth:A"
    assert from_head["verdict"] == "PASS"
    # The same anchors as the head's train file; without pool rows on the head's side, clusters of its anchors.
    from_file = json.loads(ok("check", world["A"], world["B"], "--json"))
    assert from_head["signals"]["heldout_match"] == from_file["signals"]["heldout_match"]
    assert from_head["translate"] == from_file["translate"] == "ridge"
    same = json.loads(ok("check", world["head"], world["A"], "--json"))
    assert same["same_encoder"] and same["predicted_of_probe"] == 1.0 and same["verdict"] == "PASS"


def test_a_head_is_forecast_through_the_map_it_records(world, tmp_path):
    head = tmp_path / "procrustes.safetensors"
    ok("train-head", "--embeddings", world["A"], "--epochs", 1, "--translate", "procrustes", "--out", head, "-q")
    through = json.loads(ok("check", head, world["B"], "--json"))
    ridge = json.loads(ok("check", world["head"], world["B"], "--json"))
    assert through["translate"] == "procrustes" and through["signals"] != ridge["signals"]
    assert through["signals"]["cka"] == ridge["signals"]["cka"]  # the map-free signals are the same


def test_check_refuses_a_file_without_anchors_and_the_wrong_kind(world, tmp_path):
    labels = torch.arange(8) % 4
    bare = write_embeddings(tmp_path / "bare.safetensors", write_source(tmp_path / "train.csv", labels),
                            torch.randn(8, DIM), labels, "synth:D")
    assert_one_line_error(run_cli("check", world["A"], bare), "holds no anchor embeddings")
    assert_one_line_error(run_cli("check", world["A"], world["head"]), "expected an embeddings file")


def test_check_help_and_up_front_checks_do_not_import_torch(world):
    code = ("import sys\nfrom stitchcli.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit as exc:\n"
            "    print('EXIT', exc.code, file=sys.stderr)\n"
            "print('HEAVY', [m for m in ('torch', 'numpy', 'safetensors') if m in sys.modules], file=sys.stderr)\n")
    for argv, status in ((["check", "--help"], 0), (["check", str(world["A"]), str(world["B-other"])], 1)):
        result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
        assert f"EXIT {status}" in result.stderr and "HEAVY []" in result.stderr, result.stderr


def test_check_reads_a_shard_index_and_says_when_anchors_are_too_few(tiny_bert, other_bert, text_csv, tmp_path):
    anchors = tmp_path / "anchors.safetensors"
    ok("anchors", "-q", "--dataset", text_csv, "--num", 4, "--out", anchors)
    sharded, whole, other = (tmp_path / f"{n}.safetensors" for n in ("sharded", "whole", "other"))

    def embed(encoder, out, *extra):  # batch size 1: a row's vector does not depend on its shard
        ok("embed", "-q", "--encoder", f"hf:{encoder}", "--dataset", text_csv, "--anchors", anchors,
           "--batch-size", 1, "--out", out, *extra)

    for i in range(3):
        embed(tiny_bert, sharded, "--shard", f"{i}/3")
    ok("merge", sharded, "-q")
    index = tmp_path / "sharded.safetensors.index.json"
    embed(tiny_bert, whole)
    embed(other_bert, other)
    result = json.loads(ok("check", index, other, "--json"))
    assert result["anchors"] == 4 and result["pool_rows"] == {"head_side": 12, "file": 12}
    assert result["predicted_of_probe"] is None and result["verdict"] == "WARN"
    assert result["signals"]["heldout_match"] is None and result["signals"]["cka"] is not None
    assert any("only 4 anchors" in reason for reason in result["reasons"])
    assert "only 4 anchors" in ok("check", index, other)
    same = json.loads(ok("check", index, whole, "--json"))
    assert same["same_encoder"] and same["verdict"] == "PASS"
