"""Refinement heads carry (issue 29): a translated head keeps a seeded sample of its train rows
(``pool_embeddings``) and refines its map with unpaired rows of the file it reads, the same way in
``evaluate``, ``predict`` and the Python API; without the pool it falls back to the plain map."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

import stitchcli as st
from stitchcli.errors import StitchError
from stitchcli.evaluate.refined import head_map
from stitchcli.heads import load_head
from stitchcli.heads.pool import pool_positions, pool_sample
from stitchcli.storage import store
from stitchcli.storage.rows import open_rows

from helpers import assert_one_line_error, ok, random_orthogonal, run_cli

DIM, CLASSES, ANCHORS = 16, 6, 12
TRAIN_ROWS, TEST_ROWS = 600, 300


def _cluster_rows(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` rows of six overlapping Gaussian classes in DIM dimensions (encoder A's space)."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(CLASSES, DIM, generator=torch.Generator().manual_seed(99))
    labels = torch.randint(CLASSES, (n,), generator=generator)
    return centres[labels] + torch.randn(n, DIM, generator=generator), labels


def _as_b(x: torch.Tensor, seed: int) -> torch.Tensor:
    """Encoder B: the same samples as A, rotated, with a little noise."""
    noise = 0.05 * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    return x @ random_orthogonal(DIM, 1) + noise


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> dict:
    """Two encoders' train and test files (``stitch import``) sharing 12 anchors chosen by id, and a
    head trained on A's train file that refines its ridge map for up to 3 rounds."""
    root = tmp_path_factory.mktemp("refine")
    x_train, y_train = _cluster_rows(TRAIN_ROWS, 0)
    x_test, y_test = _cluster_rows(TEST_ROWS, 1)
    vectors = {"a-train": x_train, "a-test": x_test, "b-train": _as_b(x_train, 2), "b-test": _as_b(x_test, 3)}
    names = [f"class-{c}" for c in range(CLASSES)]
    for split, labels in (("train", y_train), ("test", y_test)):
        (root / f"{split}-ids.txt").write_text("\n".join(f"{split}-{i}" for i in range(len(labels))) + "\n")
        (root / f"{split}-labels.txt").write_text("\n".join(names[c] for c in labels.tolist()) + "\n")
    anchors = root / "anchors.safetensors"
    ok("anchors", "-q", "--ids", root / "train-ids.txt", "--num", ANCHORS, "--out", anchors)
    files = {}
    for name, x in vectors.items():
        encoder, split = name.split("-")
        np.save(root / f"{name}.npy", x.numpy())
        files[name] = root / f"{name}.safetensors"
        extra = [] if split == "train" else ["--anchor-embeddings-from", files[f"{encoder}-train"]]
        ok("import", root / f"{name}.npy", "--ids", root / f"{split}-ids.txt", "--labels",
           root / f"{split}-labels.txt", "--anchors", anchors, "--out", files[name], "-q", *extra)
    head = root / "head.safetensors"
    summary = json.loads(ok("train-head", "--embeddings", files["a-train"], "--out", head, "--refine", 3,
                            "--json"))
    return {"root": root, "files": files, "head": head, "vectors": vectors, "y_test": y_test,
            "summary": summary}


def _evaluate(pair, *args, head=None) -> dict:
    [row] = json.loads(ok("evaluate", "--head", head or pair["head"], "--embeddings", pair["files"]["b-test"],
                          "--json", *args))["results"]
    return row


