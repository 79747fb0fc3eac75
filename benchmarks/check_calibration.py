"""Calibration of `stitch check`: its label-free signals against the measured of probe of the default
head reading each other encoder, on every ordered pair of the hard-pair cases and several anchor
counts (so that weak pairs exist to be flagged).

Needs ./recipes/hard-pairs.sh run first. ``--split validation`` (default: a stratified quarter of the
train rows held out; the calibration is fitted there) or ``--split test`` (train rows for the anchors,
the head and its pool; the test files read and scored: reported, never fitted on). Prints each
signal's Spearman correlation with the measured of probe, a least-squares fit of the chosen signals
(``--fit``), and, with ``--calibration`` (the JSON that fit printed, or the shipped one by default),
the forecast's Spearman and how many pairs below 0.85 it flags (WARN or FAIL).

    .venv/bin/python benchmarks/check_calibration.py [--split test] [--counts 10 50 768] [--fit a b]
        [--json out.json] [--rows in.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from stitchcli.check import calibration
from stitchcli.check.signals import SIGNAL_NAMES, pair_signals
from stitchcli.jobs.sweep.data import load_sweep_data

sys.path.insert(0, str(Path(__file__).parent))
from anchor_budget import CASES, RUN, accuracy, fit_head  # noqa: E402

COUNTS = (10, 25, 50, 100, 300, 768)


def measure(cases, split: str, counts, method: str, mismatched: bool = False) -> list[dict]:
    """Signals and measured of probe per ordered pair and anchor count; ``mismatched``: B's anchor rows
    in a wrong order (anchors that do not correspond, a user's mistake), the pairs that must fail."""
    from stitchcli.translate.maps import fit_translation

    rows = []
    for case in cases:
        folder = RUN / case
        train = [folder / f"{name}-train.safetensors" for name in CASES[case]]
        test = [folder / f"{name}-test.safetensors" for name in CASES[case]] if split == "test" else []
        data = load_sweep_data(train, test, None, 0.25 if split == "validation" else None, 0)
        spaces, names = data.spaces, CASES[case]
        heads = [fit_head(s.train.float(), data.train_labels) for s in spaces]
        probe = [accuracy(h, s.held_out, data.held_out_labels) for h, s in zip(heads, spaces, strict=True)]
        for count in counts:
            k = min(count, len(data.train_labels))
            positions = data.anchor_positions("random", k, 0)
            for h, target in enumerate(spaces):
                for e, source in enumerate(spaces):
                    if e == h:
                        continue
                    ta, sa = target.train[positions].float(), source.train[positions].float()
                    if mismatched:
                        sa = sa[torch.randperm(len(sa), generator=torch.Generator().manual_seed(h * 3 + e))]
                    translate = fit_translation(method, sa, ta)
                    acc = accuracy(heads[h], translate(source.held_out.float()), data.held_out_labels)
                    signals = pair_signals(ta, sa, target.train.float(), source.held_out.float())
                    rows.append(
                        {
                            "case": case,
                            "split": split,
                            "anchors": k,
                            "head": names[h],
                            "read": names[e],
                            "method": method,
                            "of_probe": acc / probe[e],
                            "mismatched": mismatched,
                            **signals,
                        }
                    )
                    shown = " ".join(
                        f"{n} {signals[n]:.3f}" for n in SIGNAL_NAMES if signals.get(n) is not None
                    )
                    print(
                        f"{case} {k} {names[h]} <- {names[e]}: of probe {acc / probe[e]:.3f} {shown}",
                        file=sys.stderr,
                        flush=True,
                    )
    return rows


def measured(rows) -> list[float]:
    return [r["of_probe"] for r in rows]


def spearman(x: list[float], y: list[float]) -> float:
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        for rank, i in enumerate(order):
            r[i] = float(rank)
        return torch.tensor(r)

    rx, ry = ranks(x), ranks(y)
    return float(torch.corrcoef(torch.stack([rx, ry]))[0, 1])


def fit(rows: list[dict], names: list[str]) -> dict:
    usable = [r for r in rows if all(r.get(n) is not None for n in names)]
    x = torch.tensor([[1.0] + [r[n] for n in names] for r in usable], dtype=torch.float64)
    y = torch.tensor([r["of_probe"] for r in usable], dtype=torch.float64)
    w = torch.linalg.lstsq(x, y[:, None]).solution[:, 0]
    return {
        "intercept": round(float(w[0]), 4),
        "weights": {n: round(float(v), 4) for n, v in zip(names, w[1:], strict=True)},
    }


def report(rows: list[dict], chosen: dict) -> None:
    print(f"{len(rows)} pairs ({rows[0]['split']} rows)")
    for name in SIGNAL_NAMES:
        pick = [r for r in rows if r.get(name) is not None]
        if len(pick) > 2:
            print(f"  {name:18} Spearman {spearman([r[name] for r in pick], measured(pick)):+.3f}")
    predicted = [calibration.predict_of_probe(r, chosen) for r in rows]
    pick = [(p, r) for p, r in zip(predicted, rows, strict=True) if p is not None]
    print(
        f"  forecast           Spearman {spearman([p for p, _ in pick], measured(r for _, r in pick)):+.3f}"
        f"  (calibration {json.dumps(chosen)})"
    )
    bad = [(p, r) for p, r in pick if r["of_probe"] < 0.85]
    flagged = [1 for p, _ in bad if calibration.verdict_of(p) != "PASS"]
    good = [(p, r) for p, r in pick if r["of_probe"] >= 0.90]
    false_alarms = [1 for p, _ in good if calibration.verdict_of(p) == "FAIL"]
    print(
        f"  pairs below 0.85 of probe: {len(bad)}, flagged (WARN or FAIL): {len(flagged)}; "
        f"pairs at 0.90 or more called FAIL: {len(false_alarms)} of {len(good)}"
    )
    for count in sorted({r["anchors"] for r in rows}):
        sub = [(p, r) for p, r in pick if r["anchors"] == count]
        if len(sub) > 2:
            print(
                f"    {count:4} anchors: Spearman "
                f"{spearman([p for p, _ in sub], measured(r for _, r in sub)):+.3f}"
                f", measured {min(measured(r for _, r in sub)):.3f}–{max(measured(r for _, r in sub)):.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    parser.add_argument("--cases", nargs="+", default=list(CASES))
    parser.add_argument("--method", default="ridge")
    parser.add_argument("--mismatched", action="store_true", help="measure pairs with anchors out of order")
    parser.add_argument("--fit", nargs="+", help="signals to fit a linear forecast on")
    parser.add_argument("--json", type=Path, help="write the measured rows here")
    parser.add_argument("--rows", type=Path, help="read measured rows instead of measuring")
    args = parser.parse_args()
    rows = (
        json.loads(args.rows.read_text())
        if args.rows
        else measure(args.cases, args.split, args.counts, args.method, args.mismatched)
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    chosen = fit(rows, args.fit) if args.fit else calibration.CALIBRATION
    report(rows, chosen)


if __name__ == "__main__":
    main()
