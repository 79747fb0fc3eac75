"""Dataset readers: formats, label encoding, image modes, IDX naming, and fuzzed inputs."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from stitchcli.data import ReadOptions, encode_labels, load_dataset
from stitchcli.data.images import idx_labels_path, to_rgb
from stitchcli.errors import StitchError
from stitchcli.storage import store

from conftest import make_images, write_idx


def test_csv_and_tsv_read_the_same(tmp_path):
    (tmp_path / "a.csv").write_text('text,label\n"hello, world",x\nbye,y\n')
    (tmp_path / "a.tsv").write_text("text\tlabel\nhello, world\tx\nbye\ty\n")
    a, b = load_dataset(str(tmp_path / "a.csv")), load_dataset(str(tmp_path / "a.tsv"))
    assert a.samples([0, 1]) == b.samples([0, 1]) == ["hello, world", "bye"]
    assert a.labels == b.labels == [0, 1] and a.label_names == ["x", "y"]
    assert a.split == "a" and a.modality == "text"


def test_integer_labels_sort_numerically():
    labels, names = encode_labels(["10", "2", "2", "1"], "x")
    assert names == ["1", "2", "10"] and labels == [2, 1, 1, 0]


def test_fingerprint_follows_content(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,1\n")
    first = load_dataset(str(path)).fingerprint
    path.write_text("text,label\nb,1\n")
    assert load_dataset(str(path)).fingerprint != first


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "CMYK", "1"])
def test_every_pil_mode_becomes_rgb(mode):
    image = Image.new(mode, (5, 4))
    assert to_rgb(image).mode == "RGB" and to_rgb(image).size == (5, 4)


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 1), (8, 8, 3), (8, 8, 4)])
def test_arrays_become_rgb(shape):
    assert to_rgb(np.zeros(shape, dtype=np.uint8)).mode == "RGB"


def test_small_integer_ranges_are_stretched():
    digits = np.array([[0, 16], [8, 4]], dtype=np.int64)  # sklearn's digits go 0..16
    assert np.asarray(to_rgb(digits))[0, 1].tolist() == [255, 255, 255]


def test_transparent_background_becomes_white():
    image = Image.new("RGBA", (2, 2), (0, 0, 0, 0))
    assert np.asarray(to_rgb(image))[0, 0].tolist() == [255, 255, 255]


@pytest.mark.parametrize("name,expected", [
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"),
    ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
])
def test_idx_labels_naming(tmp_path, name, expected):
    assert idx_labels_path(tmp_path / name).name == expected


def test_idx_plain_and_gzip_agree(tmp_path):
    images, labels = make_images(n=6, size=4)
    for gz, stem in ((False, "a"), (True, "b")):
        suffix = ".gz" if gz else ""
        write_idx(tmp_path / f"{stem}-images-idx3-ubyte{suffix}", images, gz=gz)
        write_idx(tmp_path / f"{stem}-labels-idx1-ubyte{suffix}", labels, gz=gz)
    a = load_dataset(str(tmp_path / "a-images-idx3-ubyte"))
    b = load_dataset(str(tmp_path / "b-images-idx3-ubyte.gz"))
    assert a.labels == b.labels and np.array_equal(a.sample(3), b.sample(3))
    assert a.split == "a"


def test_image_folder_classes_and_split(image_folder):
    dataset = load_dataset(str(image_folder), ReadOptions(split="val"))
    assert dataset.label_names == ["cat", "dog", "fox"] and len(dataset) == 9
    assert dataset.split == "val" and dataset.modality == "image"


def test_hub_dataset_without_the_extra_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_datasets(name, *args, **kwargs):
        if name == "datasets":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_datasets)
    with pytest.raises(StitchError) as error:
        load_dataset("hf:trec")
    assert "stitchcli[hf-datasets]" in error.value.hint


def _mutations(raw: bytes, seed: int, count: int = 40):
    rng = random.Random(seed)
    for cut in sorted({0, 1, 7, 8, len(raw) // 2, len(raw) - 1} | {rng.randrange(len(raw)) for _ in range(8)}):
        yield raw[:cut]
    for _ in range(count):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        yield bytes(data)
    yield bytes(rng.randrange(256) for _ in range(200))


def _never_a_traceback(load, path, raw, seed):
    for data in _mutations(raw, seed):
        path.write_bytes(data)
        try:
            load(path)
        except StitchError:
            pass


def test_fuzzed_safetensors_files_never_crash(tiny_bert, text_csv, tmp_path):
    from helpers import run_cli

    good = tmp_path / "good.safetensors"
    assert run_cli("embed", "-q", "--encoder", f"hf:{tiny_bert}", "--dataset", text_csv, "--out", good).exit_code == 0
    _never_a_traceback(lambda p: store.load(p, kind="embeddings"), tmp_path / "fuzz.safetensors",
                       good.read_bytes(), seed=1)


def test_fuzzed_npz_and_idx_files_never_crash(tmp_path):
    images, labels = make_images(n=4, size=4)
    buffer = io.BytesIO()
    np.savez(buffer, images=images, labels=labels)
    _never_a_traceback(lambda p: load_dataset(str(p)), tmp_path / "fuzz.npz", buffer.getvalue(), seed=2)
    write_idx(tmp_path / "x-labels-idx1-ubyte", labels)
    write_idx(tmp_path / "src", images)
    _never_a_traceback(lambda p: load_dataset(str(p)), tmp_path / "x-images-idx3-ubyte",
                       (tmp_path / "src").read_bytes(), seed=3)


def test_folder_fingerprints_are_remembered_until_a_file_changes(image_folder, tmp_path, monkeypatch):
    import os
    import shutil
    from pathlib import Path

    from stitchcli.data import fingerprint_cache

    root = tmp_path / "pets"
    shutil.copytree(image_folder, root)
    monkeypatch.setenv("STITCH_CACHE_DIR", str(tmp_path / "cache"))
    reads = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (reads.append(self), real(self))[1])
    first = load_dataset(str(root)).fingerprint
    assert len(reads) == 9
    # Files written a moment ago are not trusted yet: a write in the same clock tick would not show.
    assert load_dataset(str(root)).fingerprint == first and len(reads) == 18
    monkeypatch.setattr(fingerprint_cache, "RACY_SECONDS", -1.0)
    load_dataset(str(root))
    reads.clear()
    assert load_dataset(str(root)).fingerprint == first and reads == []  # remembered: nothing read
    # Same size, same mtime, other bytes: the ctime still changes, so it is hashed again.
    target = sorted(root.rglob("*.png"))[0]
    info = target.stat()
    data = bytearray(target.read_bytes())
    data[-20] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert load_dataset(str(root)).fingerprint != first
    # A read-only or broken cache only costs the hashing.
    monkeypatch.setenv("STITCH_CACHE_DIR", str(target))  # a file, not a folder
    assert load_dataset(str(root)).fingerprint != first
