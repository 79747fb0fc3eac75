"""Test helpers: run the CLI in-process (CliRunner) or as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from stitchcli.cli import app


def run_cli(*args: str):
    """Invoke ``stitch`` in-process; stdout and stderr are kept apart."""
    runner = CliRunner()
    return runner.invoke(app, [str(a) for a in args])


def ok(*args) -> str:
    """Run the CLI in-process and return its stdout; fail the test (with its stderr) on a non-zero exit."""
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def write_texts(path, rows, labelled: bool = True):
    """A CSV of (text, label) rows (only the texts when not ``labelled``); returns ``path``."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"] if labelled else ["text"])
        writer.writerows(rows if labelled else [[text] for text, *_ in rows])
    return path


def run_subprocess(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **kwargs.pop("env", {})}
    return subprocess.run([sys.executable, "-m", "stitchcli", *map(str, args)],
                          capture_output=True, text=True, env=env, **kwargs)


def assert_one_line_error(result, contains: str = "", exit_code: int = 1) -> None:
    """Exit 1 (2 for bad option values), an ``Error:`` first line on stderr (+ optional ``Hint:``),
    and no traceback."""
    stderr = result.stderr
    code = result.exit_code if hasattr(result, "exit_code") else result.returncode
    assert code == exit_code, stderr
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    assert all(line.startswith(("Error: ", "Hint: ")) for line in lines if not line.startswith(" ")), stderr
    assert "Traceback" not in stderr
    assert contains.lower() in errors[0].lower(), stderr


def random_orthogonal(dim: int, seed: int):
    """A seeded random orthogonal matrix (Haar-distributed: QR with the signs of R's diagonal)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).float()
