"""The README's few-anchor picture: of probe against the number of shared samples, per case, the
default map with and without refinement (mean over ordered pairs, and the worst pair dashed)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

LABELS = {"ridge": "ridge map (default)", "ridge+refine3": "ridge map, --refine 3"}
CASE_NAMES = {"text": "text", "digits": "digits", "clipart": "clip art"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=Path, help="anchor_budget.py --json output")
    parser.add_argument("--out", type=Path, default=Path("recipes/anchor-budget.png"))
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = json.loads(args.rows.read_text())
    cases = [c for c in CASE_NAMES if any(r["case"] == c for r in rows)]
    figure, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 3.6), sharey=True)
    for axis, case in zip(axes if len(cases) > 1 else [axes], cases, strict=True):
        for method, colour in (("ridge", "tab:blue"), ("ridge+refine3", "tab:orange")):
            pick = [r for r in rows if r["case"] == case and r["method"] == method]
            counts = sorted({r["anchors"] for r in pick})
            means = [
                sum(r["of_probe"] for r in pick if r["anchors"] == c) / sum(r["anchors"] == c for r in pick)
                for c in counts
            ]
            worst = [min(r["of_probe"] for r in pick if r["anchors"] == c) for c in counts]
            axis.plot(counts, means, "o-", color=colour, label=f"{LABELS[method]}: mean")
            axis.plot(counts, worst, "o--", color=colour, alpha=0.6, label=f"{LABELS[method]}: worst pair")
        unpaired = [r for r in rows if r["case"] == case and r["method"] == "unpaired"]
        if unpaired:
            axis.axhline(
                sum(r["of_probe"] for r in unpaired) / len(unpaired),
                color="grey",
                lw=1,
                label="no shared samples (mean)",
            )
        axis.set_xscale("log")
        axis.set_title(CASE_NAMES[case])
        axis.set_xlabel("shared samples (anchors)")
        axis.axhline(0.9, color="black", lw=0.5, ls=":")
        axis.grid(alpha=0.3)
    (axes[0] if len(cases) > 1 else axes).set_ylabel("of probe (test rows)")
    handles, labels = (axes[0] if len(cases) > 1 else axes).get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
