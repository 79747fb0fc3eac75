"""Every bad input ends as one `Error:` line on stderr, exit 1, no traceback, nothing written."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from stitchcli.storage import store

from conftest import write_idx
from helpers import assert_one_line_error, run_cli, run_subprocess


@pytest.fixture(scope="module")
def bad(tmp_path_factory, tiny_bert, text_csv, image_npz, timm_weights):
    """Files for the cases below: broken datasets, models, checkpoints and stitchcli files."""
    root = tmp_path_factory.mktemp("bad")
    ns = SimpleNamespace(root=root, bert=tiny_bert, csv=text_csv, npz=image_npz, timm=timm_weights)
    ns.empty = root / "empty.csv"
    ns.empty.write_text("")
    ns.header_only = root / "header.csv"
    ns.header_only.write_text("text,label\n")
    ns.imbalanced = root / "imbalanced.csv"
    ns.imbalanced.write_text("text,label\n" + "".join(f"t{i},{'a' if i else 'b'}\n" for i in range(6)))
    ns.latin1 = root / "latin1.csv"
    ns.latin1.write_bytes("text,label\ncaf\xe9,fresh\n".encode("latin-1"))
    ns.bad_json = root / "bad.jsonl"
    ns.bad_json.write_text('{"text": "ok", "label": 1}\n{"text": oops}\n')
    ns.unknown_format = root / "data.xyz"
    ns.unknown_format.write_text("hello")
    ns.folder = root / "folder"
    (ns.folder / "cat").mkdir(parents=True)
    (ns.folder / "cat" / "broken.png").write_bytes(b"\x89PNG not really")
    ns.idx = root / "t10k-images-idx3-ubyte"
    write_idx(ns.idx, torch.zeros(2, 4, 4, dtype=torch.uint8).numpy())
    ns.empty_model = root / "empty-model"
    ns.empty_model.mkdir()
    ns.no_weights = root / "no-weights"
    ns.no_weights.mkdir()
    (ns.no_weights / "config.json").write_text(json.dumps({"model_type": "bert"}))
    ns.pickle = root / "evil.pth"
    torch.save({"when": datetime.date(2020, 1, 1)}, ns.pickle)
    ns.not_safetensors = root / "junk.safetensors"
    ns.not_safetensors.write_bytes(b"\x00" * 3 + b"nonsense")
    ns.foreign = root / "foreign.safetensors"
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(ns.foreign))
    ns.embeddings = root / "emb.safetensors"
    assert run_cli("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv,
                   "--out", ns.embeddings).exit_code == 0
    ns.truncated = root / "truncated.safetensors"
    ns.truncated.write_bytes(ns.embeddings.read_bytes()[:-40])
    file = store.load(ns.embeddings)
    ns.nan = root / "nan.safetensors"
    poisoned = dict(file.tensors, embeddings=file.tensors["embeddings"].clone())
    poisoned["embeddings"][0, 0] = float("nan")
    store.save(ns.nan, "embeddings", poisoned,
               {k: v for k, v in file.metadata.items() if k not in ("format", "kind")})
    ns.anchors = root / "anchors.safetensors"
    assert run_cli("anchors", "-q", "--dataset", text_csv, "--num", 4, "--out", ns.anchors).exit_code == 0
    ns.moved_source = root / "moved.csv"
    ns.moved_source.write_text(text_csv.read_text())
    ns.stale_anchors = root / "stale-anchors.safetensors"
    assert run_cli("anchors", "-q", "--dataset", ns.moved_source, "--num", 4, "--no-samples",
                   "--out", ns.stale_anchors).exit_code == 0
    ns.moved_source.write_text(text_csv.read_text().replace("great", "grand"))
    return ns


OUT = "OUT"  # replaced by a fresh output path per case

CASES = {
    "unknown encoder source": (lambda b: ["embed", "--encoder", "foo:bar", "--dataset", b.csv, "--out", OUT],
                               "unknown encoder source"),
    "spec without prefix": (lambda b: ["embed", "--encoder", "bert-base-cased", "--dataset", b.csv, "--out", OUT],
                            "no source prefix"),
    "model dir without config": (lambda b: ["embed", "--encoder", f"hf:{b.empty_model}", "--dataset", b.csv,
                                            "--out", OUT], "no config.json"),
    "model dir without weights": (lambda b: ["embed", "--encoder", f"hf:{b.no_weights}", "--dataset", b.csv,
                                             "--out", OUT], "no weights"),
    "missing model dir": (lambda b: ["embed", "--encoder", f"hf:{b.root}/nope/model", "--dataset", b.csv,
                                     "--out", OUT], "not found"),
    "pickle refused by weights_only": (lambda b: ["embed", "--encoder", "timm:test_resnet", "--weights", b.pickle,
                                                  "--dataset", b.npz, "--out", OUT], "refusing to load"),
    "missing weights file": (lambda b: ["embed", "--encoder", "timm:test_resnet", "--weights", b.root / "x.pth",
                                        "--dataset", b.npz, "--out", OUT], "not found"),
    "unknown timm model": (lambda b: ["embed", "--encoder", "timm:resnet_does_not_exist", "--dataset", b.npz,
                                      "--out", OUT], "unknown timm model"),
    "dataset missing": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.root / "no.csv",
                                   "--out", OUT], "not found"),
    "dataset empty": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.empty, "--out", OUT],
                      "empty"),
    "dataset header only": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.header_only,
                                       "--out", OUT], "no rows"),
    "dataset not utf-8": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.latin1, "--out", OUT],
                          "not UTF-8"),
    "bad jsonl line": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.bad_json, "--out", OUT],
                       "line 2"),
    "unknown dataset format": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.unknown_format,
                                          "--out", OUT], "cannot tell the format"),
    "missing text column": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv,
                                       "--text-column", "body", "--out", OUT], "no text column 'body'"),
    "missing label column": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv,
                                        "--label-column", "y", "--out", OUT], "no label column 'y'"),
    "unreadable image": (lambda b: ["embed", "--encoder", "timm:test_resnet", "--weights", b.timm,
                                    "--dataset", b.folder, "--out", OUT], "cannot read image"),
    "text encoder on images": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.npz,
                                          "--out", OUT], "text encoder"),
    "limit zero": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv, "--limit", 0,
                              "--out", OUT], "--limit"),
    "limit negative": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv, "--limit", -3,
                                  "--out", OUT], "--limit"),
    "batch size zero": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv, "--batch-size", 0,
                                   "--out", OUT], "--batch-size"),
    "cuda without gpu": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv, "--device", "cuda",
                                    "--out", OUT], "no CUDA GPU"),
    "unknown device": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv, "--device", "tpu",
                                  "--out", OUT], "unknown device"),
    "unknown dtype": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv, "--dtype", "int8",
                                 "--out", OUT], "unknown dtype"),
    "unknown pooling": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv, "--pooling", "max",
                                   "--out", OUT], "unknown pooling"),
    "output directory missing": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv,
                                            "--out", b.root / "no" / "dir" / "x.safetensors"], "does not exist"),
    "anchors larger than dataset": (lambda b: ["anchors", "--dataset", b.csv, "--num", 13, "--out", OUT],
                                    "from a dataset of 12"),
    "stratified beyond class sizes": (lambda b: ["anchors", "--dataset", b.imbalanced, "--num", 4,
                                                 "--strategy", "stratified", "--out", OUT], "smallest"),
    "unknown strategy": (lambda b: ["anchors", "--dataset", b.csv, "--num", 2, "--strategy", "best",
                                    "--out", OUT], "unknown anchor strategy", 2),
    "anchors source changed (no samples kept)": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv, "--anchors",
                                          b.stale_anchors, "--out", OUT], "changed since"),
    "embed with unknown similarity": (lambda b: ["embed", "--encoder", f"hf:{b.bert}", "--dataset", b.csv,
                                                 "--anchors", b.anchors, "--similarity", "dot", "--out", OUT],
                                      "unknown similarity"),
    "truncated safetensors": (lambda b: ["train-head", "--embeddings", b.truncated, "--out", OUT],
                              "truncated or corrupt"),
    "not safetensors at all": (lambda b: ["train-head", "--embeddings", b.not_safetensors, "--out", OUT],
                               "not a valid safetensors"),
    "safetensors but not stitchcli": (lambda b: ["train-head", "--embeddings", b.foreign, "--out", OUT],
                                      "not a stitchcli file"),
    "anchors given as embeddings": (lambda b: ["train-head", "--embeddings", b.anchors, "--out", OUT],
                                    "expected an embeddings file"),
    "relative head without relative vectors": (lambda b: ["train-head", "--embeddings", b.embeddings,
                                                          "--space", "relative", "--out", OUT],
                                               "no 'relative' tensor"),
    "translated head without anchor embeddings": (lambda b: ["train-head", "--embeddings", b.embeddings,
                                                             "--out", OUT], "no anchor embeddings"),
    "nan in embeddings": (lambda b: ["train-head", "--embeddings", b.nan, "--space", "absolute", "--out", OUT],
                          "NaN"),
    "unknown head architecture": (lambda b: ["train-head", "--embeddings", b.embeddings, "--space", "absolute",
                                             "--arch", "transformer", "--out", OUT], "unknown head architecture"),
    "epochs zero": (lambda b: ["train-head", "--embeddings", b.embeddings, "--space", "absolute", "--epochs", 0,
                               "--out", OUT], "--epochs"),
    "relative without anchor embeddings": (lambda b: ["relative", "--embeddings", b.nan, "--anchors",
                                                      b.stale_anchors, "--out", OUT], "no embeddings of anchor set"),
    "info on a missing file": (lambda b: ["info", b.root / "nothing.safetensors"], "not found"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_error_and_writes_nothing(bad, case, tmp_path):
    build, expected, *exit_code = CASES[case]
    out = tmp_path / "out.safetensors"
    args = [str(out) if a == OUT else str(a) for a in build(bad)]
    before = set(tmp_path.iterdir())
    result = run_cli(*args)
    assert_one_line_error(result, expected, *exit_code)
    assert set(tmp_path.iterdir()) == before, "something was written"


def test_errors_through_a_real_process(bad, tmp_path):
    result = run_subprocess("embed", "--encoder", "nope:x", "--dataset", bad.csv, "--out", tmp_path / "o.safetensors")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: unknown encoder source") and "Traceback" not in result.stderr


def test_debug_shows_the_traceback(bad, tmp_path):
    result = run_subprocess("--debug", "embed", "--encoder", "nope:x", "--dataset", bad.csv,
                            "--out", tmp_path / "o.safetensors")
    assert result.returncode == 1 and "Error:" in result.stderr


def test_unexpected_exceptions_become_one_line_with_a_hint(monkeypatch, bad, tmp_path):
    from stitchcli import embed as job

    def boom(request):
        raise RuntimeError("something deep broke\nwith a second line")

    monkeypatch.setattr(job, "run_embed", boom)
    result = run_cli("embed", "--encoder", "hf:x", "--dataset", bad.csv, "--out", tmp_path / "o.safetensors")
    assert_one_line_error(result, "RuntimeError: something deep broke")
    assert "--debug" in result.stderr


def test_trust_remote_code_is_off_unless_asked(monkeypatch, tiny_bert):
    seen = {}
    import transformers

    real = transformers.AutoModel.from_pretrained

    def spy(*args, **kwargs):
        seen["trust_remote_code"] = kwargs.get("trust_remote_code")
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", spy)
    from stitchcli.encoders import EncoderOptions, load_encoder

    load_encoder(f"hf:{tiny_bert}", EncoderOptions(device="cpu"))
    assert seen["trust_remote_code"] is False
    load_encoder(f"hf:{tiny_bert}", EncoderOptions(device="cpu", trust_remote_code=True))
    assert seen["trust_remote_code"] is True


def _unused(path: Path) -> None:  # keeps Path imported for type hints in lambdas above
    del path


def test_hints_name_options_that_exist(tmp_path):
    unlabelled = tmp_path / "u.csv"
    unlabelled.write_text("text\nhello\n")
    result = run_cli("prompts", "--labels-from", unlabelled, "--out", tmp_path / "p.csv")
    assert_one_line_error(result, "no labels")
    assert "--label-column" not in result.stderr and "--label NAME" in result.stderr

