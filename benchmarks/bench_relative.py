"""Relative projection at scale: cosine of N×768 embeddings to 1,000 anchors vs a plain torch.mm."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import report, run_python

SIDE = """
import json, time, torch
from _common import peak_rss_mb
torch.manual_seed(0)
x = torch.randn({n}, {d}); a = torch.randn({k}, {d})
base = peak_rss_mb()
start = time.perf_counter()
if {side!r} == "stitch":
    from stitchcli.relative import relative_projection
    out = relative_projection(x, a, "cosine")
else:
    out = torch.mm(x, a.T)
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_mb": peak_rss_mb(), "before_mb": base,
                  "out_mb": out.numel() * 4 / 2**20, "in_mb": x.numel() * 4 / 2**20}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    n, d, k = (100_000 if args.quick else 1_000_000), 768, 1000
    runs: dict[str, list[dict]] = {"stitch": [], "torch.mm": []}
    for _ in range(args.rounds):  # alternating fresh processes: per-side peak memory, shared noise
        for side in runs:
            code = "import sys; sys.path.insert(0, 'benchmarks')\n" + SIDE.format(n=n, d=d, k=k, side=side)
            runs[side].append(run_python(code))
    best = {side: min(r["seconds"] for r in rs) for side, rs in runs.items()}
    peak = {side: max(r["peak_mb"] for r in rs) for side, rs in runs.items()}
    first = runs["stitch"][0]
    speed = best["torch.mm"] / best["stitch"]
    overhead = peak["stitch"] - first["before_mb"]
    rows = [
        ("time stitch / torch.mm", f"{best['stitch']:.2f} s / {best['torch.mm']:.2f} s", ""),
        ("speed vs torch.mm", f"{speed:.2f}×", f"≥ 0.8× {'met' if speed >= 0.8 else 'MISSED'}"),
        ("rows per second", f"{n / best['stitch']:,.0f}", ""),
        ("peak RSS stitch / torch.mm", f"{peak['stitch']:,.0f} / {peak['torch.mm']:,.0f} MiB", ""),
        ("input, output", f"{first['in_mb']:,.0f}, {first['out_mb']:,.0f} MiB", ""),
        (
            "peak beyond the input / output",
            f"{overhead / first['out_mb']:.2f}×",
            f"≤ 1.5× {'met' if overhead / first['out_mb'] <= 1.5 else 'MISSED'}",
        ),
        ("peak incl. input / output", f"{peak['stitch'] / first['out_mb']:.2f}×", ""),
    ]
    report(
        f"Relative projection, cosine, {n:,} × {d} vs {k} anchors",
        rows,
        ("measure", "value", "target"),
        {"n": n, "runs": runs, "speed_ratio": speed},
        args.json_out,
    )
    if args.json_out is None:
        print(json.dumps({"best_seconds": best, "peak_mb": peak}))


if __name__ == "__main__":
    main()
