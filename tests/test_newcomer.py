"""What a newcomer tripped over (round 2): `stitch run` on small data and with its recipe, numbers whole
at 80 columns, per-class results, honest heatmaps, "—" rows for skipped heads, hints, shard names,
usage lines and what `info` shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from stitchcli.storage import store

from helpers import assert_one_line_error, run_cli
from synthetic import ok


def test_run_on_fewer_train_rows_than_anchors_and_with_its_own_recipe(tiny_bert, text_csv, tmp_path):
    out = tmp_path / "run"
    other = tmp_path / "other-bert"
    import shutil

    shutil.copytree(tiny_bert, other)
    result = run_cli("run", f"hf:{tiny_bert}", f"hf:{other}", "--train", text_csv, "--test", text_csv,
                     "--out-dir", out, "--arch", "prototype", "--topk", 0, "--no-center", "--similarity",
                     "euclidean", "--normalize", "none", "--no-baseline")
    assert result.exit_code == 0, result.stderr
    assert "12 random anchors (every train row" in result.stderr  # 768 asked, 12 rows: all of them
    assert store.load_metadata_checked(out / "anchors.safetensors")["num_anchors"] == "12"
    head = store.load_metadata_checked(out / f"{tiny_bert.name}-relative.safetensors")
    assert (head["arch"], head["topk"], head["normalize"]) == ("prototype", "0", "none")
    assert (head["similarity"], head["center"]) == ("euclidean", "false")


def test_topk_above_the_anchor_count_keeps_all_and_says_so(world, tmp_path):
    out = tmp_path / "h.safetensors"
    result = run_cli("train-head", "--embeddings", world["files"]["trainA"], "--space", "relative",
                     "--topk", 5000, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "--topk 5000 is more than the file's 40 anchors: keeping all 40" in result.stderr
    assert store.load_metadata_checked(out)["topk"] == "40"


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


def test_per_class_tables_and_pictures(world, tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "m.png"
    out = ok("evaluate", "--head", world["heads"]["relative"], "--embeddings", world["files"]["testB"],
             "--per-class", "--plot", plot)
    assert "precision" in out and "confusion (rows: true class" in out and "bee" in out
    assert plot.exists() and (tmp_path / "m-confusion-1.png").read_bytes()[:4] == b"\x89PNG"


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


def test_hints_name_options_that_exist(tmp_path):
    unlabelled = tmp_path / "u.csv"
    unlabelled.write_text("text\nhello\n")
    result = run_cli("prompts", "--labels-from", unlabelled, "--out", tmp_path / "p.csv")
    assert_one_line_error(result, "no labels")
    assert "--label-column" not in result.stderr and "--label NAME" in result.stderr


def test_shard_status_line_names_the_file_written(tiny_bert, text_csv, tmp_path):
    out = tmp_path / "e.safetensors"
    result = run_cli("embed", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--shard", "0/2",
                     "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "e-00001-of-00002.safetensors (shard 1 of 2)" in result.stderr
    assert "{INDEX+1:05d}" in run_cli("embed", "--help").stdout


@pytest.mark.parametrize(("command", "usage"), [("run", "ENCODERS..."), ("compare", "FIRST SECOND"),
                                                 ("info", "FILE"), ("push", "HEAD")])
def test_usage_lines_show_metavars(command, usage):
    out = run_cli(command, "--help").stdout
    assert f"[OPTIONS] {usage}" in out and "{" not in out.split("\n\n")[0] + out.splitlines()[1]


def test_prompts_summary_is_one_sentence():
    out = run_cli("--help").stdout
    summary = out[out.index("prompts"):out.index("info")]
    assert "Write class prompts to a CSV" in summary and "embed it with" not in summary
