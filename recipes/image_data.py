"""Offline image data: scikit-learn's digits and Debian's openclipart clip art as class-balanced splits."""

from __future__ import annotations

import gzip
import hashlib
import random
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

from asset_common import package_dir, publish, reusable, say, staging

# Class -> globs under usr/share/openclipart/png. Upstream categories, except: transportation keeps only
# vehicles and boats (the rest is road signs), tools drops weapons (guns, bullet holes) and its one toy,
# recreation keeps music. buildings/furniture stays: upstream files it there, and without it the class
# falls under the minimum once duplicates go.
CLIPART = {
    "animals": ("animals/**/*.png",), "buildings": ("buildings/**/*.png",), "food": ("food/**/*.png",),
    "music": ("recreation/music/**/*.png",), "plants": ("plants/**/*.png",), "tools": ("tools/*.png",),
    "vehicles": ("transportation/vehicles/**/*.png", "transportation/boating/**/*.png"),
}
CLIPART_SIZE, CLIPART_MIN, CLIPART_TRAIN = 96, 60, 0.6
DIGITS_TRAIN = 2 / 3  # 1,198 train / 599 test


def stratified_split(groups: dict, train_fraction: float, seed: int) -> tuple[list, list]:
    """Per class: a seeded shuffle, round(fraction * n) to train, the rest to test; classes interleaved."""
    rng = random.Random(seed)
    train, test = [], []
    for name in sorted(groups):
        items = list(groups[name])
        rng.shuffle(items)
        cut = round(len(items) * train_fraction)
        train, test = train + items[:cut], test + items[cut:]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def split_digits(dest: Path, seed: int) -> Path:
    """scikit-learn's 1,797 8x8 digits as NPZ splits (load_digits' own file, no sklearn import)."""
    recipe = {"source": "scikit-learn digits.csv.gz", "train_fraction": DIGITS_TRAIN, "seed": seed}
    if reusable(dest, recipe):
        say(f"digits: reusing {dest}")
        return dest
    import numpy as np

    data = package_dir("sklearn", "scikit-learn", "--no-deps") / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(data, "rt") as handle:
        rows = np.loadtxt(handle, delimiter=",")
    if rows.shape != (1797, 65):
        sys.exit(f"Error: {data} holds {rows.shape}, expected 1797 digits of 64 pixels + label")
    images = np.round(rows[:, :64].reshape(-1, 8, 8) * 255 / 16).astype(np.uint8)  # 0..16 -> 0..255
    labels = rows[:, 64].astype(np.int64)
    by_class = {int(c): np.flatnonzero(labels == c).tolist() for c in np.unique(labels)}
    splits = dict(zip(("train", "test"), stratified_split(by_class, DIGITS_TRAIN, seed), strict=True))
    stage = staging(dest)
    for name, picked in splits.items():
        np.savez(stage / f"{name}.npz", images=images[picked], labels=labels[picked],
                 label_names=np.array([str(c) for c in range(10)]))
    say(f"digits: {len(splits['train'])} train / {len(splits['test'])} test, seed {seed}")
    return publish(stage, dest, recipe)


def extract_openclipart(dest: Path, debs: Path) -> tuple[Path, str]:
    """openclipart-png, `apt-get download`ed into debs, `dpkg -x`ed (no root install): PNG root, .deb name."""
    if not any(debs.glob("openclipart-png_*.deb")):
        debs.mkdir(parents=True, exist_ok=True)
        say(f"apt-get download openclipart-png into {debs} (131 MB)")
        if subprocess.run(["apt-get", "download", "-q", "openclipart-png"], cwd=debs,
                          stdout=sys.stderr).returncode != 0:
            sys.exit("Error: apt-get download openclipart-png failed")
    deb = max(debs.glob("openclipart-png_*.deb"), default=None)
    if deb is None:
        sys.exit(f"Error: apt-get download left no openclipart-png_*.deb in {debs}")
    if not reusable(dest, {"source": deb.name}):
        say(f"clip art: dpkg -x {deb.name} into {dest} (once)")
        stage = staging(dest)
        if subprocess.run(["dpkg", "-x", str(deb), str(stage)], stdout=sys.stderr).returncode != 0:
            sys.exit(f"Error: dpkg -x {deb} failed")
        publish(stage, dest, {"source": deb.name})
    return dest / "usr" / "share" / "openclipart" / "png", deb.name


def thumbnail(path: Path):
    """The clip art on white, fitted into a white 96x96 RGB canvas; 'bomb' or 'unreadable' if it cannot be."""
    from PIL import Image

    try:
        with warnings.catch_warnings():  # over MAX_IMAGE_PIXELS PIL only warns, up to twice that
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                rgba = image.convert("RGBA")  # palette, grey, grey+alpha, RGB alike
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return "bomb"
    except (OSError, ValueError, SyntaxError):  # UnidentifiedImageError is an OSError
        return "unreadable"
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    flat.thumbnail((CLIPART_SIZE, CLIPART_SIZE), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (CLIPART_SIZE, CLIPART_SIZE), "white")
    canvas.paste(flat, ((CLIPART_SIZE - flat.width) // 2, (CLIPART_SIZE - flat.height) // 2))
    return canvas


def split_clipart(dest: Path, png_root: Path, source: str, seed: int) -> Path:
    """96x96 clip art in class folders, split per class; repeats kept once, pictures in 2 classes dropped."""
    recipe = {"source": source, "classes": CLIPART, "size": CLIPART_SIZE, "min_images": CLIPART_MIN,
              "train_fraction": CLIPART_TRAIN, "seed": seed}
    if reusable(dest, recipe):
        say(f"clip art: reusing {dest}")
        return dest
    skipped: Counter = Counter()
    kept: dict[str, dict[str, tuple]] = {label: {} for label in CLIPART}
    owners: dict[str, set[str]] = {}
    for label, patterns in CLIPART.items():
        for path in sorted({p for pattern in patterns for p in png_root.glob(pattern)}):
            image = thumbnail(path)
            if isinstance(image, str):
                skipped[image] += 1
                continue
            digest = hashlib.sha1(image.tobytes()).hexdigest()
            owners.setdefault(digest, set()).add(label)
            skipped["duplicate"] += digest in kept[label]
            name = "__".join(path.relative_to(png_root).with_suffix("").parts)
            kept[label].setdefault(digest, (label, name, image))
    groups = {label: [item for digest, item in items.items() if len(owners[digest]) == 1]
              for label, items in kept.items()}
    skipped["in two classes"] = sum(len(items) - len(groups[label]) for label, items in kept.items())
    small = sorted(label for label, items in groups.items() if len(items) < CLIPART_MIN)
    groups = {label: items for label, items in groups.items() if label not in small}
    counts = ", ".join(f"{label} {len(items)}" for label, items in sorted(groups.items()))
    say(f"clip art: {counts}; skipped {skipped['bomb']} over PIL's MAX_IMAGE_PIXELS, {skipped['unreadable']} "
        f"unreadable, {skipped['duplicate']} repeats, {skipped['in two classes']} filed under two classes; "
        f"classes under {CLIPART_MIN} images dropped: {', '.join(small) or 'none'}")
    if len(groups) < 2:
        sys.exit(f"Error: fewer than 2 clip art classes with {CLIPART_MIN} images")
    stage = staging(dest)
    for split, items in zip(("train", "test"), stratified_split(groups, CLIPART_TRAIN, seed), strict=True):
        for label, name, image in items:
            (stage / split / label).mkdir(parents=True, exist_ok=True)
            image.save(stage / split / label / f"{name}.png")
        say(f"clip art: {len(items)} {split} images")
    return publish(stage, dest, recipe)
