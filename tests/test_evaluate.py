"""`stitch evaluate`'s report: per-class tables and confusion pictures, and the row a skipped pair keeps."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli
from synthetic import ok


def test_per_class_tables_and_pictures(world, tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "m.png"
    out = ok("evaluate", "--head", world["heads"]["relative"], "--embeddings", world["files"]["testB"],
             "--per-class", "--plot", plot)
    assert "precision" in out and "confusion (rows: true class" in out and "bee" in out
    assert plot.exists() and (tmp_path / "m-confusion-1.png").read_bytes()[:4] == b"\x89PNG"



def test_a_skipped_head_keeps_its_row_with_dashes(world):
    result = run_cli("evaluate", "--head", world["heads"]["relative"], "--head", world["heads"]["absolute"],
                     "--embeddings", world["files"]["testC"], "--skip-incompatible")
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "head-absolute" in line and "absolute" in line]
    assert rows and "—" in rows[0]
    report = json.loads(run_cli("evaluate", "--head", world["heads"]["relative"], "--head",
                                world["heads"]["absolute"], "--embeddings", world["files"]["testC"],
                                "--skip-incompatible", "--json").stdout)
    assert all(r["accuracy"] is not None for r in report["results"])  # --json: what ran only

