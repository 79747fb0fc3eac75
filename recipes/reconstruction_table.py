"""Print `stitch evaluate --json` results of reconstruction heads as the README's table: per pair of
encoders (head's → file's), the MSE at home and stitched for each recipe (relative, absolute through
the anchors' map, plain absolute), with PSNR."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def recipe_of(head: str) -> str:
    return Path(head).stem.rsplit("-", 1)[-1]


def encoder_of(path: str) -> str:
    return Path(path).stem.rsplit("-", 1)[0]


def main(path: str) -> None:
    with open(path) as handle:
        results = json.load(handle)["results"]
    recipes = list(dict.fromkeys(recipe_of(r["head"]) for r in results))
    cells = {(encoder_of(r["head"]), encoder_of(r["embeddings"]), recipe_of(r["head"])): r for r in results}
    encoders = list(dict.fromkeys(encoder_of(r["head"]) for r in results))
    print(f"## {path}: MSE (PSNR dB) of pixels in [0, 1]; lower MSE is better")
    print("| head's encoder → file's encoder | " + " | ".join(recipes) + " |")
    print("|---|" + "---:|" * len(recipes))
    for head in encoders:
        for target in encoders:
            row = []
            for recipe in recipes:
                r = cells.get((head, target, recipe))
                row.append("—" if r is None else f"{r['mse']:.4f} ({r['psnr']:.1f})")
            print(f"| {head} → {target}{' (own)' if head == target else ''} | " + " | ".join(row) + " |")
    for recipe in recipes:
        stitched = [r["mse"] for (h, t, k), r in cells.items() if k == recipe and h != t]
        own = [r["mse"] for (h, t, k), r in cells.items() if k == recipe and h == t]
        if stitched:
            print(f"- {recipe}: own MSE mean {sum(own) / len(own):.4f}; stitched mean "
                  f"{sum(stitched) / len(stitched):.4f}, worst {max(stitched):.4f} ({len(stitched)} pairs)")


if __name__ == "__main__":
    main(sys.argv[1])
