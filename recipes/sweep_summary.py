"""Print a `stitch sweep --json` report as the README's tables: one row per recipe, then every pair of
the best one, each with of probe (stitched / the target encoder's logistic probe) beside kept."""

from __future__ import annotations

import json
import sys


def fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def main(path: str) -> None:
    with open(path) as handle:
        report = json.load(handle)
    print(f"## {path}: scored on {report['evaluated_on']} rows ({report['num_held_out']})")
    print("| recipe | own | stitched | kept (min) | of probe (mean) | of probe (min) | home/probe (min) |")
    print("|---|---|---|---|---|---|---|")
    for recipe in report["recipes"]:
        own = sum(recipe["own_accuracy"].values()) / len(recipe["own_accuracy"])
        print(f"| {recipe['label']} | {own:.3f} | {fmt(recipe['mean_accuracy'])} | "
              f"{fmt(recipe['min_kept'])} | {fmt(recipe['mean_of_probe'])} | {fmt(recipe['min_of_probe'])} | "
              f"{fmt(recipe['min_own_of_probe'])} |")
    short = {e["encoder"]: e["encoder"].rstrip("/").rsplit("/", 1)[-1].split(":")[-1]
             for e in report["encoders"]}
    print("\n| head on → evaluated on | probe | " + " | ".join(
        f"{r['label']}: stitched (of probe)" for r in report["recipes"]) + " |")
    print("|---|---|" + "---|" * len(report["recipes"]))
    first = report["recipes"][0]["pairs"]
    for i, pair in enumerate(first):
        cells = []
        for recipe in report["recipes"]:
            p = recipe["pairs"][i]
            cells.append("—" if p["accuracy"] is None else f"{p['accuracy']:.3f} ({p['of_probe']:.2f})")
        print(f"| {short[pair['head_encoder']]} → {short[pair['encoder']]} | {fmt(pair['probe_accuracy'])} | "
              + " | ".join(cells) + " |")


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        main(argument)
