"""Start-up: wall time of `stitch --help` and `stitch evaluate --help`, and what gets imported."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from _common import ROOT, alternate, median, met, report, stitch_executable

# Prototypes of start-up fixes (monkeypatched here, not in stitchcli): typer 0.29 builds a pydantic
# TypeAdapter for the group's --help flag when it is absent (value None, not a bool), which imports
# pydantic (~0.2 s) on every subcommand; passing bool(value) skips that. TYPER_USE_RICH=0 makes
# typer print plain click help instead of importing rich.markdown/markdown_it for rich panels.
PATCH_HELP_FLAG = """
import sys
from stitchcli import cli
_get = cli.StitchGroup.get_help_option
def get_help_option(self, ctx):
    option = _get(self, ctx)
    if option is not None and not getattr(option, "_bool_value", False):
        process = option.process_value
        option.process_value = lambda ctx, value: process(ctx, bool(value))
        option._bool_value = True
    return option
cli.StitchGroup.get_help_option = get_help_option
sys.argv[0] = "stitch"
cli.main()
"""
UNPATCHED = "import sys\nfrom stitchcli import cli\nsys.argv[0] = 'stitch'\ncli.main()\n"

HEAVY = ("torch", "transformers", "timm", "numpy", "safetensors", "PIL", "matplotlib")
TARGET_S = 0.3


def run(argv: list[str], env: dict | None = None):
    environ = {**os.environ, **(env or {})}
    return lambda: subprocess.run(argv, capture_output=True, check=True, cwd=ROOT, env=environ)


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
    parser.add_argument("--no-prototypes", dest="prototypes", action="store_false",
                        help="leave out the monkeypatched start-up fixes")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    repeats = 5 if args.quick else 21
    stitch = str(stitch_executable())
    commands = {
        "stitch --help": [stitch, "--help"],
        "stitch evaluate --help": [stitch, "evaluate", "--help"],
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "python -c 'import torch' (what is avoided)": [sys.executable, "-c", "import torch"],
    }
    sides = {label: run(argv) for label, argv in commands.items()}
    prototypes = {
        "[control] python -c 'cli.main()' evaluate --help": run(
            [sys.executable, "-c", UNPATCHED, "evaluate", "--help"]),
        "[prototype] help flag as bool: evaluate --help": run(
            [sys.executable, "-c", PATCH_HELP_FLAG, "evaluate", "--help"]),
        "[prototype] TYPER_USE_RICH=0 stitch evaluate --help": run(
            [stitch, "evaluate", "--help"], {"TYPER_USE_RICH": "0"}),
        "[prototype] both: evaluate --help": run(
            [sys.executable, "-c", PATCH_HELP_FLAG, "evaluate", "--help"], {"TYPER_USE_RICH": "0"}),
        "[prototype] TYPER_USE_RICH=0 stitch --help": run([stitch, "--help"], {"TYPER_USE_RICH": "0"}),
    }
    if args.prototypes:
        sides.update(prototypes)
    times = alternate(sides, rounds=repeats, warmup=True)
    heavy = {label: heavy_modules_loaded(argv[1:]) for label, argv in commands.items()
             if label.startswith("stitch")}
    rows = []
    for label, samples in times.items():
        seconds = median(samples)
        target = f"< {TARGET_S} s {met(seconds < TARGET_S)}" if label in heavy else ""
        imported = (", ".join(heavy[label]) or "none") if label in heavy else ""
        rows.append((label, f"{seconds:.3f} s", f"{min(samples):.3f} s", imported, target))
    top = importtime_top()
    report(
        f"Start-up: median of {repeats} alternating runs of {stitch}",
        rows,
        ("command", "median", "best", "heavy modules imported", "target"),
        {"times": times, "heavy_modules_imported": heavy, "importtime_top_us": top},
        args.json_out,
    )
    print("\n`python -X importtime -c 'from stitchcli.cli import app'`, top by cumulative time:")
    print(f"  {'cumulative':>10}  {'self':>8}  module")
    for cumulative, own, name in top:
        print(f"  {cumulative / 1000:>8.1f}ms  {own / 1000:>6.1f}ms  {name}")


if __name__ == "__main__":
    main()
