"""Hostile sources and inputs (issue 28, classes 4, 7 and 8): sources read loosely (duplicate columns,
JSONL texts that are not strings, lines split inside strings, ids re-read from an edited source), the
Python API's inputs, and internal errors that ended in the "looks like a bug" hint (value heads in a
model card, ``--out .``, broken ``.npy``/``.npz`` files, texts past the position limit, upper-case
suffixes). Each case is a real attack through the CLI or the API: a refusal is one ``Error:`` line
(exit 1, no traceback, no bug hint), and where working is the right answer the command works."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import stitchcli as st
from stitchcli.errors import StitchError

from conftest import TEXTS
from helpers import assert_one_line_error, run_cli
from synthetic import write_embeddings

BUG_HINT = "looks like a bug"


def ok(*args) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    assert BUG_HINT not in result.stderr
    return result.stdout


def refused(result, contains: str) -> None:
    assert BUG_HINT not in (result.stderr or ""), result.stderr
    assert_one_line_error(result, contains)


def _csv(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _jsonl(path: Path, rows, ensure_ascii: bool = True) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=ensure_ascii) + "\n" for row in rows), encoding="utf-8")
    return path


def _anchors(tmp_path: Path, *source) -> object:
    return run_cli("anchors", "-q", *source, "--num", 2, "--out", tmp_path / "anchors.safetensors")


ROWS = [{"text": text, "label": label} for text, label in TEXTS[:6]]


@pytest.fixture(scope="module")
def world(tmp_path_factory, tiny_bert) -> dict:
    """A CSV with ids, a synthetic embeddings file of it with an absolute head; a text head carrying its
    anchors (tiny BERT); a reconstruction head on synthetic vectors of an NPZ of images; ids, anchors
    chosen among them and vectors to import."""
    root = tmp_path_factory.mktemp("hostile-sources")
    generator = torch.Generator().manual_seed(0)
    table = _csv(root / "ids.csv", ["id", "text", "label"],
                 [(f"id-{i}", text, label) for i, (text, label) in enumerate(TEXTS)])
    labels = torch.tensor([0 if label == "fresh" else 1 for _, label in TEXTS])
    emb = write_embeddings(root / "ids.safetensors", table, torch.randn(len(TEXTS), 8, generator=generator),
                           labels, "synth:A", label_names=["fresh", "rotten"])
    head = root / "head.safetensors"
    ok("train-head", "-q", "--embeddings", emb, "--translate", "none", "--epochs", 1, "--out", head)

    anchors = root / "text-anchors.safetensors"
    source = _csv(root / "reviews.csv", ["text", "label"], TEXTS)
    ok("anchors", "-q", "--dataset", source, "--num", 4, "--out", anchors)
    text_emb = root / "text.safetensors"
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", source, "--anchors", anchors, "--out", text_emb)
    text_head = root / "text-head.safetensors"
    ok("train-head", "-q", "--embeddings", text_emb, "--space", "relative", "--epochs", 1, "--out", text_head)

    images = (torch.rand(12, 8, 8, generator=generator) * 255).to(torch.uint8).numpy()
    npz = root / "images.npz"
    np.savez(npz, images=images, labels=np.arange(12) % 2)
    image_emb = write_embeddings(root / "images.safetensors", npz, torch.randn(12, 8, generator=generator),
                                 torch.arange(12) % 2, "synth:A", label_names=["0", "1"])
    recon = root / "recon.safetensors"
    ok("train-head", "-q", "--embeddings", image_emb, "--task", "reconstruction", "--target-size", 4,
       "--translate", "none", "--epochs", 1, "--out", recon)

    (root / "vec-ids.txt").write_text("".join(f"v{i}\n" for i in range(6)))
    ok("anchors", "-q", "--ids", root / "vec-ids.txt", "--num", 2, "--out", root / "id-anchors.safetensors")
    np.save(root / "vectors.npy", np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32))
    return {"root": root, "table": table, "emb": emb, "head": head, "text_head": text_head,
            "recon": recon, "image_emb": image_emb, "tiny_bert": tiny_bert}


# ---------------------------------------------------------------- class 4: sources read loosely

def _parquet(path: Path, columns: dict[str, list], names: list[str] | None = None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = names or list(columns)
    pq.write_table(pa.Table.from_arrays([pa.array(v) for v in columns.values()], names=names), path)
    return path


def _written(name: str, text: str, expected: str):
    """A source file written as ``text`` (exactly, not through a writer that would tidy it), refused
    by `stitch anchors` with ``expected`` in the one error line."""
    def case(w, tmp):
        source = tmp / name
        source.write_text(text, encoding="utf-8")
        return _anchors(tmp, "--dataset", source), expected
    return case


def duplicate_parquet_column(w, tmp):
    source = _parquet(tmp / "dup.parquet", {"a": ["a", "b", "c"], "b": ["d", "e", "f"], "c": ["x", "y", "x"]},
                      names=["text", "text", "label"])
    return _anchors(tmp, "--dataset", source), "two columns named 'text'"


def _text_value(value):
    def case(w, tmp):
        source = _jsonl(tmp / "t.jsonl", [*ROWS[:2], {"text": value, "label": "fresh"}, *ROWS[2:]])
        return _anchors(tmp, "--dataset", source), "row 2: column 'text' holds"
    return case


def parquet_text_of_numbers(w, tmp):
    source = _parquet(tmp / "n.parquet", {"text": [1, 2, 3, 4], "label": ["x", "y", "x", "y"]})
    return _anchors(tmp, "--dataset", source), "text column 'text' holds int64 values"


def jsonl_label_list(w, tmp):
    source = _jsonl(tmp / "l.jsonl", [*ROWS[:3], {"text": "a film", "label": ["fresh"]}])
    return _anchors(tmp, "--dataset", source), "label in row 3 is a list"


def _separator(char: str):
    def case(w, tmp):
        rows = [*ROWS[:2], {"text": f"one line{char}still the same line", "label": "fresh"}, *ROWS[2:]]
        source = _jsonl(tmp / "sep.jsonl", rows, ensure_ascii=False)
        assert char in source.read_text(encoding="utf-8")
        result = _anchors(tmp, "--dataset", source)
        if result.exit_code == 0:
            assert json.loads(ok("info", tmp / "anchors.safetensors", "--json")) is not None
        return result, None
    return case


def broken_save_to_disk_state(w, tmp):
    folder = tmp / "saved"
    folder.mkdir()
    (folder / "state.json").write_text('{"_data_files": [{"name": "data-00000-of-00001.arrow"}]}')
    return _anchors(tmp, "--dataset", folder), "not a `datasets.save_to_disk` state file"


def empty_ids_npy(w, tmp):
    (tmp / "ids.npy").write_bytes(b"")
    return _anchors(tmp, "--ids", tmp / "ids.npy"), "not a readable .npy array of ids"


def predict_ids_of_an_edited_source(w, tmp):
    table = tmp / "ids.csv"
    shutil.copy(w["table"], table)
    emb = write_embeddings(tmp / "e.safetensors", table, torch.randn(len(TEXTS), 8), torch.zeros(len(TEXTS)),
                           "synth:A", label_names=["fresh", "rotten"])
    lines = table.read_text(encoding="utf-8").splitlines()
    table.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")  # rows reordered
    return run_cli("predict", "--head", w["head"], "--embeddings", emb, "--id-column", "id",
                   "--out", tmp / "p.csv"), "changed since"


# ---------------------------------------------------------------- class 8: internal errors

def _results(rows) -> dict:
    return {"results": rows}


VALUE_ROW = {"head": "h", "head_encoder": "hf:a", "embeddings": "e", "encoder": "hf:b", "space": "absolute",
             "stitched": True, "accuracy": None, "macro_f1": None, "num_samples": 12, "method": "ridge",
             "task": "regression", "metric": "mse", "mse": 0.25, "r2": 0.5, "psnr": None}
SKIPPED_ROW = {**VALUE_ROW, "task": "classification", "metric": "accuracy", "mse": None, "r2": None}


def _push(report, contains, card_holds: str = ""):
    def case(w, tmp):
        results = tmp / "evaluate.json"
        results.write_text(json.dumps(report), encoding="utf-8")
        result = run_cli("push", w["head"], "--repo", "org/name", "--to-folder", tmp / "repo", "--results", results)
        if contains is None and result.exit_code == 0:
            card = (tmp / "repo" / "README.md").read_text(encoding="utf-8")
            assert "## Stitching results" in card and card_holds in card
        return result, contains
    return case


def reconstruction_out_dot(w, tmp, monkeypatch):
    here = tmp / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    return run_cli("predict", "--head", w["recon"], "--embeddings", w["image_emb"], "--out", "."), "current folder"


def _import(name: str, content: bytes | None, contains, labels: bytes | None = None):
    def case(w, tmp):
        vectors = tmp / name
        if content is None:
            shutil.copy(w["root"] / "vectors.npy", vectors)
        else:
            vectors.write_bytes(content)
        extra = []
        if labels is not None:
            (tmp / "labels.txt").write_bytes(labels)
            extra = ["--labels", tmp / "labels.txt"]
        return run_cli("import", vectors, "--ids", w["root"] / "vec-ids.txt", *extra, "--anchors",
                       w["root"] / "id-anchors.safetensors", "--out", tmp / "imported.safetensors"), contains
    return case


def text_past_the_position_limit(w, tmp):
    source = _csv(tmp / "long.csv", ["text", "label"], [*TEXTS[:3], (" ".join(["good"] * 300), "fresh")])
    return run_cli("embed", "-q", "--encoder", f"hf:{w['tiny_bert']}", "--dataset", source,
                   "--out", tmp / "long.safetensors"), None


def upper_case_parquet_source(w, tmp):
    source = _parquet(tmp / "data.PARQUET", {"text": ["a", "b", "c"], "label": ["x", "y", "x"]})
    return _anchors(tmp, "--dataset", source), None


def upper_case_safetensors_weights(w, tmp):
    from safetensors.torch import save_file
    from transformers import BertModel

    weights = tmp / "weights.SAFETENSORS"
    save_file({k: v.contiguous() for k, v in BertModel.from_pretrained(str(w["tiny_bert"])).state_dict().items()},
              str(weights))
    source = _csv(tmp / "s.csv", ["text", "label"], TEXTS[:3])
    return run_cli("embed", "-q", "--encoder", f"hf:{w['tiny_bert']}", "--weights", weights, "--dataset", source,
                   "--out", tmp / "w.safetensors"), None


CLI_CASES = {
    "csv-duplicate-header": _written("dup.csv", "text,text,label\na,b,x\nc,d,y\ne,f,x\n",
                                     "two columns named 'text'"),
    "tsv-duplicate-header": _written("dup.tsv", "text\tlabel\tlabel\na\tx\ty\nc\ty\tx\ne\tx\tx\n",
                                     "two columns named 'label'"),
    "jsonl-duplicate-key": _written("dup.jsonl", '{"text": "a", "label": "x"}\n'
                                    '{"text": "b", "text": "c", "label": "y"}\n{"text": "d", "label": "x"}\n',
                                    "line 2 has two columns named 'text'"),
    "parquet-duplicate-column": duplicate_parquet_column,
    "jsonl-text-list": _text_value(["a", "b"]),
    "jsonl-text-object": _text_value({"a": 1}),
    "jsonl-text-boolean": _text_value(True),
    "jsonl-text-number": _text_value(3.5),
    "parquet-text-numbers": parquet_text_of_numbers,
    "jsonl-label-list": jsonl_label_list,
    "jsonl-u2028-in-a-string": _separator("\u2028"),
    "jsonl-u2029-in-a-string": _separator("\u2029"),
    "jsonl-nel-in-a-string": _separator("\x85"),
    "csv-row-past-the-header": _written("extra.csv", "text,label\na film,fresh,and a stray field\n"
                                        "bad,rotten\ngood,fresh\n", "row 0 has 3 fields but the header names 2"),
    "broken-save-to-disk-state": broken_save_to_disk_state,
    "empty-ids-npy": empty_ids_npy,
    "predict-ids-of-an-edited-source": predict_ids_of_an_edited_source,
    "push-value-head-results": _push(_results([VALUE_ROW]), None, "| MSE | R² |"),
    "push-skipped-pair-nulls": _push(_results([SKIPPED_ROW]), None, "| — | — |"),
    "push-results-entry-not-an-object": _push(_results([1]), "results entry 0"),
    "push-results-accuracy-a-string": _push(_results([{**SKIPPED_ROW, "accuracy": "high"}]), "not a number"),
    "reconstruction-out-dot": reconstruction_out_dot,
    "import-empty-npy": _import("v.npy", b"", "no readable vectors"),
    "import-labels-not-utf8": _import("v.npy", None, "not UTF-8", labels=b"caf\xe9\n" * 6),
    "import-npz-not-a-zip": _import("v.npz", b"not an archive at all", "not a readable .npz"),
    "import-upper-case-npy": _import("v.NPY", None, None),
    "text-past-the-position-limit": text_past_the_position_limit,
    "upper-case-parquet-source": upper_case_parquet_source,
    "upper-case-safetensors-weights": upper_case_safetensors_weights,
}


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_hostile_cli_case(name, world, tmp_path, monkeypatch):
    case = CLI_CASES[name]
    result, contains = (case(world, tmp_path, monkeypatch) if name == "reconstruction-out-dot"
                        else case(world, tmp_path))
    if contains is None:  # working is the right answer
        assert result.exit_code == 0, result.stderr
        assert BUG_HINT not in result.stderr
    else:
        refused(result, contains)


# ---------------------------------------------------------------- class 7: the Python API's inputs

@pytest.fixture(scope="module")
def api(world) -> dict:
    return {"head": st.load_head(world["text_head"]), "plain": st.load_head(world["head"]),
            "encoder": st.load_encoder(f"hf:{world['tiny_bert']}", device="cpu"),
            "spec": f"hf:{world['tiny_bert']}", "x": np.random.default_rng(0).normal(size=(6, 4))}


API_CASES = {
    "predict-a-dict": (lambda a: a["head"].predict({"a great movie": 1}, encoder=a["encoder"]), "not dict"),
    "predict-a-set": (lambda a: a["head"].predict({"a", "b"}, encoder=a["encoder"]), "not set"),
    "predict-top-k-a-string": (lambda a: a["head"].predict(["a"], encoder=a["encoder"], top_k="1"), "top_k"),
    "predict-batch-size-a-string": (lambda a: a["head"].predict(["a"], encoder=a["encoder"], batch_size="8"),
                                    "batch_size"),
    "predict-vectors-top-k-none": (lambda a: a["plain"].predict_vectors(np.zeros((2, 8)), top_k=None), "top_k"),
    "embed-batch-size-a-float": (lambda a: a["encoder"].embed(["a"], batch_size=2.5), "batch_size"),
    "load-encoder-max-length-a-string": (lambda a: st.load_encoder(a["spec"], max_length="64"), "max_length"),
    "train-head-labels-none": (lambda a: st.train_head(a["x"], None, translate="none"), "labels must be"),
    "train-head-labels-a-number": (lambda a: st.train_head(a["x"], 6, translate="none"), "labels must be"),
    "train-head-a-none-label": (lambda a: st.train_head(a["x"], ["a", None] * 3, translate="none"), "row 1"),
    "train-head-fractional-ids": (lambda a: st.train_head(a["x"], [0.5, 1] * 3, label_names=["a", "b"],
                                                          translate="none"), "integer ids"),
    "train-head-epochs-a-string": (lambda a: st.train_head(a["x"], ["a", "b"] * 3, translate="none", epochs="2"),
                                   "epochs"),
    "train-head-lr-a-string": (lambda a: st.train_head(a["x"], ["a", "b"] * 3, translate="none", lr="0.1"), "lr"),
    "train-head-similarity-a-number": (lambda a: st.train_head(a["x"], ["a", "b"] * 3, anchors=a["x"][:3],
                                                               space="relative", similarity=3), "similarity"),
    "train-head-center-a-string": (lambda a: st.train_head(a["x"], ["a", "b"] * 3, anchors=a["x"][:3],
                                                           space="relative", center="no"), "center"),
    "train-head-anchor-set-a-number": (lambda a: st.train_head(a["x"], ["a", "b"] * 3, anchors=a["x"][:3],
                                                               anchor_set=3), "anchor_set"),
    "relative-center-a-string": (lambda a: st.relative(a["x"], a["x"][:3], center="no"), "center"),
    "predict-vectors-translate-a-number": (lambda a: a["plain"].predict_vectors(np.zeros((2, 8)), translate=3),
                                           "translate must be a name"),
    "save-to-none": (lambda a: a["plain"].save(None), "path must be a file path"),
}


@pytest.mark.parametrize("name", list(API_CASES))
def test_hostile_api_case(name, api):
    call, contains = API_CASES[name]
    with pytest.raises(StitchError) as excinfo:
        call(api)
    message = str(excinfo.value)
    assert "\n" not in message and contains in message, message
