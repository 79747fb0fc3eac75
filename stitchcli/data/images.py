"""Image datasets: class folders, NPZ arrays and IDX (MNIST) files; any mode converted to RGB."""

from __future__ import annotations

import gzip
import re
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from stitchcli.data.fingerprint_cache import cached_fingerprint
from stitchcli.data.registry import (
    NO_LABELS,
    Dataset,
    DatasetSource,
    ReadOptions,
    default_split,
    encode_labels,
    register_source,
    unlabelled,
)
from stitchcli.errors import StitchError
from stitchcli.storage.store import fingerprint

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def to_rgb(sample) -> Image.Image:
    """Any image (PIL of any mode, or a uint8/float array H×W, H×W×1, H×W×3, H×W×4) as RGB PIL."""
    if isinstance(sample, Image.Image):
        image = sample
    else:
        array = np.asarray(sample)
        if array.dtype != np.uint8:
            # Floats in [0, 1] or small integer ranges (sklearn digits are 0..16): stretch to 0..255.
            peak = float(array.max()) if array.size else 0.0
            scale = 255.0 / peak if peak > 0 else 1.0
            array = np.clip(array.astype(np.float32) * scale, 0, 255).astype(np.uint8)
        if array.ndim == 3 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
            raise StitchError(f"cannot read an image of shape {tuple(array.shape)}")
        image = Image.fromarray(array)
    if image.mode == "RGBA" or (image.mode == "P" and "transparency" in image.info):
        # Composite on white: black would turn transparent backgrounds into dark images.
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB")


