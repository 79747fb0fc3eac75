"""Relative projection at scale: cosine of N×768 embeddings to 1,000 anchors vs a plain torch.mm.

Each side runs in a fresh interpreter (so its peak RSS is its own), alternating stitch, torch.mm,
stitch, ... Both sides first allocate the same input (N × 768) and anchors; "before" is the RSS at
that point, so "peak − before" is what the computation itself added: the output plus temporaries.
"""

from __future__ import annotations

from pathlib import Path

from _common import argument_parser, met, report, run_python

SIDE = """
import json, time, torch
from _common import peak_rss_mb
torch.manual_seed(0)
x = torch.randn({n}, {d}); a = torch.randn({k}, {d})
before = peak_rss_mb()
start = time.perf_counter()
if {side!r} == "stitch":
    from stitchcli.relspace import relative_projection
    out = relative_projection(x, a, "cosine")
else:
    out = torch.mm(x, a.T)
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_mb": peak_rss_mb(), "before_mb": before,
                  "out_mb": out.numel() * 4 / 2**20, "in_mb": x.numel() * 4 / 2**20,
                  "threads": torch.get_num_threads()}}))
"""


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--rows", type=int, help="N (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    n, d, k = args.rows or (100_000 if args.quick else 1_000_000), 768, 1000
    runs: dict[str, list[dict]] = {"stitch": [], "torch.mm": []}
    for _ in range(args.rounds):  # alternating fresh processes: per-side peak memory, shared noise
        for side in runs:
            runs[side].append(run_python("import sys; sys.path.insert(0, 'benchmarks')\n"
                                         + SIDE.format(n=n, d=d, k=k, side=side)))
    best = {side: min(r["seconds"] for r in rs) for side, rs in runs.items()}
    peak = {side: max(r["peak_mb"] for r in rs) for side, rs in runs.items()}
    before = {side: max(r["before_mb"] for r in rs) for side, rs in runs.items()}
    first = runs["stitch"][0]
    in_mb, out_mb = first["in_mb"], first["out_mb"]
    speed = best["torch.mm"] / best["stitch"]
    added = {side: peak[side] - before[side] for side in runs}
    flops = 2 * n * d * k
    rows = [
        ("time, stitch / torch.mm", f"{best['stitch']:.2f} s / {best['torch.mm']:.2f} s", ""),
        ("speed vs torch.mm", f"{speed:.2f}×", f"≥ 0.8× {met(speed >= 0.8)}"),
        ("rows/s, GFLOP/s (stitch)", f"{n / best['stitch']:,.0f}, {flops / best['stitch'] / 1e9:.0f}", ""),
        ("input (N×768) / output (N×1000)", f"{in_mb:,.0f} / {out_mb:,.0f} MiB", ""),
        ("peak RSS, stitch / torch.mm", f"{peak['stitch']:,.0f} / {peak['torch.mm']:,.0f} MiB", ""),
        ("peak − before, stitch / torch.mm", f"{added['stitch']:,.0f} / {added['torch.mm']:,.0f} MiB", ""),
        ("stitch: (peak − before) / output", f"{added['stitch'] / out_mb:.2f}×",
         f"≤ 1.5× {met(added['stitch'] / out_mb <= 1.5)}"),
        ("stitch: peak / (input + output)", f"{peak['stitch'] / (in_mb + out_mb):.2f}×", ""),
        ("stitch: peak / output (input counted)", f"{peak['stitch'] / out_mb:.2f}×", ""),
    ]
    report(
        f"Relative projection, cosine, {n:,} × {d} vs {k} anchors, best of {args.rounds} alternating "
        f"fresh processes ({first['threads']} threads)",
        rows,
        ("measure", "value", "target"),
        {"n": n, "runs": runs, "speed_ratio": speed},
        args.json_out,
    )


if __name__ == "__main__":
    main()
