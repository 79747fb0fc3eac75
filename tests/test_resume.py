"""Interrupted embeds (SIGKILL, Ctrl-C) resume to exactly the tensors of an uninterrupted run."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from stitchcli.storage import store

from conftest import WORDS
from helpers import run_cli


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tiny_bert):
    root = tmp_path_factory.mktemp("resume")
    rng = random.Random(0)
    data = root / "long.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i in range(4000):
            writer.writerow([" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))), i % 2])
    reference = root / "reference.safetensors"
    args = ["--encoder", f"hf:{tiny_bert}", "--dataset", str(data), "--batch-size", "16",
            "--chunk-size", "64", "--device", "cpu"]
    result = run_cli("embed", "-q", *args, "--out", reference)
    assert result.exit_code == 0, result.stderr
    return root, args, store.load(reference).tensors


def start(args, out: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    # A suite started in the background (``nohup … &``) ignores SIGINT, and children inherit that: give
    # the run Ctrl-C's default, as a terminal would, so the interruption is tested however pytest runs.
    return subprocess.Popen([sys.executable, "-m", "stitchcli", "embed", *args, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def stop_after_first_chunk(process: subprocess.Popen, partial: Path, sig: int) -> None:
    deadline = time.monotonic() + 120
    while not any(partial.glob("data-*.safetensors")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no chunk was written"
        time.sleep(0.002)
    process.send_signal(sig)


def killed_partway(args, tmp_path: Path) -> Path:
    """Start an embed, SIGKILL it after its first chunk; returns the --out it never reached."""
    out = tmp_path / "emb.safetensors"
    process = start(args, out)
    stop_after_first_chunk(process, tmp_path / "emb.safetensors.partial", signal.SIGKILL)
    process.communicate(timeout=120)
    return out


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_interrupted_run_resumes_to_identical_tensors(setup, tmp_path, sig):
    root, args, reference = setup
    out = tmp_path / "emb.safetensors"
    partial = tmp_path / "emb.safetensors.partial"
    process = start(args, out)
    stop_after_first_chunk(process, partial, sig)
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.fail("the run finished before it could be interrupted")
    assert not out.exists(), "a file at --out before the run completed"
    done = len(list(partial.glob("data-*.safetensors")))
    assert 1 <= done < 63
    if sig == signal.SIGINT:
        assert process.returncode == 130
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "resume" in lines[0] and "Traceback" not in stderr, stderr
    resumed = run_cli("embed", *args, "--out", out)
    assert resumed.exit_code == 0, resumed.stderr
    assert f"resuming embedding: {done * 64}/4000" in resumed.stderr
    tensors = store.load(out).tensors
    assert all(torch.equal(tensors[k], reference[k]) for k in reference)
    assert not partial.exists()


def test_other_arguments_start_over(setup, tmp_path):
    root, args, reference = setup
    out = killed_partway(args, tmp_path)
    changed = run_cli("embed", *args, "--pooling", "cls", "--limit", "100", "--out", out)
    assert changed.exit_code == 0, changed.stderr
    assert "starting over" in changed.stderr
    assert not torch.equal(store.load(out).tensors["embeddings"], reference["embeddings"][:100])


def test_no_resume_discards_partial_results(setup, tmp_path):
    root, args, reference = setup
    out = killed_partway(args, tmp_path)
    fresh = run_cli("embed", *args, "--no-resume", "--out", out)
    assert fresh.exit_code == 0 and "--no-resume" in fresh.stderr
    assert torch.equal(store.load(out).tensors["embeddings"], reference["embeddings"])


def test_a_killed_shard_resumes_to_the_rows_of_a_whole_run(setup, tmp_path):
    root, args, reference = setup
    out = tmp_path / "emb.safetensors"
    shard = ["--shard", "1/2"]
    process = start([*args, *shard], out)
    stop_after_first_chunk(process, tmp_path / "emb-00002-of-00002.safetensors.partial", signal.SIGKILL)
    process.communicate(timeout=120)
    assert not (tmp_path / "emb-00002-of-00002.safetensors").exists()
    resumed = run_cli("embed", *args, *shard, "--out", out)
    assert resumed.exit_code == 0 and "resuming embedding" in resumed.stderr, resumed.stderr
    part = store.load(tmp_path / "emb-00002-of-00002.safetensors").tensors
    assert torch.equal(part["indices"], torch.arange(2000, 4000))
    # Its own length-sorted batches: equal to the whole run's rows up to padding-level rounding.
    assert torch.allclose(part["embeddings"], reference["embeddings"][2000:], atol=1e-5)