def _open_image(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.load()
            return image
    except (UnidentifiedImageError, OSError) as exc:
        raise StitchError(f"cannot read image {path}: {exc}") from None


def _images_in(folder: Path, recursive: bool) -> list[Path]:
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def load_folder(source: str, options: ReadOptions) -> Dataset:
    """``root/<class>/<image>`` (labelled by folder name), or a flat folder of images (unlabelled);
    with ``--label-column none`` every image under ``root``, unlabelled."""
    root = Path(source)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: list[Path] = []
    raw_labels: list[str] = []
    if options.label_column == NO_LABELS or not classes:
        files = _images_in(root, recursive=bool(classes))
        if not files and not classes:
            raise StitchError(f"image folder {root} has no images and no class sub-folders",
                              hint="expected root/<class>/<image>, or a flat folder of images.")
    else:
        for name in classes:
            for path in _images_in(root / name, recursive=True):
                files.append(path)
                raw_labels.append(name)
    if not files:
        raise StitchError(f"image folder {root} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    if raw_labels:
        # Names stay folder names even when they look like numbers ("0".."9").
        names = classes
        lookup = {n: i for i, n in enumerate(names)}
        labels = [lookup[n] for n in raw_labels]
    else:
        labels, names = unlabelled(len(files))

    def content() -> str:
        parts: list[bytes | str] = []
        for path in files:
            parts += [str(path.relative_to(root)), path.read_bytes()]
        return fingerprint(*parts)

    return Dataset(
        source=str(root),
        split=options.split or root.name,
        modality="image",
        labels=labels,
        label_names=names,
        fingerprint=cached_fingerprint("image-folder", files, content),
        get_sample=lambda i: _open_image(files[i]),
        get_column=lambda _name, _flag: [path.stem for path in files],  # an image's id: its file name
        get_raw=lambda i: files[i].read_bytes(),
    )


def load_npz(source: str, options: ReadOptions) -> Dataset:
    path = Path(source)
    if not path.is_file():
        raise StitchError(f"dataset not found: {path}")
    raw = path.read_bytes()
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise StitchError(f"{path} is not a readable NPZ file: {exc}") from None
    if "images" not in arrays:
        raise StitchError(f"NPZ {path} has no 'images' array (arrays: {', '.join(arrays) or 'none'})")
    images = arrays["images"]
    if images.ndim not in (3, 4) or len(images) == 0:
        raise StitchError(f"NPZ {path}: 'images' must be N×H×W or N×H×W×C, got {images.shape}")
    if "labels" not in arrays or options.label_column == NO_LABELS:  # unlabelled images
        ids, names = unlabelled(len(images))
        return Dataset(source=str(path), split=options.split or default_split(source), modality="image",
                       labels=ids, label_names=names, fingerprint=fingerprint(raw),
                       get_sample=lambda i: images[i])
    labels = arrays["labels"]
    if labels.ndim != 1 or len(labels) != len(images):
        raise StitchError(f"NPZ {path}: 'labels' must be 1-D with one label per image")
    if not np.issubdtype(labels.dtype, np.integer):
        raise StitchError(f"NPZ {path}: 'labels' must be integers, got {labels.dtype}")
    if "label_names" in arrays:
        names = [str(n) for n in arrays["label_names"].tolist()]
        if labels.min() < 0 or labels.max() >= len(names):
            raise StitchError(f"NPZ {path}: a label is outside 0..{len(names) - 1} (label_names)")
        ids = [int(v) for v in labels]
    else:
        ids, names = encode_labels(labels.tolist(), f"NPZ {path}")
    return Dataset(
        source=str(path),
        split=options.split or default_split(source),
        modality="image",
        labels=ids,
        label_names=names,
        fingerprint=fingerprint(raw),
        get_sample=lambda i: images[i],
    )


_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_NAME = re.compile(r"idx\d-ubyte(\.gz)?$")
_IDX_SPLIT = re.compile(r"[-.]?images[-.]idx\d-ubyte(\.gz)?$")  # train-images-idx3-ubyte -> train


def _read_idx(path: Path) -> tuple[np.ndarray, bytes]:
    if not path.is_file():
        raise StitchError(f"IDX file not found: {path}")
    raw = path.read_bytes()
    data = raw
    if raw[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise StitchError(f"{path} is a corrupt gzip file: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise StitchError(f"{path} is not an IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise StitchError(f"{path} is not an IDX file (truncated header)")
    shape = tuple(int.from_bytes(data[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise StitchError(
            f"{path} is truncated or corrupt: {len(data) - header} data bytes, expected {expected}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape), raw


def idx_labels_path(images_path: Path) -> Path:
    """``train-images-idx3-ubyte[.gz]`` -> ``train-labels-idx1-ubyte[.gz]`` (either separator)."""
    name = re.sub(r"images([-.])idx3", r"labels\1idx1", images_path.name)
    base = name.removesuffix(".gz")
    for candidate in (images_path.with_name(base), images_path.with_name(base + ".gz")):
        if candidate.exists():
            return candidate
    return images_path.with_name(name)


def load_idx(source: str, options: ReadOptions) -> Dataset:
    path = Path(source)
    images, raw_images = _read_idx(path)
    labels_path = idx_labels_path(path)
    split = options.split or _IDX_SPLIT.sub("", path.name) or path.name
    if labels_path == path or not labels_path.exists() or options.label_column == NO_LABELS:
        if images.ndim != 3:
            raise StitchError(f"IDX {path}: expected N×H×W images, got {images.shape}")
        ids, names = unlabelled(len(images))  # no labels file beside it (MNIST naming): unlabelled
        return Dataset(source=str(path), split=split, modality="image", labels=ids, label_names=names,
                       fingerprint=fingerprint(raw_images), get_sample=lambda i: images[i])
    labels, raw_labels = _read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(labels) != len(images):
        raise StitchError(f"IDX {path}: expected N×H×W images and N labels, got "
                          f"{images.shape} and {labels.shape}")
    ids, names = encode_labels(labels.tolist(), f"IDX {labels_path}")
    return Dataset(
        source=str(path),
        split=split,
        modality="image",
        labels=ids,
        label_names=names,
        fingerprint=fingerprint(raw_images, raw_labels),
        get_sample=lambda i: images[i],
    )


def _local(source: str) -> Path | None:
    return None if source.startswith("hf:") else Path(source)


register_source(DatasetSource(
    name="image-folder",
    description="a folder root/<class name>/<image files>, or a flat folder of images (unlabelled)",
    matches=lambda s: (p := _local(s)) is not None and p.is_dir(),
    load=load_folder,
))
register_source(DatasetSource(
    name="npz",
    description=".npz with 'images' (uint8 N×H×W[×C]), optional 'labels' and 'label_names'",
    matches=lambda s: (p := _local(s)) is not None and p.suffix.lower() == ".npz",
    load=load_npz,
))
register_source(DatasetSource(
    name="idx",
    description="MNIST IDX images file (…-images-idx3-ubyte[.gz]) "
    "with its labels file beside it, if labelled",
    matches=lambda s: (p := _local(s)) is not None and bool(_IDX_NAME.search(p.name)),
    load=load_idx,
))
