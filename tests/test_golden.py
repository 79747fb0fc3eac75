"""Golden files: what today's code writes for fixed inputs (anchors, embeddings, heads, predictions,
evaluate --json) is what the code of commit 14469a3 wrote, tensors exactly and metadata key by key.

The inputs and the commands are in tests/golden/make.py (which also says how to regenerate the files,
and why that is accepting a format change); the comparison, and the few keys it ignores with the reason
for each, in tests/golden/compare.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from golden.compare import IGNORED_KEYS, differences, read_safetensors
from golden.make import MANIFEST, generate

GOLDEN = Path(__file__).parent / "golden" / "files"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("golden"))


def test_outputs_match_the_golden_files(outputs):
    found = differences(GOLDEN, outputs)
    assert not found, "the outputs differ from tests/golden/files:\n" + "\n".join(found)


def test_the_comparison_sees_a_changed_tensor_key_and_value(outputs, tmp_path):
    """The comparison is not blind: one flipped float, one changed key and one new key are all reported,
    while the allowed differences (``format_version``, another tmp root) are not."""
    import torch
    from safetensors.torch import save_file

    copy = tmp_path / "copy"
    shutil.copytree(outputs, copy)
    tensors, meta = read_safetensors(copy / "head-absolute.safetensors")
    tensors["weights.mean"] = tensors["weights.mean"].clone()
    tensors["weights.mean"][0] = torch.nextafter(tensors["weights.mean"][0], torch.tensor(1e9))
    save_file(tensors, copy / "head-absolute.safetensors",
              {**meta, "translate": "procrustes", "surprise": "1", "format_version": "1"})
    tensors, meta = read_safetensors(copy / "anchors.safetensors")
    save_file(tensors, copy / "anchors.safetensors", {**meta, "format_version": "1"})
    (copy / MANIFEST).write_text(json.dumps({"root": "/elsewhere"}))  # the root nowhere: paths now differ
    found = differences(outputs, copy)
    assert any("'weights.mean' differs" in line for line in found)
    assert any("'translate': golden 'ridge', now 'procrustes'" in line for line in found)
    assert any("'surprise' is new" in line for line in found)
    assert not any("format_version" in line for line in found)
    assert any("'anchors_file'" in line for line in found)  # an absolute path the root no longer matches


def test_only_the_documented_keys_are_ignored():
    # output_key: issue 28 keys it on the model's content (encoders/identity.py), which the tmp models vary
    assert set(IGNORED_KEYS) == {"format_version", "stitchcli_version", "output_key"}


def test_the_golden_files_are_small_and_all_kinds_are_there():
    files = [p for p in GOLDEN.iterdir()]
    assert sum(p.stat().st_size for p in files) < 100_000
    kinds = {read_safetensors(p)[1]["kind"] for p in files if p.suffix == ".safetensors"}
    assert kinds == {"anchors", "embeddings", "head"}
    assert {p.suffix for p in files} == {".safetensors", ".csv", ".jsonl", ".json"}
