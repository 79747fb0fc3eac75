"""`stitch predict --encoder --dataset`: heads carry their anchors, embed them with an encoder they never
saw, predict exactly what `evaluate` / `predict --embeddings` do, resume after kill -9, reuse the
anchor cache; heads from folders and the hub; `stitch push`; the Python API."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stitchcli.storage import store

from conftest import WORDS
from helpers import assert_one_line_error, ok, run_cli, write_texts


@pytest.fixture(scope="module")
def trained(tiny_bert, tmp_path_factory):
    """Heads on the tiny BERT's train file (anchors with their samples), a labelled test file."""
    root = tmp_path_factory.mktemp("heads")
    rng = random.Random(0)
    rows = [(" ".join(rng.choice(WORDS) for _ in range(8)), "pos" if i % 2 else "neg") for i in range(60)]
    train, test = write_texts(root / "train.csv", rows[:40]), write_texts(root / "test.csv", rows[40:])
    anchors, embeddings = root / "anchors.safetensors", root / "train.safetensors"
    ok("anchors", "-q", "--dataset", train, "--num", 16, "--out", anchors)
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", train, "--anchors", anchors, "--out", embeddings)
    heads = {}
    for kind, extra in {"translated": [], "relative": ["--space", "relative"],
                        "plain": ["--translate", "none"]}.items():
        heads[kind] = root / f"{kind}.safetensors"
        ok("train-head", "-q", "--embeddings", embeddings, "--out", heads[kind], *extra)
    return {"root": root, "train": train, "test": test, "anchors": anchors, "heads": heads, "rows": rows}


def predict_json(*args) -> dict:
    return json.loads(ok("predict", *args, "--json"))


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("kind", ["translated", "relative", "plain"])
def test_predict_on_data_equals_evaluate_and_predict_embeddings(trained, tiny_bert, other_bert, tmp_path, kind):
    head = trained["heads"][kind]
    encoder = tiny_bert if kind == "plain" else other_bert  # a plain absolute head reads its own encoder only
    embedded = tmp_path / "test.safetensors"
    ok("embed", "-q", "--encoder", f"hf:{encoder}", "--dataset", trained["test"], "--anchors", trained["anchors"],
       "--out", embedded)
    [result] = json.loads(ok("evaluate", "--head", head, "--embeddings", embedded, "--json"))["results"]
    direct = predict_json("--head", head, "--encoder", f"hf:{encoder}", "--dataset", trained["test"],
                          "--out", tmp_path / "a.csv")
    stored = predict_json("--head", head, "--embeddings", embedded, "--out", tmp_path / "b.csv")
    assert direct["accuracy"] == pytest.approx(result["accuracy"], abs=1e-12) == stored["accuracy"]
    assert read_rows(tmp_path / "a.csv") == read_rows(tmp_path / "b.csv")
    assert not list(tmp_path.glob(".a.csv*"))  # the work file is gone once predictions are written


