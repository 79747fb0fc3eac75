"""Start-up stays light: `stitch --help`, `stitch info` and failed up-front checks never import
torch, transformers, timm, numpy or safetensors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from safetensors.torch import save_file

from stitchcli.cli import app
from stitchcli.storage import store

HEAVY = ("torch", "transformers", "timm", "numpy", "safetensors")
COMMANDS = ["", *typer.main.get_command(app).commands]


def run_isolated(argv: list[str], cwd) -> tuple[int, list[str], subprocess.CompletedProcess]:
    """Exit code and heavy modules imported by ``stitch ARGV`` in a fresh interpreter."""
    code = (
        "import sys\n"
        "from stitchcli.cli import app\n"
        "try:\n"
        f"    app({argv!r})\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY', status, ','.join(heavy), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd)
    tag, status, heavy = (result.stderr.strip().splitlines()[-1].split(" ") + [""])[:3]
    assert tag == "HEAVY", result.stderr
    return int(status), [m for m in heavy.split(",") if m], result


@pytest.mark.parametrize("command", COMMANDS)
def test_help_does_not_import_heavy_modules(command):
    status, heavy, result = run_isolated([a for a in (command, "--help") if a], cwd=None)
    assert status == 0 and heavy == [], result.stderr


def test_console_script_and_module_entry_points():
    for argv in ([sys.executable, "-m", "stitchcli", "--version"],):
        result = subprocess.run(argv, capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout.startswith("stitch ")


def test_usage_error_exits_2_without_traceback():
    result = subprocess.run([sys.executable, "-m", "stitchcli", "embed", "--bogus"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "Error:" in result.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import torch

    root = tmp_path_factory.mktemp("startup")
    store.save(root / "emb.safetensors", "embeddings",
               {"embeddings": torch.zeros(3, 4), "labels": torch.tensor([0, 1, 0])},
               {"encoder": "synth:A", "num_samples": 3, "dim": 4, "label_names": ["a", "b"]})
    store.save(root / "anchors.safetensors", "anchors", {"indices": torch.arange(2)}, {})
    save_file({"w": torch.zeros(2)}, str(root / "foreign.safetensors"))
    return root


def test_info_reads_the_header_without_torch(files):
    status, heavy, result = run_isolated(["info", "emb.safetensors", "--json"], files)
    assert status == 0 and heavy == [], result.stderr
    shown = json.loads(result.stdout)
    assert shown["kind"] == "embeddings" and shown["metadata"]["num_samples"] == 3
    assert shown["metadata"]["label_names"] == ["a", "b"]
    assert shown["tensors"] == {"embeddings": {"shape": [3, 4], "dtype": "F32"},
                                "labels": {"shape": [3], "dtype": "I64"}}
    status, heavy, result = run_isolated(["info", "emb.safetensors"], files)
    assert status == 0 and heavy == [] and "F32 [3, 4]" in result.stdout


def test_info_refuses_a_truncated_file_without_torch(files, tmp_path):
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes((files / "emb.safetensors").read_bytes()[:-8])
    status, heavy, result = run_isolated(["info", str(truncated)], files)
    assert status == 1 and heavy == [] and "truncated or corrupt" in result.stderr


CHECKS = {
    "missing embeddings": (["train-head", "--embeddings", "missing.safetensors", "--out", "x.safetensors"],
                           "file not found"),
    "output directory missing": (["train-head", "--embeddings", "emb.safetensors", "--out", "no/x.safetensors"],
                                 "does not exist"),
    "not a stitchcli file": (["info", "foreign.safetensors"], "not a stitchcli file"),
    "wrong kind": (["evaluate", "--head", "anchors.safetensors", "--embeddings", "emb.safetensors"],
                   "expected a head file"),
    "compare a missing file": (["compare", "emb.safetensors", "missing.safetensors"], "file not found"),
    "relative with wrong anchors": (["relative", "--embeddings", "emb.safetensors", "--anchors", "emb.safetensors"],
                                    "expected an anchors file"),
    "sweep a missing file": (["sweep", "--train", "emb.safetensors", "--train", "missing.safetensors"],
                             "file not found"),
    "dataset not found": (["embed", "--encoder", "hf:x", "--dataset", "missing.csv", "--out", "x.safetensors"],
                          "dataset not found"),
    "unknown encoder source": (["embed", "--encoder", "nope:x", "--dataset", "missing.csv", "--out", "x.safetensors"],
                               "unknown encoder source"),
    "anchors from a missing dataset": (["anchors", "--dataset", "missing.csv", "--num", "2", "--out", "x.safetensors"],
                                       "dataset not found"),
    "predict with a missing head": (["predict", "--head", "missing.safetensors", "--embeddings", "emb.safetensors",
                                     "--out", "p.csv"], "file not found"),
}


@pytest.mark.parametrize("case", sorted(CHECKS))
def test_up_front_checks_fail_without_torch(files, case):
    argv, expected = CHECKS[case]
    status, heavy, result = run_isolated(argv, files)
    assert status == 1, result.stderr
    assert heavy == [], f"{case} imported {heavy}"
    assert result.stderr.startswith("Error: ") and expected in result.stderr.splitlines()[0], result.stderr
    assert not (files / "x.safetensors").exists()
