"""Start-up: wall time of `stitch --help`, every `stitch CMD --help`, `stitch info FILE` and a failed
up-front check, against bare Python doing the least the same job needs; and what gets imported."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, alternate, median, met, report, stitch_executable

HEAVY = ("torch", "transformers", "timm", "numpy", "safetensors", "PIL", "matplotlib")
TARGET_S = 0.15  # every --help (issue 12)
FLOOR = "python -c pass (floor)"
BARE_INFO = "python: read a safetensors header (json + struct)"
READ_HEADER = (
    "import json, struct, sys\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    header = json.loads(f.read(struct.unpack('<Q', f.read(8))[0]))\n"
    "print(header.get('__metadata__'), {k: v['shape'] for k, v in header.items() if k != '__metadata__'})\n"
)


def run(argv: list[str], env: dict | None = None, check: bool = True):
    environ = {**os.environ, **(env or {})}
    return lambda: subprocess.run(argv, capture_output=True, check=check, cwd=ROOT, env=environ)


def subcommands() -> list[str]:
    import typer

    from stitchcli.cli import app

    return list(typer.main.get_command(app).commands)


def sample_file(directory: Path) -> Path:
    """A small embeddings file, as `stitch embed` writes them (1,000 × 384 floats)."""
    import torch

    from stitchcli.storage import store

    path = directory / "emb.safetensors"
    store.save(path, "embeddings", {"embeddings": torch.randn(1000, 384), "labels": torch.zeros(1000).long()},
               {"encoder": "hf:bench", "num_samples": 1000, "dim": 384, "label_names": ["a", "b"]})
    return path


def importtime_top(n: int = 10) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) of the slowest imports of ``from stitchcli.cli import app``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from stitchcli.cli import app"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            own, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
            rows.append((int(cumulative), int(own), name))
    return sorted(rows, reverse=True)[:n]


def heavy_modules_loaded(argv: list[str]) -> list[str]:
    code = (
        "import sys\nfrom stitchcli.cli import app\ntry:\n"
        f"    app({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout
    line = next(x for x in out.splitlines() if x.startswith("HEAVY="))
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 runs per command instead of 21")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    repeats = 5 if args.quick else 21
    stitch = str(stitch_executable())
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    file = str(sample_file(work))
    # Each stitch command, and the bare-Python side it is compared with.
    commands = {"stitch --help": ([stitch, "--help"], FLOOR)}
    for name in subcommands():
        commands[f"stitch {name} --help"] = ([stitch, name, "--help"], FLOOR)
    commands["stitch info FILE"] = ([stitch, "info", file], BARE_INFO)
    commands["stitch train-head, missing input (error)"] = (
        [stitch, "train-head", "--embeddings", str(work / "missing.safetensors"), "--out",
         str(work / "x.safetensors")], FLOOR)
    bare = {
        FLOOR: [sys.executable, "-c", "pass"],
        BARE_INFO: [sys.executable, "-c", READ_HEADER, file],
        "python -c 'import torch' (what is avoided)": [sys.executable, "-c", "import torch"],
    }
    sides = {label: run(argv, check="error" not in label) for label, (argv, _) in commands.items()}
    sides["[reference] TYPER_USE_RICH=0 stitch evaluate --help (plain, no panels)"] = run(
        [stitch, "evaluate", "--help"], {"TYPER_USE_RICH": "0"})
    sides.update({label: run(argv) for label, argv in bare.items()})
    times = alternate(sides, rounds=repeats, warmup=True)
    heavy = {label: heavy_modules_loaded(argv[1:]) for label, (argv, _) in commands.items()}
    rows = []
    for label, samples in times.items():
        seconds = median(samples)
        against = commands[label][1] if label in commands else None
        ratio = f"{seconds / median(times[against]):.1f}× {'floor' if against == FLOOR else 'bare read'}" \
            if against else ""
        target = f"< {TARGET_S} s {met(seconds < TARGET_S)}" if label.endswith("--help") else ""
        imported = (", ".join(heavy[label]) or "none") if label in heavy else ""
        rows.append((label, f"{seconds:.3f} s", f"{min(samples):.3f} s", ratio, imported, target))
    top = importtime_top()
    report(
        f"Start-up: median of {repeats} alternating runs of {stitch}",
        rows,
        ("command", "median", "best", "vs bare Python", "heavy modules imported", "target"),
        {"times": times, "heavy_modules_imported": heavy, "importtime_top_us": top},
        args.json_out,
    )
    print("\n`python -X importtime -c 'from stitchcli.cli import app'`, top by cumulative time:")
    print(f"  {'cumulative':>10}  {'self':>8}  module")
    for cumulative, own, name in top:
        print(f"  {cumulative / 1000:>8.1f}ms  {own / 1000:>6.1f}ms  {name}")
    for path in work.iterdir():
        path.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
