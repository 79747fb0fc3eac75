"""Start-up: wall time of `stitch --help` and `stitch evaluate --help`, and what gets imported."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, median, report

STITCH = Path(sys.executable).with_name("stitch")


def wall(argv: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def importtime_top(n: int = 8) -> list[tuple[int, str]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from stitchcli.cli import app"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
            rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:n]


def heavy_modules_loaded() -> list[str]:
    code = (
        "import sys\nfrom stitchcli.cli import app\ntry:\n    app(['--help'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'timm', 'numpy') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("HEAVY="))
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    rows, data = [], {}
    for label, argv in (
        ("stitch --help", [str(STITCH), "--help"]),
        ("stitch evaluate --help", [str(STITCH), "evaluate", "--help"]),
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
    ):
        seconds = median(wall(argv, repeats))
        data[label] = seconds
        target = "< 0.3 s" if label.startswith("stitch") else ""
        rows.append((label, f"{seconds:.3f} s", target, "met" if target and seconds < 0.3 else ""))
    heavy = heavy_modules_loaded()
    data["heavy_modules_imported_by_help"] = heavy
    data["importtime_top_us"] = importtime_top()
    report("Start-up (median wall time)", rows, ("command", "time", "target", ""), data, args.json_out)
    print(f"heavy modules imported by --help: {heavy or 'none'}")
    print("top imports by cumulative time (µs):")
    for micros, name in data["importtime_top_us"]:
        print(f"  {micros:>8}  {name}")


if __name__ == "__main__":
    main()
