"""Stitching against the anchor budget (0, 10, 25, 50, 100, 300, 768 shared samples): of probe of the
default head (a logistic head on the target's absolute train rows) reading each other encoder through
maps fitted with few or no pairs, on every ordered pair of the hard-pair cases.

Needs ./recipes/hard-pairs.sh run first. ``--split validation`` (the default) holds out a stratified
quarter of the train rows (what defaults are chosen on); ``--split test`` fits on every train row and
scores the test files (reported, never tuned on). As `stitch evaluate` does, the map's unpaired rows
are the head encoder's train rows and the read file's own rows (other samples on each side).

    .venv/bin/python benchmarks/anchor_budget.py [--split test] [--counts 0 10 50] [--methods …]
        [--cases text digits] [--seeds 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from stitchcli.heads.logistic import LogisticHead, _tensor_blocks
from stitchcli.jobs.sweep.data import load_sweep_data

sys.path.insert(0, str(Path(__file__).parent))
import few_methods as few  # noqa: E402

RUN = Path("runs/hard-pairs")
CASES = {
    "text": ("minilm-l6", "minilm-l3", "mpnet"),
    "digits": ("mobilenetv2", "dinov2s", "effnetlite1"),
    "clipart": ("mobilenetv2", "dinov2s", "effnetlite1"),
}
COUNTS = (0, 10, 25, 50, 100, 300, 768)  # 0: no shared samples (the unpaired start only)
METHODS = {
    "ridge": few.ridge,
    "procrustes": few.procrustes,
    "ridge+refine3": few.ridge_refine,
    "relmatch": few.relmatch,
    "relmatch0": few.relmatch0,
    "unpaired": few.unpaired,
}


def fit_head(x: torch.Tensor, y: torch.Tensor) -> LogisticHead:
    head = LogisticHead(SimpleNamespace(in_dim=x.shape[1], num_classes=int(y.max()) + 1))
    head.fit_inputs(lambda: _tensor_blocks(x), y, 0)
    return head


@torch.inference_mode()
def accuracy(head: LogisticHead, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((head(x.float()).argmax(1) == y).float().mean())


def run_case(case: str, split: str, counts, methods, seeds: int) -> list[dict]:
    folder = RUN / case
    train = [folder / f"{name}-train.safetensors" for name in CASES[case]]
    test = [folder / f"{name}-test.safetensors" for name in CASES[case]] if split == "test" else []
    rows = []
    for seed in range(seeds):
        data = load_sweep_data(train, test, None, 0.25 if split == "validation" else None, seed)
        spaces, names = data.spaces, CASES[case]
        heads = [fit_head(s.train.float(), data.train_labels) for s in spaces]
        probe = [accuracy(h, s.held_out, data.held_out_labels) for h, s in zip(heads, spaces, strict=True)]
        for count in counts:
            k = min(count, len(data.train_labels))
            positions = data.anchor_positions("random", k, seed) if k else torch.zeros(0, dtype=torch.long)
            for method in methods:
                if (k == 0) != (method == "unpaired"):  # the anchor-free start is for no anchors only
                    continue
                for h, target in enumerate(spaces):
                    for e, source in enumerate(spaces):
                        if e == h:
                            continue
                        started = time.perf_counter()
                        translate = METHODS[method](
                            source.train[positions].float(),
                            target.train[positions].float(),
                            source.held_out.float(),
                            target.train.float(),
                            seed,
                        )
                        acc = accuracy(heads[h], translate(source.held_out.float()), data.held_out_labels)
                        rows.append(
                            {
                                "case": case,
                                "split": split,
                                "seed": seed,
                                "anchors": k,
                                "method": method,
                                "head": names[h],
                                "read": names[e],
                                "accuracy": acc,
                                "probe": probe[e],
                                "of_probe": acc / probe[e],
                                "seconds": time.perf_counter() - started,
                            }
                        )
                cell = [
                    r["of_probe"]
                    for r in rows
                    if r["anchors"] == k and r["method"] == method and r["seed"] == seed and r["case"] == case
                ]
                print(
                    f"{case:8} seed {seed} {k:4} anchors {method:18} of probe mean "
                    f"{sum(cell) / len(cell):.3f} worst {min(cell):.3f}",
                    file=sys.stderr,
                    flush=True,
                )
    return rows


def summary(rows: list[dict]) -> str:
    keys = sorted({(r["case"], r["method"]) for r in rows})
    counts = sorted({r["anchors"] for r in rows})
    lines = [
        "| case | method | " + " | ".join(str(c) for c in counts) + " |",
        "|---|---|" + "---:|" * len(counts),
    ]
    for case, method in keys:
        cells = []
        for count in counts:
            pick = [r for r in rows if (r["case"], r["method"], r["anchors"]) == (case, method, count)]
            if not pick:
                cells.append("—")
                continue
            pairs = {}
            for r in pick:
                pairs.setdefault((r["head"], r["read"]), []).append(r["of_probe"])
            means = [sum(v) / len(v) for v in pairs.values()]
            cells.append(f"{sum(means) / len(means):.3f} / {min(means):.3f}")
        lines.append(f"| {case} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--cases", nargs="+", default=list(CASES))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for case in args.cases:
        rows += run_case(case, args.split, args.counts, args.methods, args.seeds)
    print(summary(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
