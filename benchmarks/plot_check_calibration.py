"""The README's calibration scatter of `stitch check`: predicted against measured of probe, on the rows
benchmarks/check_calibration.py --json wrote (benchmarks/results/check_calibration_*.json)."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from stitchcli.check import calibration

fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
for ax, (name, path) in zip(
    axes,
    (
        ("validation rows (fitted)", "benchmarks/results/check_calibration_validation.json"),
        ("test rows (reported)", "benchmarks/results/check_calibration_test.json"),
    ), strict=False,
):
    rows = json.load(open(path))
    for mism, marker, label in (
        (False, "o", "real pairs, 10-768 anchors"),
        (True, "x", "anchors out of order"),
    ):
        pick = [r for r in rows if bool(r.get("mismatched")) == mism]
        ax.scatter(
            [calibration.predict_of_probe(r) for r in pick],
            [r["of_probe"] for r in pick],
            marker=marker,
            s=18,
            label=label,
            alpha=0.7,
        )
    ax.axvline(0.90, color="green", lw=0.8, ls=":")
    ax.axvline(0.85, color="red", lw=0.8, ls=":")
    ax.axhline(0.85, color="grey", lw=0.5)
    ax.set_title(name)
    ax.set_xlabel("stitch check: predicted of probe")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("measured of probe")
axes[0].legend(fontsize=8)
fig.tight_layout()
fig.savefig("recipes/check-calibration.png", dpi=100)
print("ok")