def test_the_head_file_alone_predicts_from_another_folder(trained, tiny_bert, other_bert, tmp_path, monkeypatch):
    # Everything the head was made from lives in a folder that is then deleted.
    made = tmp_path / "made"
    made.mkdir()
    train = shutil.copy(trained["train"], made / "train.csv")
    ok("anchors", "-q", "--dataset", train, "--num", 16, "--out", made / "anchors.safetensors")
    ok("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", train, "--anchors", made / "anchors.safetensors",
       "--out", made / "train.safetensors")
    head = tmp_path / "head.safetensors"
    summary = json.loads(ok("train-head", "--embeddings", made / "train.safetensors", "--out", head, "--json"))
    assert summary["anchor_samples"] == "stored"
    shutil.rmtree(made)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    unlabelled = write_texts(elsewhere / "new.csv", trained["rows"][40:], labelled=False)
    summary = predict_json("--head", head, "--encoder", f"hf:{other_bert}", "--dataset", unlabelled,
                           "--out", "p.jsonl", "--top-k", 2)
    assert summary["num_samples"] == 20 and summary["accuracy"] is None
    rows = [json.loads(line) for line in (elsewhere / "p.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == list(range(20))
    assert all(row["label"] in ("neg", "pos") and len(row["top_k"]) == 2 for row in rows)


def test_anchor_cache_is_hit_the_second_time_only_for_the_same_encoder_and_anchors(
        trained, tiny_bert, other_bert, tmp_path, monkeypatch):
    from stitchcli.embed import job as embed_job

    groups = []
    real = embed_job.embed_chunks
    monkeypatch.setattr(embed_job, "embed_chunks", lambda enc, data, rows, *a, **k: (
        groups.append((a[3], len(rows))), real(enc, data, rows, *a, **k))[1])

    def anchors_embedded(*extra) -> bool:
        groups.clear()
        ok("predict", "-q", "--head", trained["heads"]["relative"], "--dataset", trained["test"],
           "--out", tmp_path / "p.csv", *extra)
        return any(group == "anchors" for group, _ in groups)

    assert anchors_embedded("--encoder", f"hf:{other_bert}")
    assert not anchors_embedded("--encoder", f"hf:{other_bert}")  # the cache
    assert anchors_embedded("--encoder", f"hf:{other_bert}", "--max-length", 8)  # other options
    assert anchors_embedded("--encoder", f"hf:{tiny_bert}")  # another encoder


def test_cache_key_changes_with_encoder_options_and_anchor_set(trained):
    from dataclasses import replace

    from stitchcli.anchors import load_anchor_set
    from stitchcli.embed.anchor_cache import anchor_cache_key
    from stitchcli.encoders import EncoderOptions

    anchors = load_anchor_set(trained["anchors"])
    key = anchor_cache_key("hf:a", EncoderOptions(), "mean", None, anchors)
    assert key == anchor_cache_key("hf:a", EncoderOptions(), "mean", None, load_anchor_set(trained["anchors"]))
    others = [anchor_cache_key("hf:b", EncoderOptions(), "mean", None, anchors),
              anchor_cache_key("hf:a", EncoderOptions(max_length=8), "mean", None, anchors),
              anchor_cache_key("hf:a", EncoderOptions(), "cls", None, anchors),
              anchor_cache_key("hf:a", EncoderOptions(), "mean", None, replace(anchors, fingerprint="other"))]
    assert key not in others and len(set(others)) == 4


def test_killed_predict_resumes_to_identical_output(trained, other_bert, tmp_path):
    rng = random.Random(1)
    data = write_texts(tmp_path / "many.csv", [(" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))),)
                                               for _ in range(2500)], labelled=False)
    args = ["predict", "--head", str(trained["heads"]["translated"]), "--encoder", f"hf:{other_bert}",
            "--dataset", str(data), "--batch-size", "16", "--device", "cpu", "-q"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    reference = tmp_path / "reference.csv"
    subprocess.run([sys.executable, "-m", "stitchcli", *args, "--out", str(reference)], check=True, env=env)
    out = tmp_path / "p.csv"
    process = subprocess.Popen([sys.executable, "-m", "stitchcli", *args, "--out", str(out)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    partial = tmp_path / ".p.csv.embeddings.safetensors.partial"
    deadline = time.monotonic() + 180
    while not any(partial.glob("data-*.safetensors")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert not out.exists()
    rerun = subprocess.run([sys.executable, "-m", "stitchcli", *args[:-1], "--out", str(out)], env=env,
                           capture_output=True, text=True, check=True)
    assert "resuming embedding" in rerun.stderr
    assert out.read_bytes() == reference.read_bytes()


def test_refusals(trained, tiny_bert, image_folder, timm_weights, world, tmp_path):
    head = trained["heads"]["relative"]
    assert_one_line_error(run_cli("predict", "--head", head, "--encoder", "timm:test_resnet", "--dataset", image_folder,
                                  "--out", tmp_path / "p.csv"), "holds text anchors, but the data are images")
    assert_one_line_error(run_cli("predict", "--head", head, "--encoder", f"hf:{tiny_bert}", "--dataset",
                                  trained["test"], "--top-k", 3, "--out", tmp_path / "p.csv"),
                          "between 1 and the head's 2 classes", exit_code=2)
    assert_one_line_error(run_cli("predict", "--head", head, "--encoder", f"hf:{tiny_bert}", "--dataset",
                                  trained["test"], "--out", tmp_path / "p.txt"), "unknown suffix", exit_code=2)
    assert_one_line_error(run_cli("predict", "--head", head, "--out", tmp_path / "p.csv"), "either", exit_code=2)
    assert_one_line_error(run_cli("predict", "--head", head, "--encoder", f"hf:{tiny_bert}",
                                  "--out", tmp_path / "p.csv"), "give --dataset", exit_code=2)
    # A head from before heads carried anchors (the synthetic world's) cannot embed them anew.
    assert_one_line_error(run_cli("predict", "--head", world["heads"]["relative"], "--encoder", f"hf:{tiny_bert}",
                                  "--dataset", trained["test"], "--out", tmp_path / "p.csv"),
                          "does not carry its anchor set")
    assert not list(tmp_path.iterdir())


def test_heads_from_a_folder_and_from_the_hub_cache(trained, other_bert, tmp_path, monkeypatch):
    from huggingface_hub import constants

    head = trained["heads"]["translated"]
    folder = tmp_path / "repo"
    ok("push", head, "--repo", "org/stitched", "--to-folder", folder, "-q")
    assert (folder / "head.safetensors").read_bytes() == head.read_bytes()
    # The hub cache as huggingface_hub lays it out; offline, hf_hub_download reads it.
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--org--stitched"
    (repo / "snapshots" / commit).mkdir(parents=True)
    shutil.copy(head, repo / "snapshots" / commit / "head.safetensors")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    outputs = []
    for spec in (head, folder, "hf:org/stitched", f"hf:org/stitched@{commit}"):
        out = tmp_path / f"p{len(outputs)}.csv"
        ok("predict", "-q", "--head", spec, "--encoder", f"hf:{other_bert}", "--dataset", trained["test"], "--out", out)
        outputs.append(out.read_bytes())
    assert len(set(outputs)) == 1
    assert_one_line_error(run_cli("predict", "--head", "hf:org/missing", "--encoder", f"hf:{other_bert}",
                                  "--dataset", trained["test"], "--out", tmp_path / "x.csv"), "cannot fetch head")
    assert_one_line_error(run_cli("predict", "--head", tmp_path, "--encoder", f"hf:{other_bert}",
                                  "--dataset", trained["test"], "--out", tmp_path / "x.csv"), "holds no head.safetensors")


def test_push_uploads_the_head_and_a_model_card(trained, tmp_path, monkeypatch):
    import huggingface_hub

    calls = []

    class Recorder:
        def create_repo(self, **kwargs):
            calls.append(("create_repo", kwargs))

        def upload_folder(self, **kwargs):
            folder = Path(kwargs["folder_path"])
            calls.append(("upload_folder", kwargs, {p.name: p.read_bytes() for p in folder.iterdir()}))
            return type("Commit", (), {"commit_url": "https://huggingface.co/org/stitched/commit/1"})()

    monkeypatch.setattr(huggingface_hub, "HfApi", Recorder)
    results = tmp_path / "evaluate.json"
    results.write_text(json.dumps({"results": [{"head_encoder": "hf:a", "method": "ridge", "encoder": "hf:b",
                                                "accuracy": 0.8125, "macro_f1": 0.8, "num_samples": 20}]}))
    head = trained["heads"]["translated"]
    summary = json.loads(ok("push", head, "--repo", "org/stitched", "--private", "--results", results, "--json"))
    assert summary["private"] is True and summary["files"] == ["head.safetensors", "README.md"]
    (_, create), (_, upload, files) = calls
    assert create == {"repo_id": "org/stitched", "repo_type": "model", "private": True, "exist_ok": True}
    assert upload["repo_id"] == "org/stitched" and files["head.safetensors"] == head.read_bytes()
    card = files["README.md"].decode()
    front = card.split("---\n")[1]
    assert "library_name: \"stitchcli\"" in front and "- \"modality:text\"" in front
    assert "labels:\n- \"neg\"\n- \"pos\"" in front and "count: 16" in front
    assert "| `hf:a` | ridge | `hf:b` | 0.812 |" in card
    assert_one_line_error(run_cli("push", head, "--repo", "not-a-repo"), "not a hub head")
    results.write_text("[1]")
    assert_one_line_error(run_cli("push", head, "--repo", "org/x", "--results", results), "not an `evaluate --json`")


def test_python_api_predicts_what_the_cli_writes(trained, other_bert, tmp_path):
    from stitchcli import load_head

    head = load_head(trained["heads"]["relative"])
    assert head.labels == ["neg", "pos"] and "relative" in repr(head)
    texts = [text for text, _ in trained["rows"][40:]]
    predictions = head.predict(texts, encoder=f"hf:{other_bert}", top_k=2)
    unlabelled = write_texts(tmp_path / "u.csv", trained["rows"][40:], labelled=False)
    ok("predict", "-q", "--head", trained["heads"]["relative"], "--encoder", f"hf:{other_bert}", "--dataset",
       unlabelled, "--out", tmp_path / "p.csv")
    rows = read_rows(tmp_path / "p.csv")
    assert [p.label for p in predictions] == [r["label"] for r in rows]
    assert [p.score for p in predictions] == [float(r["score"]) for r in rows]
    assert all(len(p.top_k) == 2 and p.top_k[0] == (p.label, p.score) for p in predictions)


def test_image_heads_carry_their_images(image_folder, timm_weights, tmp_path, monkeypatch):
    anchors, emb, head = (tmp_path / f"{n}.safetensors" for n in ("anchors", "train", "head"))
    source = tmp_path / "pets"
    shutil.copytree(image_folder, source)
    ok("anchors", "-q", "--dataset", source, "--num", 4, "--out", anchors)
    stored = store.load(anchors)
    original = sorted((p for p in source.rglob("*") if p.is_file()), key=lambda p: (p.parent.name, p.name))
    first = stored.tensors["samples.0.data"][: int(stored.tensors["samples.0.offsets"][1])].numpy().tobytes()
    assert first == original[int(stored.tensors["indices"][0])].read_bytes()  # the file's own bytes
    model = ["--encoder", "timm:test_resnet", "--weights", timm_weights]
    ok("embed", "-q", *model, "--dataset", source, "--anchors", anchors, "--out", emb)
    ok("train-head", "-q", "--embeddings", emb, "--out", head, "--arch", "prototype")
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in original[:3]:
        shutil.copy(path, flat / path.name)
    expected = predict_json("--head", head, *model, "--dataset", flat, "--out", tmp_path / "a.csv")
    for path in original:  # the anchors' source is ruined: the head does not need it
        path.write_bytes(b"not an image")
    monkeypatch.setenv("STITCH_NO_ANCHOR_CACHE", "1")  # embedded again, from the samples the head carries
    summary = predict_json("--head", head, *model, "--dataset", flat, "--out", tmp_path / "b.csv")
    assert summary["num_samples"] == expected["num_samples"] == 3
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_shards_and_torchrun_predict_every_row_once(trained, other_bert, tmp_path):
    base = ["predict", "-q", "--head", str(trained["heads"]["relative"]), "--encoder", f"hf:{other_bert}",
            "--dataset", str(trained["test"]), "--device", "cpu"]
    ok(*base, "--out", tmp_path / "whole.csv")
    whole = read_rows(tmp_path / "whole.csv")
    # --shard I/N: each part predicts its own rows into its own file (embed's shard names).
    for part in ("0/2", "1/2"):
        ok(*base, "--shard", part, "--out", tmp_path / "part.csv")
    parts = read_rows(tmp_path / "part-00001-of-00002.csv") + read_rows(tmp_path / "part-00002-of-00002.csv")
    assert [r["id"] for r in parts] == [r["id"] for r in whole]
    # torchrun: every rank embeds its rows, rank 0 predicts every row into one file.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    out = tmp_path / "run" / "p.csv"
    out.parent.mkdir()
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                             "--master-port", "29573", "-m", "stitchcli", *base, "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert [p.name for p in out.parent.iterdir()] == ["p.csv"]  # the work files are gone
    rows = read_rows(out)
    assert [(r["id"], r["label"]) for r in rows] == [(r["id"], r["label"]) for r in whole]
    assert all(abs(float(a["score"]) - float(b["score"])) < 1e-4 for a, b in zip(rows, whole, strict=True))


def test_info_shows_the_carried_anchor_set_in_a_line(trained):
    table = ok("info", trained["heads"]["translated"])
    line = next(line for line in table.splitlines() if "anchor_set" in line)
    assert "16 random anchors of" in line and "samples stored" in line and "{" not in line
    whole = json.loads(ok("info", trained["heads"]["translated"], "--json"))["metadata"]["anchor_set"]
    assert json.loads(whole)["num_anchors"] == "16"  # --json keeps it whole
