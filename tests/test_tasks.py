"""Heads of values: regression (numeric columns) and reconstruction (the input image) decoders, trained
on one encoder and read through a rotated, rescaled copy of it, through the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import assert_one_line_error, ok, random_orthogonal, run_cli, run_subprocess
from synthetic import write_embeddings

DIM = 24
SIZE = 8


def _latents(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.arange(n) % 2
    return torch.randn(n, DIM, generator=generator) + 1.5 * labels[:, None], labels


@pytest.fixture(scope="module")
def task_world(tmp_path_factory) -> dict:
    """Latents z; encoder A sees z, encoder B sees 3·z·Q. The source holds two values that depend on z
    (a CSV) and 8×8 grayscale images drawn from z (an NPZ)."""
    root = tmp_path_factory.mktemp("tasks")
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(DIM, 2, generator=generator)
    pixels = torch.randn(DIM, SIZE * SIZE, generator=generator) / DIM**0.5
    rotation = random_orthogonal(DIM, 3)
    files: dict[str, Path] = {}
    values: dict[str, torch.Tensor] = {}
    for split, n in (("train", 300), ("test", 120)):
        z, labels = _latents(n, generator)
        y = z @ weights + 0.1 * torch.randn(n, 2, generator=generator)
        values[split] = y
        table = root / f"{split}.csv"
        with table.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label", "price", "score"])
            writer.writerows((f"row {i}", int(c), f"{a:.6f}", f"{b:.6f}")
                             for i, (c, (a, b)) in enumerate(zip(labels.tolist(), y.tolist(), strict=True)))
        images = (torch.sigmoid(2 * z @ pixels) * 255).round().to(torch.uint8).reshape(n, SIZE, SIZE)
        npz = root / f"{split}-images.npz"
        np.savez(npz, images=images.numpy(), labels=labels.numpy())
        for name, source in (("values", table), ("images", npz)):
            for encoder, vectors in (("A", z), ("B", 3.0 * z @ rotation)):
                files[f"{name}-{split}-{encoder}"] = write_embeddings(
                    root / f"{name}-{split}-{encoder}.safetensors", source, vectors, labels,
                    f"synth:{encoder}", label_names=["0", "1"])
    for name, source in (("values", root / "train.csv"), ("images", root / "train-images.npz")):
        anchors = root / f"{name}-anchors.safetensors"
        ok("anchors", "--dataset", source, "--num", 60, "--out", anchors, "--quiet")
        for encoder in "AB":
            train = files[f"{name}-train-{encoder}"]
            ok("relative", "--embeddings", train, "--anchors", anchors, "--quiet")
            ok("relative", "--embeddings", files[f"{name}-test-{encoder}"], "--anchors", anchors,
               "--anchor-embeddings-from", train, "--quiet")
    return {"root": root, "files": files, "values": values}


def _evaluate(head: Path, *files: Path) -> list[dict]:
    args = [a for f in files for a in ("--embeddings", f)]
    return json.loads(ok("evaluate", "--head", head, *args, "--json"))["results"]


@pytest.mark.parametrize("space", ["relative", "absolute"])
def test_regression_through_a_rotated_encoder_scores_as_at_home(task_world, space):
    files, root = task_world["files"], task_world["root"]
    head = root / f"regression-{space}.safetensors"
    summary = json.loads(ok("train-head", "--embeddings", files["values-train-A"], "--task", "regression",
                            "--target-column", "price", "--target-column", "score", "--space", space,
                            *(["--translate", "affine"] if space == "absolute" else []),
                            "--out", head, "--json"))
    assert summary["task"] == "regression" and summary["arch"] == "ridge"
    assert summary["train_r2"] > 0.6
    home, stitched = _evaluate(head, files["values-test-A"], files["values-test-B"])
    assert home["metric"] == stitched["metric"] == "mse"
    assert home["accuracy"] is None and not home["stitched"] and stitched["stitched"]
    assert home["r2"] > 0.5
    # Relative vectors are the same for B = 3·A·Q, so the head outputs the same values; an absolute
    # head reads B through the affine map fitted on the (more) anchors (than dimensions): 3·Q exactly.
    tolerance = 1e-4 if space == "relative" else 2e-2
    assert stitched["mse"] == pytest.approx(home["mse"], rel=tolerance)
    assert stitched["r2"] == pytest.approx(home["r2"], abs=tolerance)
    # The MSE is that of the values in the source, in their own units.
    targets = task_world["values"]["test"]
    assert home["mse"] < float(targets.var(dim=0).mean()) * 0.5


def test_plain_absolute_regression_fails_through_a_rotated_encoder(task_world):
    files, root = task_world["files"], task_world["root"]
    head = root / "regression-plain.safetensors"
    ok("train-head", "--embeddings", files["values-train-A"], "--task", "regression", "--target-column",
       "price", "--translate", "none", "--out", head, "--quiet")
    home, stitched = _evaluate(head, files["values-test-A"], files["values-test-B"])
    assert home["r2"] > 0.8 and stitched["r2"] < 0.3  # the baseline: absolute vectors do not transfer


@pytest.mark.parametrize("arch", ["ridge", "mlp"])
def test_reconstruction_through_a_rotated_encoder_decodes_as_at_home(task_world, arch, tmp_path):
    files, root = task_world["files"], task_world["root"]
    head = root / f"reconstruction-{arch}.safetensors"
    ok("train-head", "--embeddings", files["images-train-A"], "--task", "reconstruction", "--target-size",
       SIZE, "--space", "relative", "--arch", arch, "--epochs", 30, "--lr", 1e-3, "--out", head, "--quiet")
    home, stitched = _evaluate(head, files["images-test-A"], files["images-test-B"])
    assert home["task"] == "reconstruction" and home["metric"] == "mse"
    assert stitched["mse"] == pytest.approx(home["mse"], rel=1e-4)
    assert stitched["psnr"] == pytest.approx(home["psnr"], abs=1e-3)
    # Better than predicting the mean image: the decoder learned the images.
    from stitchcli.heads import load_head
    from stitchcli.heads.targets import read_targets
    from stitchcli.storage import open_rows

    targets = read_targets(open_rows(files["images-test-A"]), load_head(head).targets())
    assert targets.shape == (120, SIZE * SIZE)  # grayscale data: one channel
    assert home["mse"] < 0.5 * float(targets.var(dim=0).mean())


def test_reconstruction_picture_and_table(task_world, tmp_path):
    pytest.importorskip("matplotlib")
    files = task_world["files"]
    head = tmp_path / "decoder.safetensors"
    ok("train-head", "--embeddings", files["images-train-A"], "--task", "reconstruction", "--target-size",
       16, "--space", "relative", "--out", head, "--quiet")
    picture = tmp_path / "grid.png"
    result = run_cli("evaluate", "--head", head, "--embeddings", files["images-test-A"], "--embeddings",
                     files["images-test-B"], "--plot", picture)
    assert result.exit_code == 0, result.stderr
    assert "MSE · PSNR" in result.stdout and "dB" in result.stdout
    from PIL import Image

    with Image.open(picture) as image:
        assert image.size[0] > 400 and image.size[1] > 200  # 8 columns, 3 rows: originals, A, B


def test_predict_writes_values_and_images(task_world, tmp_path):
    files = task_world["files"]
    head = tmp_path / "values.safetensors"
    ok("train-head", "--embeddings", files["values-train-A"], "--task", "regression", "--target-column",
       "price", "--space", "relative", "--out", head, "--quiet")
    out = tmp_path / "values.csv"
    ok("predict", "--head", head, "--embeddings", files["values-test-B"], "--out", out, "--quiet")
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["id", "price"] and len(rows) == 120
    predicted = torch.tensor([float(r["price"]) for r in rows])
    truth = task_world["values"]["test"][:, 0]
    assert float(((predicted - truth) ** 2).mean()) < float(truth.var()) * 0.5

    decoder = tmp_path / "decoder.safetensors"
    ok("train-head", "--embeddings", files["images-train-A"], "--task", "reconstruction", "--target-size",
       SIZE, "--space", "relative", "--out", decoder, "--quiet")
    folder = tmp_path / "decoded"
    ok("predict", "--head", decoder, "--embeddings", files["images-test-B"], "--out", folder, "--quiet")
    index = list(csv.DictReader((folder / "index.csv").open()))
    assert len(index) == 120 and index[0] == {"file": "000000.png", "id": "0"}
    from PIL import Image

    with Image.open(folder / "000000.png") as image:
        assert image.size == (SIZE, SIZE) and image.mode == "L"
    # A rerun replaces the folder it wrote; a folder of other files is refused.
    ok("predict", "--head", decoder, "--embeddings", files["images-test-B"], "--out", folder, "--quiet")
    assert len(list(folder.glob("*.png"))) == 120
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"x")
    result = run_cli("predict", "--head", decoder, "--embeddings", files["images-test-B"], "--out", other)
    assert_one_line_error(result, "which no earlier `stitch predict` wrote there")
    assert (other / "holiday.jpg").exists()
    result = run_cli("predict", "--head", decoder, "--embeddings", files["images-test-B"], "--out",
                     tmp_path / "decoded.csv")
    assert_one_line_error(result, "folder of PNG images", exit_code=2)


def test_task_mistakes_are_one_line_errors(task_world, tmp_path):
    files = task_world["files"]
    out = tmp_path / "h.safetensors"
    train = files["values-train-A"]
    cases = [
        (("--task", "regression"), "--target-column"),
        (("--task", "regression", "--target-column", "nope"), "no target column 'nope'"),
        (("--task", "regression", "--target-column", "text"), "not a number"),
        (("--task", "regression", "--target-column", "price", "--arch", "logistic"), "is a classifier"),
        (("--arch", "ridge"), "predicts values"),
        (("--task", "reconstruction"), "holds texts"),
        (("--task", "sorting"), "unknown task"),
        (("--task", "classification", "--target-column", "price"), "--target-column is for"),
    ]
    for extra, message in cases:
        result = run_cli("train-head", "--embeddings", train, "--out", out, *extra)
        assert_one_line_error(result, message)
        assert not out.exists()


def test_changed_source_is_refused(task_world, tmp_path):
    """Targets come from the source rows; a source edited since embedding would misalign them."""
    import shutil

    files, root = task_world["files"], task_world["root"]
    head = tmp_path / "h.safetensors"
    ok("train-head", "--embeddings", files["values-train-A"], "--task", "regression", "--target-column",
       "price", "--space", "relative", "--out", head, "--quiet")
    source = root / "test.csv"
    backup = tmp_path / "test.csv"
    shutil.copy(source, backup)
    try:
        source.write_text(source.read_text().replace("row 0,", "row zero,"))
        result = run_cli("evaluate", "--head", head, "--embeddings", files["values-test-A"])
        assert_one_line_error(result, "changed since")
    finally:
        shutil.copy(backup, source)


def test_value_head_metadata_is_checked(task_world, tmp_path):
    from stitchcli.storage import store

    files = task_world["files"]
    head = tmp_path / "h.safetensors"
    ok("train-head", "--embeddings", files["values-train-A"], "--task", "regression", "--target-column",
       "price", "--out", head, "--quiet")
    loaded = store.load(head, kind="head")
    assert loaded.metadata["task"] == "regression" and json.loads(loaded.metadata["target_names"]) == ["price"]
    store.save(head, "head", loaded.tensors, {**loaded.metadata, "target_names": json.dumps(["a", "b"])})
    result = run_cli("evaluate", "--head", head, "--embeddings", files["values-test-A"])
    assert_one_line_error(result, "outputs")


def test_a_decoder_turns_a_real_encoders_images_into_pictures(image_npz, timm_weights, tmp_path):
    """End to end with a real (tiny) image encoder: embed, train a reconstruction head, then
    `predict --encoder --dataset` embeds new images and writes what the head decodes as PNGs."""
    from PIL import Image

    anchors, train, head = (tmp_path / f"{n}.safetensors" for n in ("anchors", "train", "head"))
    model = ["--encoder", "timm:test_resnet", "--weights", timm_weights]
    ok("anchors", "-q", "--dataset", image_npz, "--num", 6, "--out", anchors)
    ok("embed", "-q", *model, "--dataset", image_npz, "--anchors", anchors, "--out", train)
    ok("train-head", "-q", "--embeddings", train, "--task", "reconstruction", "--target-size", 8,
       "--out", head)
    folder = tmp_path / "decoded"
    summary = json.loads(ok("predict", "--head", head, *model, "--dataset", image_npz, "--out", folder,
                            "--json"))
    assert summary["task"] == "reconstruction" and summary["num_samples"] == 12
    pictures = sorted(folder.glob("*.png"))
    assert len(pictures) == 12 and not list(tmp_path.glob(".decoded*"))  # the work file is gone
    with Image.open(pictures[0]) as image:
        assert image.size == (8, 8) and image.mode == "L"  # the fixture's images are grayscale arrays
    # The same decodings as `predict --embeddings` on the file embedded the same way.
    again = tmp_path / "again"
    ok("predict", "-q", "--head", head, "--embeddings", train, "--out", again)
    assert [p.read_bytes() for p in pictures] == [p.read_bytes() for p in sorted(again.glob("*.png"))]


def test_the_python_api_refuses_value_heads(task_world, tmp_path):
    from stitchcli import load_head
    from stitchcli.errors import StitchError

    head = tmp_path / "h.safetensors"
    ok("train-head", "--embeddings", task_world["files"]["values-train-A"], "--task", "regression",
       "--target-column", "price", "--out", head, "--quiet")
    with pytest.raises(StitchError, match="regression head"):
        load_head(head).predict(["x"], encoder="hf:unused")


@pytest.mark.parametrize(("command", "shown"), [
    ("train-head", "[default: logistic; ridge for regression and reconstruction]"),
    ("train-head", "[default: the one the embeddings were made with]"),
    ("import", "[default: unlabelled]"),
])
def test_defaults_written_in_help_texts_are_shown(command, shown):
    """A "[default: …]" inside a help text is rich markup unless escaped: it used to vanish, leaving
    "(the baseline) ." in train-head's --help."""
    import re

    result = run_subprocess(command, "--help", env={"COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    text = re.sub(r"[\s│]+", " ", result.stdout)
    assert shown in text


def test_heads_sharing_targets_read_the_source_once_per_file(task_world, tmp_path, monkeypatch):
    import stitchcli.heads.targets as targets
    from stitchcli.evaluate import evaluate_matrix
    from stitchcli.heads import load_head

    files = task_world["files"]
    heads = []
    for space in ("relative", "absolute"):
        heads.append(tmp_path / f"{space}.safetensors")
        ok("train-head", "--embeddings", files["images-train-A"], "--task", "reconstruction", "--target-size",
           SIZE, "--space", space, "--out", heads[-1], "--quiet")
    reads = []
    original = targets.source_of
    monkeypatch.setattr(targets, "source_of", lambda reader: reads.append(reader.path) or original(reader))
    paths = [files["images-test-A"], files["images-test-B"]]
    results = evaluate_matrix([load_head(h) for h in heads], paths, None)
    assert len(results) == 4 and sorted(map(str, reads)) == sorted(map(str, paths))