def test_a_carried_refinement_gives_the_same_numbers_in_evaluate_predict_and_the_api(pair, tmp_path):
    assert pair["summary"]["refine"] == 3 and pair["summary"]["pool_rows"] == TRAIN_ROWS
    evaluated = _evaluate(pair)
    assert evaluated["refine"] == 3 and evaluated["method"] == "ridge" and evaluated["stitched"]
    out = tmp_path / "predictions.csv"
    predicted = json.loads(ok("predict", "--head", pair["head"], "--embeddings", pair["files"]["b-test"],
                              "--out", out, "--json"))
    assert predicted["accuracy"] == pytest.approx(evaluated["accuracy"], abs=1e-12)
    with out.open(newline="") as handle:
        written = [row["label"] for row in csv.DictReader(handle)]
    b_test = store.load(pair["files"]["b-test"]).tensors
    api = st.load_head(pair["head"]).predict_vectors(b_test["embeddings"], anchors=b_test["anchor_embeddings"])
    assert [p.label for p in api] == written
    names = [f"class-{c}" for c in pair["y_test"].tolist()]
    assert sum(a == b for a, b in zip(written, names, strict=True)) / TEST_ROWS == pytest.approx(
        evaluated["accuracy"])
    # The override reaches every path: --refine 0 / refine=0 is the plain map, and it differs here.
    plain = _evaluate(pair, "--refine", 0)
    assert plain["refine"] == 0 and plain["accuracy"] != evaluated["accuracy"]
    unrefined = st.load_head(pair["head"]).predict_vectors(b_test["embeddings"],
                                                           anchors=b_test["anchor_embeddings"], refine=0)
    assert sum(p.label == n for p, n in zip(unrefined, names, strict=True)) / TEST_ROWS == pytest.approx(
        plain["accuracy"])
    predicted_plain = json.loads(ok("predict", "--head", pair["head"], "--embeddings", pair["files"]["b-test"],
                                    "--out", tmp_path / "plain.csv", "--json", "--refine", 0))
    assert predicted_plain["accuracy"] == pytest.approx(plain["accuracy"], abs=1e-12)


def test_refinement_helps_with_few_anchors_and_many_unpaired_rows(pair):
    refined, plain = _evaluate(pair), _evaluate(pair, "--refine", 0)
    assert refined["accuracy"] >= plain["accuracy"]
    head, file = load_head(pair["head"]), open_rows(pair["files"]["b-test"])
    b_test, truth = pair["vectors"]["b-test"], pair["vectors"]["a-test"]  # the same samples in A's space

    def error(rounds: int) -> float:
        return float((head_map(head, file, "ridge", rounds)(b_test) - truth).pow(2).mean())

    assert error(3) < 0.75 * error(0)  # 12 anchors leave a 16-dimensional ridge map far off (0.92 -> 0.55)


