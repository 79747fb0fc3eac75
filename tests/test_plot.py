"""`stitch evaluate --plot`: the heatmap's colour scale, picture formats by suffix, and the matplotlib extra."""

from __future__ import annotations

import json

import pytest

from helpers import assert_one_line_error, run_cli
from synthetic import ok


def test_heatmap_scale_runs_from_chance_unless_asked(world, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib.axes

    scales = []
    real = matplotlib.axes.Axes.imshow

    def imshow(self, *args, **kwargs):
        scales.append((kwargs.get("vmin"), kwargs.get("vmax")))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", imshow)
    base = ["evaluate", "--head", world["heads"]["relative"], "--head", world["heads"]["absolute"],
            "--embeddings", world["files"]["testA"], "--embeddings", world["files"]["testB"]]
    ok(*base, "--plot", tmp_path / "a.png")
    ok(*base, "--plot", tmp_path / "b.png", "--plot-range", "data")
    accuracies = [r["accuracy"] for r in json.loads(ok(*base, "--json"))["results"]]
    (low, high), (data_low, data_high) = scales
    assert (low, high) == (min(0.25, min(accuracies)), 1.0)  # four classes: chance is 1/4
    assert (data_low, data_high) == (min(accuracies), max(accuracies))
    assert_one_line_error(run_cli(*base, "--plot", tmp_path / "c.png", "--plot-range", "zoom"),
                          "--plot-range", exit_code=2)


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

