"""Installed packages extend the registries through entry points (a tiny example plugin)."""

from __future__ import annotations

import shutil
import sys
from importlib import invalidate_caches
from pathlib import Path

import pytest
import torch

from stitchcli import plugins
from stitchcli.storage import store

from helpers import run_cli

EXAMPLE = Path(__file__).parent / "plugin_example"
# What pip writes into the .dist-info from the example's pyproject.toml entry points.
ENTRY_POINTS = """[stitchcli.anchor_strategies]
every_other = stitch_every_other:EVERY_OTHER

[stitchcli.similarities]
dot = stitch_every_other:DOT
"""


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """The example installed the way pip leaves a package: the module plus a .dist-info folder."""
    site = tmp_path / "site"
    info = site / "stitch_every_other-0.1.dist-info"
    info.mkdir(parents=True)
    shutil.copy(EXAMPLE / "stitch_every_other.py", site)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: stitch-every-other\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    invalidate_caches()
    plugins.reset()
    yield
    plugins.reset()
    from stitchcli.anchors.strategies import STRATEGIES
    from stitchcli.relspace import SIMILARITIES

    STRATEGIES.pop("every_other", None)
    SIMILARITIES.pop("dot", None)
    sys.modules.pop("stitch_every_other", None)


def test_a_plugin_strategy_and_similarity_work_from_the_cli(installed_plugin, text_csv, world, tmp_path):
    out = tmp_path / "anchors.safetensors"
    result = run_cli("anchors", "--dataset", text_csv, "--num", 3, "--strategy", "every_other", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert store.load(out).tensors["indices"].tolist() == [0, 2, 4]
    relative = tmp_path / "dot.safetensors"
    result = run_cli("relative", "--embeddings", world["files"]["trainA"], "--anchors", world["anchors"],
                     "--similarity", "dot", "--no-center", "--out", relative)
    assert result.exit_code == 0, result.stderr
    file = store.load(relative)
    x = file.tensors["embeddings"]
    assert torch.allclose(file.tensors["relative"], x @ file.tensors["anchor_embeddings"].T, atol=1e-4)


def test_without_the_plugin_the_names_are_unknown(text_csv, tmp_path):
    plugins.reset()
    result = run_cli("anchors", "--dataset", text_csv, "--num", 3, "--strategy", "every_other",
                     "--out", tmp_path / "a.safetensors")
    assert result.exit_code == 2 and "unknown anchor strategy" in result.stderr


def test_a_broken_plugin_is_reported_and_skipped(installed_plugin, text_csv, tmp_path, monkeypatch):
    import stitch_every_other

    monkeypatch.delattr(stitch_every_other, "EVERY_OTHER")  # its entry point no longer resolves
    plugins.reset()
    result = run_cli("anchors", "--dataset", text_csv, "--num", 3, "--strategy", "random",
                     "--out", tmp_path / "a.safetensors")
    assert result.exit_code == 0, result.stderr
    assert "plugin every_other" in result.stderr and "did not load" in result.stderr
