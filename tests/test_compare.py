"""`stitch compare`: how alike two latent spaces are (CKA, cosine, neighbour Jaccard, MRR), sampled and refused."""

from __future__ import annotations

import json

import pytest
import torch

from stitchcli.evaluate.compare import linear_cka, neighbour_jaccard, partner_mrr

from helpers import assert_one_line_error, run_cli
from synthetic import ok


def test_compare_rotated_spaces(world):
    files = world["files"]
    report = json.loads(ok("compare", files["testA"], files["testB"], "--json", "--k", 5))
    assert set(report) == {"absolute", "relative", "relative_normalized", "k", "num_samples"}
    assert report["num_samples"] == 200
    relative, absolute = report["relative"], report["absolute"]
    assert set(relative) == set(absolute) == {"cka", "cosine", "jaccard", "mrr"}
    assert relative["cosine"] > 0.99 and relative["jaccard"] > 0.9 and relative["mrr"] > 0.9
    assert abs(absolute["cosine"]) < 0.2 and absolute["mrr"] < 0.2
    # CKA is invariant to orthogonal maps and scaling: high in both spaces.
    assert absolute["cka"] > 0.99 and relative["cka"] > 0.99



def test_compare_other_width_has_null_absolute_cosine(world):
    report = json.loads(ok("compare", world["files"]["testA"], world["files"]["testC"], "--json"))
    assert report["absolute"]["cosine"] is None and report["absolute"]["mrr"] is None
    assert report["relative"]["cosine"] is not None
    assert "metric" in ok("compare", world["files"]["testA"], world["files"]["testC"])



def test_compare_reads_a_seeded_sample_of_large_files(world):
    from stitchcli.evaluate.compare import compare_files, sample_positions
    from stitchcli.heads.inputs import FileInputs
    from stitchcli.relspace import RelativeTransform
    from stitchcli.storage.rows import open_rows

    files = world["files"]
    report = json.loads(ok("compare", files["testA"], files["testB"], "--json", "--k", 5, "--max-samples", 50))
    assert report["num_samples"] == 50 and report["sampled_from"] == 200
    assert "50 samples of 200" in ok("compare", files["testA"], files["testB"], "--k", 5, "--max-samples", 50)
    rows = sample_positions(200, 50)
    assert len(rows.unique()) == 50 and torch.equal(rows, sample_positions(200, 50))  # seeded, no repeats
    # The normalised vectors are standardised with the whole files' statistics, then sampled.
    a, b = open_rows(files["testA"]), open_rows(files["testB"])
    whole = FileInputs(a, "relative", RelativeTransform("file")).all()
    assert torch.equal(FileInputs(a, "relative", RelativeTransform("file")).take(rows), whole[rows])
    assert compare_files(a, b, 5, "file", 50) == report
    assert_one_line_error(run_cli("compare", files["testA"], files["testB"], "--max-samples", 1),
                          "--max-samples", exit_code=2)



def test_compare_refuses_other_samples(world):
    assert_one_line_error(run_cli("compare", world["files"]["testA"], world["files"]["trainB"]),
                          "same samples")



def test_metrics_on_identical_spaces():
    x = torch.randn(100, 8)
    assert linear_cka(x, x) == pytest.approx(1.0)
    assert neighbour_jaccard(x, x, 5) == pytest.approx(1.0)
    assert partner_mrr(x, x) == pytest.approx(1.0)

