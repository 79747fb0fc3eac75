"""Beyond the paper: compare latent spaces, stitch by latent translation, plot the matrix."""

from __future__ import annotations

import json

import pytest
import torch

from stitchcli.evaluate.compare import linear_cka, neighbour_jaccard, partner_mrr
from stitchcli.translate.maps import fit_translation

from helpers import assert_one_line_error, run_cli


def ok(*args) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


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


@pytest.mark.parametrize("method", ["procrustes", "affine"])
def test_translation_recovers_a_rotation(method):
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(300, 16, generator=generator)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=generator))
    target = 2.0 * source @ q + 1.0
    translate = fit_translation(method, source[:100], target[:100])
    mapped = translate(source[100:])
    if method == "affine":  # exact for an affine relation
        assert torch.allclose(mapped, target[100:], atol=1e-3)
    # Procrustes standard-scales each dimension first, so it recovers the map up to the
    # sampling noise of those per-dimension statistics.
    error = (mapped - target[100:]).norm(dim=1) / (target[100:] - 1.0).norm(dim=1)
    assert float(error.mean()) < 0.2


def test_procrustes_between_different_widths_runs():
    source, target = torch.randn(50, 8), torch.randn(50, 12)
    assert fit_translation("procrustes", source, target)(torch.randn(3, 8)).shape == (3, 12)


def test_evaluate_with_translation_rescues_the_absolute_head(world):
    files, heads = world["files"], world["heads"]
    results = json.loads(ok("evaluate", "--json", "--head", heads["absolute"], "--head", heads["relative"],
                            "--embeddings", files["testA"], "--embeddings", files["testB"],
                            "--embeddings", files["testC"],
                            "--translate", "none", "--translate", "procrustes", "--skip-incompatible"))["results"]
    cell = {(r["space"], r["method"], r["encoder"]): r for r in results}
    own = cell["absolute", "absolute", "synth:A"]["accuracy"]
    assert cell["absolute", "absolute", "synth:B"]["accuracy"] < 0.5
    assert cell["absolute", "procrustes", "synth:B"]["accuracy"] > own - 0.05
    assert cell["absolute", "procrustes", "synth:A"]["accuracy"] == pytest.approx(own, abs=0.02)
    assert ("absolute", "procrustes", "synth:C") in cell  # other width: translation still runs
    assert ("absolute", "absolute", "synth:C") not in cell
    assert {r["method"] for r in results if r["space"] == "relative"} == {"relative"}


def test_unknown_translation_is_refused(world):
    result = run_cli("evaluate", "--head", world["heads"]["absolute"], "--embeddings", world["files"]["testB"],
                     "--translate", "magic")
    assert_one_line_error(result, "unknown translation")


def test_plot_writes_a_png_of_the_matrix(world, tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    plot = tmp_path / "matrix.png"
    ok("evaluate", "--head", world["heads"]["relative"], "--head", world["heads"]["absolute"],
       "--embeddings", world["files"]["testA"], "--embeddings", world["files"]["testB"], "--plot", plot)
    with Image.open(plot) as image:
        assert image.format == "PNG"
        # figsize (3.4 + 1.7·2 columns, 1.4 + 0.6·2 rows) inches at 100 dpi
        assert image.size == (680, 260)


def test_plot_without_matplotlib_names_the_extra(world, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    result = run_cli("evaluate", "--head", world["heads"]["relative"], "--embeddings", world["files"]["testA"],
                     "--plot", tmp_path / "m.png")
    assert_one_line_error(result, "matplotlib")
    assert "stitchcli[plot]" in result.stderr and not (tmp_path / "m.png").exists()


def test_plot_honours_the_suffix_and_refuses_unknown_ones(world, tmp_path):
    pytest.importorskip("matplotlib")
    args = ["evaluate", "--head", world["heads"]["absolute"], "--head", world["heads"]["relative"],
            "--embeddings", world["files"]["testA"], "--embeddings", world["files"]["testC"], "--skip-incompatible"]
    for suffix, magic in ((".svg", b"<?xml"), (".pdf", b"%PDF")):
        plot = tmp_path / f"m{suffix}"
        ok(*args, "--plot", plot)
        assert plot.read_bytes().startswith(magic)
    svg = (tmp_path / "m.svg").read_text()
    # The title explains "—", and the cell of the 16-d encoder C, which the absolute head cannot read, shows it.
    assert svg.count("—") >= 2
    result = run_cli(*args, "--plot", tmp_path / "m.gif")
    assert_one_line_error(result, "picture format")
    assert not (tmp_path / "m.gif").exists()
