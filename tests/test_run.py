"""`stitch run`: the whole matrix for several encoders in one command, reusing up-to-date files."""

from __future__ import annotations

import json

import pytest
import torch

from stitchcli.storage import store

from helpers import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def second_bert(tiny_bert, tmp_path_factory):
    """Another tiny BERT (other seed, other width) with the same tokenizer."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory = tmp_path_factory.mktemp("other") / "tiny-bert-b"
    config = BertConfig(vocab_size=BertTokenizerFast.from_pretrained(tiny_bert).vocab_size, hidden_size=48,
                        num_hidden_layers=1, num_attention_heads=4, intermediate_size=64,
                        max_position_embeddings=128)
    torch.manual_seed(1)
    BertModel(config).save_pretrained(directory)
    BertTokenizerFast.from_pretrained(tiny_bert).save_pretrained(directory)
    return directory


def test_run_writes_every_file_and_the_matrix_then_reuses_them(tiny_bert, second_bert, text_csv, tmp_path):
    out = tmp_path / "run"
    args = ["run", f"hf:{tiny_bert}", f"hf:{second_bert}", "--train", text_csv, "--test", text_csv,
            "--num-anchors", 4, "--out-dir", out, "--json"]
    first = run_cli(*args)
    assert first.exit_code == 0, first.stderr
    results = json.loads(first.stdout)["results"]
    names = {p.name for p in out.iterdir()}
    for stem in (tiny_bert.name, second_bert.name):  # files are named after each spec's last part
        assert {f"{stem}-train.safetensors", f"{stem}-test.safetensors", f"{stem}-relative.safetensors",
                f"{stem}-absolute.safetensors"} <= names
    assert {"anchors.safetensors", "evaluate.json"} <= names
    assert json.loads((out / "evaluate.json").read_text())["results"] == results
    # 2 relative heads × 2 files, 2 absolute heads via ridge × 2 files (translation crosses widths),
    # and the same absolute heads as they are, on their own width only (32-d vs 48-d).
    assert len(results) == 10
    methods = sorted((r["method"], r["stitched"]) for r in results)
    assert methods.count(("ridge", True)) == 2 and methods.count(("absolute", True)) == 0
    embedded = {p: p.stat().st_mtime_ns for p in out.glob("*-t*.safetensors")}
    again = run_cli(*args)
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["results"] == results
    assert {p: p.stat().st_mtime_ns for p in embedded} == embedded  # up to date: not embedded again


def test_run_table_and_refusals(tiny_bert, text_csv, tmp_path):
    result = run_cli("run", f"hf:{tiny_bert}", "--train", text_csv, "--test", text_csv, "--out-dir", tmp_path)
    assert_one_line_error(result, "two or more encoders")
    result = run_cli("run", f"hf:{tiny_bert}", f"hf:{tiny_bert}", "--train", text_csv, "--test", text_csv,
                     "--out-dir", tmp_path)
    assert_one_line_error(result, "distinct names")
    result = run_cli("run", f"hf:{tiny_bert}", "hf:x/b", "--train", text_csv, "--test", text_csv,
                     "--out-dir", tmp_path, "--translate", "magic")
    assert_one_line_error(result, "unknown translation")


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

