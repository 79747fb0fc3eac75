"""`stitch sweep`, normalised and prototype heads end to end, and translation that is deterministic."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import torch

from stitchcli.anchors.anchor_set import load_anchor_set
from stitchcli.jobs.sweep.data import load_sweep_data
from stitchcli.storage import store
from stitchcli.translate.maps import fit_translation

from helpers import assert_one_line_error, run_cli
from synthetic import ok


def files_of(world, split: str, names: str = "ABC") -> list:
    return [arg for name in names for arg in (f"--{split}", world["files"][f"{split}{name}"])]


def sweep_json(world, *args) -> dict:
    return json.loads(ok("sweep", *files_of(world, "train"), *files_of(world, "test"),
                         "--anchors", world["anchors"], "--json", *args))


def test_default_recipe_reports_every_ordered_pair(world):
    report = sweep_json(world, "--epochs", 15)
    assert set(report) == {"encoders", "evaluated_on", "num_train", "num_held_out", "recipes", "seeds"}
    assert [e["encoder"] for e in report["encoders"]] == ["synth:A", "synth:B", "synth:C"]
    assert report["evaluated_on"] == "test" and report["num_held_out"] == 200
    [recipe] = report["recipes"]
    assert recipe["recipe"]["strategy"] == "file" and recipe["recipe"]["num_anchors"] == 40
    pairs = {(p["head_encoder"], p["encoder"]): p for p in recipe["pairs"]}
    assert len(pairs) == 6
    a_to_b = pairs["synth:A", "synth:B"]
    assert a_to_b["kept"] == pytest.approx(a_to_b["accuracy"] / a_to_b["own_accuracy"], abs=1e-3)
    assert a_to_b["kept"] > 0.95  # B is a rotated, rescaled A
    assert recipe["min_kept"] == min(p["kept"] for p in recipe["pairs"])


def test_grid_with_baseline_and_table(world):
    args = ["--normalize", "none", "--normalize", "file", "--arch", "linear", "--arch", "prototype",
            "--baseline"]
    report = sweep_json(world, *args)
    labels = [r["label"] for r in report["recipes"]]
    assert len(labels) == 6 and labels[:2] == ["absolute · linear", "absolute · prototype"]
    absolute = report["recipes"][0]
    cells = {(p["head_encoder"], p["encoder"]): p["accuracy"] for p in absolute["pairs"]}
    assert cells["synth:A", "synth:C"] is None  # other width: cannot run
    assert cells["synth:A", "synth:B"] < 0.5  # chance is 0.25
    table = ok("sweep", *files_of(world, "train"), *files_of(world, "test"), "--anchors", world["anchors"],
               *args)
    assert "kept (min)" in table and "normalize file" in table and "prototype" in table


def test_sweep_matches_train_head_and_evaluate(world, tmp_path):
    """The same recipe through the file commands gives the same accuracy: one code path."""
    head = tmp_path / "head.safetensors"
    ok("train-head", "--embeddings", world["files"]["trainA"], "--space", "relative", "--arch", "prototype",
       "--normalize", "file", "--topk", 10, "--topk-power", 2, "--out", head, "--quiet")
    meta = store.load(head).metadata
    assert (meta["normalize"], meta["topk"], meta["topk_power"]) == ("file", "10", "2.0")
    result = json.loads(ok("evaluate", "--head", head, "--embeddings", world["files"]["testB"], "--json"))
    [recipe] = sweep_json(world, "--arch", "prototype", "--normalize", "file", "--topk", 10,
                          "--topk-power", 2)["recipes"]
    pair = next(p for p in recipe["pairs"] if p["head_encoder"] == "synth:A" and p["encoder"] == "synth:B")
    assert result["results"][0]["accuracy"] == pytest.approx(pair["accuracy"], abs=1e-4)


def test_validation_holds_out_train_rows_but_never_anchors(world):
    report = json.loads(ok("sweep", *files_of(world, "train", "AB"), "--anchors", world["anchors"],
                           "--validation", 0.25, "--arch", "prototype", "--json"))
    assert report["evaluated_on"] == "validation"
    # 40 anchors, 10 per class: each class has 90 other rows, of which round(0.25 · 90) = 22 are held out.
    assert report["num_held_out"] == 88 and report["num_train"] == 312
    data = load_sweep_data([world["files"]["trainA"], world["files"]["trainB"]], [], world["anchors"], 0.25, 0)
    anchors = data.spaces[0].train[data.file_anchors]
    assert torch.equal(anchors, store.load(world["files"]["trainA"]).tensors["embeddings"][
        load_anchor_set(world["anchors"]).indices])
    held_out = data.spaces[0].held_out
    assert not (torch.cdist(held_out, anchors) < 1e-6).any()


def test_sweep_strategies_and_anchor_counts_without_an_anchor_file(world):
    report = json.loads(ok("sweep", *files_of(world, "train", "AB"), *files_of(world, "test", "AB"),
                           "--strategy", "aligned", "--strategy", "random", "--num-anchors", 8,
                           "--num-anchors", 20, "--arch", "prototype", "--json"))
    recipes = [(r["recipe"]["strategy"], r["recipe"]["num_anchors"]) for r in report["recipes"]]
    assert recipes == [("aligned", 8), ("aligned", 20), ("random", 8), ("random", 20)]


@pytest.mark.parametrize(("args", "message"), [
    (["--train", "trainA"], "two or more encoders"),
    (["--train", "trainA", "--train", "trainB", "--test", "testA"], "2 --train files but 1 --test"),
    (["--train", "trainA", "--train", "trainB", "--test", "testB", "--test", "testA"], "in its place"),
    (["--train", "trainA", "--train", "testB", "--validation", "0.2"], "same samples"),
    (["--train", "trainA", "--train", "trainB", "--validation", "1.5"], "between 0 and 1"),
    (["--train", "trainA", "--train", "trainB", "--test", "testA", "--test", "testB", "--validation", "0.2"],
     "not both"),
    (["--train", "trainA", "--train", "trainB", "--validation", "0.2", "--normalize", "zscore"],
     "unknown normalization"),
    (["--train", "trainA", "--train", "trainB", "--validation", "0.2", "--strategy", "file"], "--anchors"),
])
def test_sweep_refusals(world, args, message):
    args = [world["files"].get(a, a) for a in args]
    assert_one_line_error(run_cli("sweep", *args), message)


def test_bad_center_value_is_a_usage_error(world):
    result = run_cli("sweep", *files_of(world, "train", "AB"), "--validation", 0.2, "--center", "maybe")
    assert result.exit_code == 2 and "on or off" in result.stderr


def test_normalised_heads_evaluate_alongside_raw_ones(world, tmp_path):
    heads = []
    for normalize in ("none", "file", "anchors"):
        heads += ["--head", tmp_path / f"{normalize}.safetensors"]
        ok("train-head", "--embeddings", world["files"]["trainA"], "--space", "relative",
           "--normalize", normalize, "--out", heads[-1], "--quiet")
    results = json.loads(ok("evaluate", *heads, "--embeddings", world["files"]["testB"], "--json"))["results"]
    assert len(results) == 3 and all(r["accuracy"] > 0.8 for r in results)


def test_procrustes_is_deterministic_with_fewer_anchors_than_dimensions():
    generator = torch.Generator().manual_seed(0)
    source, target = torch.randn(30, 64, generator=generator), torch.randn(30, 48, generator=generator)
    samples = torch.randn(100, 64, generator=generator)
    outputs = []
    for threads in (1, 2):
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            outputs.append(fit_translation("procrustes", source, target)(samples))
        finally:
            torch.set_num_threads(previous)
    assert torch.allclose(outputs[0], outputs[1], atol=1e-5)
    # Outside the anchors' span there is nothing to map: such a sample goes to the target's mean.
    from stitchcli.translate.maps import standardise

    mean, std = standardise(source)  # the map's own scaling (no column divided by less than typical)
    span = torch.linalg.svd(((source - mean) / std).double(), full_matrices=False)[2]
    outside = torch.randn(64, dtype=torch.float64, generator=generator)
    outside -= span.T @ (span @ outside)
    mapped = fit_translation("procrustes", source, target)((outside.float() * std + mean)[None])
    assert torch.allclose(mapped[0], target.mean(dim=0), atol=1e-4)


@pytest.mark.parametrize("method", ["procrustes", "affine"])
def test_translation_onto_the_same_space_is_exactly_the_identity(method):
    anchors, samples = torch.randn(20, 32), torch.randn(50, 32)
    assert torch.equal(fit_translation(method, anchors, anchors)(samples), samples)


def test_translated_head_on_its_own_encoder_equals_the_plain_head(world):
    results = json.loads(ok("evaluate", "--head", world["heads"]["absolute"], "--embeddings",
                            world["files"]["testA"], "--translate", "none", "--translate", "procrustes",
                            "--json"))["results"]
    assert results[0]["accuracy"] == results[1]["accuracy"]


def test_compare_reports_normalised_relative_metrics(world):
    files = world["files"]
    report = json.loads(ok("compare", files["testA"], files["testC"], "--json"))
    assert report["relative_normalized"]["normalize"] == "file"
    assert set(report["relative_normalized"]) == {"cka", "cosine", "jaccard", "mrr", "normalize"}
    plain = json.loads(ok("compare", files["testA"], files["testC"], "--json", "--normalize", "none"))
    assert "relative_normalized" not in plain


def test_anchors_that_are_not_rows_of_the_train_files_are_refused(world):
    result = run_cli("sweep", "--train", world["files"]["testA"], "--train", world["files"]["testB"],
                     "--validation", 0.2, "--anchors", world["anchors"])
    assert_one_line_error(result, "are not rows of")


def test_of_probe_is_stitched_over_the_target_encoders_probe(world):
    report = sweep_json(world, "--arch", "logistic", "--translate", "ridge")
    translated, relative = report["recipes"]  # translated recipes come before relative ones
    assert translated["label"] == "40 file · absolute · logistic · via ridge"
    for recipe in (relative, translated):
        probes = recipe["probe_accuracy"]
        assert set(probes) == {"synth:A", "synth:B", "synth:C"} and min(probes.values()) > 0.8
        for pair in recipe["pairs"]:
            assert pair["probe_accuracy"] == probes[pair["encoder"]]
            if pair["accuracy"] is not None:
                assert pair["of_probe"] == pytest.approx(pair["accuracy"] / pair["probe_accuracy"], abs=1e-3)
        assert recipe["min_of_probe"] == min(p["of_probe"] for p in recipe["pairs"])
    # B = 3·A·Q: a ridge map fitted on 40 anchors reads B almost as A's probe would.
    pairs = {(p["head_encoder"], p["encoder"]): p for p in translated["pairs"]}
    assert pairs["synth:A", "synth:B"]["of_probe"] > 0.95
    assert pairs["synth:A", "synth:C"]["accuracy"] is not None  # other width: translation still runs


def test_seeds_give_means_and_intervals(world):
    report = sweep_json(world, "--strategy", "random", "--num-anchors", "3", "--seeds", "3")
    assert report["seeds"] == 3
    [recipe] = report["recipes"]
    low, high = recipe["intervals"]["mean_of_probe"]
    assert low <= recipe["mean_of_probe"] <= high and low < high  # other anchor draws differ
    table = ok("sweep", *files_of(world, "train"), *files_of(world, "test"), "--anchors", world["anchors"],
               "--strategy", "random", "--num-anchors", "3", "--num-anchors", "40", "--seeds", "2")
    assert "95% interval" in table and "within noise" in table


def numbers(text: str) -> list[str]:
    return re.findall(r"\d\.\d{3}", text)


def test_sweep_tables_keep_every_number_at_80_columns(world):
    args = ["sweep", "--train", world["files"]["trainA"], "--train", world["files"]["trainB"],
            "--test", world["files"]["testA"], "--test", world["files"]["testB"], "--anchors", world["anchors"],
            "--translate", "ridge"]
    env = {**os.environ, "COLUMNS": "80", "HF_HUB_OFFLINE": "1"}
    narrow = subprocess.run([sys.executable, "-m", "stitchcli", *map(str, args)], capture_output=True,
                            text=True, env=env, check=True).stdout
    env["COLUMNS"] = "250"
    wide = subprocess.run([sys.executable, "-m", "stitchcli", *map(str, args)], capture_output=True,
                          text=True, env=env, check=True).stdout
    # Table lines fit (captions are plain text the terminal wraps); names fold, numbers stay whole.
    assert max(len(line) for line in narrow.splitlines() if line[:1] in "┏┃┡│└") <= 80
    assert "0.…" not in narrow and numbers(narrow) == numbers(wide) and len(numbers(wide)) > 10
    assert "ridge" in narrow.replace("│", "").replace(" ", "") or "rid" in narrow