def test_no_pool_rows_gives_a_head_without_the_tensor_and_a_warning(pair, tmp_path):
    head = tmp_path / "no-pool.safetensors"
    summary = json.loads(ok("train-head", "--embeddings", pair["files"]["a-train"], "--out", head,
                            "--refine", 3, "--pool-rows", 0, "--json"))
    assert summary["pool_rows"] == 0
    saved = store.load(head)
    assert "pool_embeddings" not in saved.tensors and "pool_rows" not in saved.metadata
    assert saved.metadata["refine"] == "3"
    # Two stitched files: the fallback is said once, and the numbers are the plain map's.
    result = run_cli("evaluate", "--head", head, "--embeddings", pair["files"]["b-test"], "--embeddings",
                     pair["files"]["b-train"], "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("carries no pool rows") == 1
    fallback = json.loads(result.stdout)["results"][0]
    assert fallback["accuracy"] == _evaluate(pair, "--refine", 0)["accuracy"]
    assert "carries no pool rows" not in run_cli("evaluate", "--head", head, "--embeddings",
                                                 pair["files"]["b-test"], "--refine", 0).stderr


def test_the_pool_is_a_seeded_capped_sample(pair, tmp_path):
    assert torch.equal(pool_positions(10, 20, 0), torch.arange(10))
    picked = pool_positions(1000, 50, 4)
    assert len(picked) == 50 and len(set(picked.tolist())) == 50 and torch.equal(picked, picked.sort().values)
    assert torch.equal(picked, pool_positions(1000, 50, 4)) and not torch.equal(picked, pool_positions(1000, 50, 5))
    heads = []
    for name, seed in (("one", 0), ("two", 0), ("three", 1)):
        path = tmp_path / f"{name}.safetensors"
        ok("train-head", "-q", "--embeddings", pair["files"]["a-train"], "--out", path, "--pool-rows", 50,
           "--seed", seed)
        heads.append(load_head(path))
    first = heads[0].pool_embeddings
    assert first.shape == (50, DIM) and first.dtype == torch.float32 and heads[0].meta.pool_rows == 50
    assert torch.equal(first, pair["vectors"]["a-train"][pool_positions(TRAIN_ROWS, 50, 0)])
    assert torch.equal(first, heads[1].pool_embeddings) and not torch.equal(first, heads[2].pool_embeddings)
    # The default cap: every row of a file smaller than it (the fixture's head).
    assert load_head(pair["head"]).pool_embeddings.shape == (TRAIN_ROWS, DIM)
    assert torch.equal(pool_sample(open_rows(pair["files"]["b-test"]), 7, 3),
                       pair["vectors"]["b-test"][pool_positions(TEST_ROWS, 7, 3)])


def test_the_heads_own_encoder_stays_exact(pair):
    head, file = load_head(pair["head"]), open_rows(pair["files"]["a-test"])
    x = pair["vectors"]["a-test"]
    assert torch.equal(head_map(head, file, "ridge", 3)(x), x)
    [row] = json.loads(ok("evaluate", "--head", pair["head"], "--embeddings", pair["files"]["a-test"],
                          "--json"))["results"]
    [plain] = json.loads(ok("evaluate", "--head", pair["head"], "--embeddings", pair["files"]["a-test"],
                            "--json", "--refine", 0))["results"]
    # (Imported files are named after their vector files, so "stitched" is no help here.)
    assert row["refine"] == 3 and row["accuracy"] == plain["accuracy"]


def test_refine_options_are_checked(pair, tmp_path):
    result = run_cli("evaluate", "--head", pair["head"], "--embeddings", pair["files"]["b-test"], "--refine", -1)
    assert result.exit_code == 2
    result = run_cli("train-head", "--embeddings", pair["files"]["a-train"], "--out", tmp_path / "h.safetensors",
                     "--space", "relative", "--refine", 2)
    assert_one_line_error(result, "--refine", exit_code=2)
    with pytest.raises(StitchError, match="refine"):
        st.load_head(pair["head"]).predict_vectors(pair["vectors"]["b-test"], refine=-1)


def test_a_sharded_file_is_refined_as_the_whole_file(pair, tmp_path):
    from stitchcli.storage.shards.index import write_index
    from stitchcli.storage.shards.plan import Shard

    whole = store.load(pair["files"]["b-test"])
    out = tmp_path / "b-test.safetensors"
    for i in range(3):
        rows = Shard(i, 3).rows(TEST_ROWS)
        part = {name: t if name == "anchor_embeddings" else t[rows.start : rows.stop]
                for name, t in whole.tensors.items()}
        store.save(Shard(i, 3).path(out), "embeddings", part, {
            **whole.metadata, "shard": f"{i}/3", "shard_rows": json.dumps([rows.start, rows.stop]),
            "shard_run": "r", "output_key": f"k{i}", "num_samples": str(len(rows))})
    index = write_index(out)
    assert torch.equal(pool_sample(open_rows(index), 100, 0), pool_sample(open_rows(pair["files"]["b-test"]), 100, 0))
    [row] = json.loads(ok("evaluate", "--head", pair["head"], "--embeddings", index, "--json"))["results"]
    assert row["accuracy"] == _evaluate(pair)["accuracy"]


def test_a_pool_that_does_not_match_its_metadata_is_refused(pair, tmp_path):
    from safetensors.torch import save_file

    saved = store.load(pair["head"])
    for name, tensors, meta in (
            ("rows", saved.tensors, {**saved.metadata, "pool_rows": "5"}),
            ("missing", {k: v for k, v in saved.tensors.items() if k != "pool_embeddings"}, saved.metadata),
            ("wide", {**saved.tensors, "pool_embeddings": torch.zeros(TRAIN_ROWS, DIM + 1)}, saved.metadata)):
        path = tmp_path / f"{name}.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, path, meta)
        result = run_cli("evaluate", "--head", path, "--embeddings", pair["files"]["b-test"])
        assert_one_line_error(result, "pool_embeddings")
