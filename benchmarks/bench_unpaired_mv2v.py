"""mini-vec2vec 0.1.2 (arXiv 2510.02348) with zero anchors on the hard-pair cases, as shipped.

For every ordered pair (head encoder A, read encoder B) of each case it fits mini-vec2vec's map B -> A on
unpaired train rows (``disjoint``: B gets a random half of the train samples, A the other half, each
in its own random order; ``shuffled``: all train rows on both sides, each in its own random order),
translates B's test rows and scores them with a logistic probe trained on A's train rows. ``of probe``
= that accuracy / the accuracy of the same recipe trained and tested on B itself. For reference, an
orthogonal Procrustes map fitted on 300 paired train rows (standardised, zero-padded) is scored too.

Probe: StandardScaler + sklearn LogisticRegression(max_iter=2000), C chosen by 5-fold CV on the probe's
train rows among 0.01, 0.1, 1, 10. mini-vec2vec: ``MiniVec2Vec().fit(source, target)`` with every
default (n_clusters=20, n_runs=30, top_k=50, alpha=0.5, subsample=0.33, random_seed=123, QAP 2opt)
and ``.transform(test)``; its output lies in the target's centred unit-norm space (zero-padded to the
wider width), so it is cut to A's width and scaled back (x * mean norm of A's centred fit rows +
A's fit mean) before the raw-space probe; ``mv2v_unit_probe`` in the JSON scores it instead with a probe
trained on A's train rows put through mini-vec2vec's own pre-processing (no scaling back). 0.1.2's
``transform`` does not zero-pad a source narrower than the target (``fit`` does), so the test rows are
padded here first. ``retrieval_at_1``: label-free share of translated test rows nearest their own sample.

Needs ./recipes/hard-pairs.sh run first, and its own virtualenv (mini-vec2vec needs Python >= 3.12,
numpy >= 2.4.4, scikit-learn >= 1.8, scipy >= 1.17.1; no torch), kept apart from .venv:

    /root/.pyenv/versions/3.12.1/bin/python -m venv /work/mv2v-venv
    /work/mv2v-venv/bin/pip install mini-vec2vec==0.1.2 safetensors

    /work/mv2v-venv/bin/python benchmarks/bench_unpaired_mv2v.py [--cases text digits clipart]
        [--modes disjoint shuffled] [--heads mpnet] [--json out.json] [--cpus 1] [--wait]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from safetensors import safe_open
from scipy.linalg import orthogonal_procrustes
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, normalize
from threadpoolctl import threadpool_limits

RUN = Path(__file__).resolve().parents[1] / "runs" / "hard-pairs"
CASES = {"text": ("minilm-l6", "minilm-l3", "mpnet"),
         "digits": ("mobilenetv2", "dinov2s", "effnetlite1"),
         "clipart": ("mobilenetv2", "dinov2s", "effnetlite1")}
CS = (0.01, 0.1, 1, 10)
SEED = 0


def load(path: Path) -> dict:
    with safe_open(str(path), "np") as handle:
        out = {"x": handle.get_tensor("embeddings").astype(np.float64), "y": handle.get_tensor("labels")}
        out["indices"] = handle.get_tensor("indices") if "indices" in handle.keys() else None
    return out


def wait_for(paths: list[Path], wait: bool) -> None:
    while True:
        missing = [p for p in paths if not p.exists()]
        if not missing:
            return
        if not wait:
            sys.exit(f"missing: {', '.join(map(str, missing))} (run ./recipes/hard-pairs.sh, or pass --wait)")
        print(f"waiting for {len(missing)} file(s), e.g. {missing[0]}", file=sys.stderr, flush=True)
        time.sleep(60)


def fit_probe(x: np.ndarray, y: np.ndarray):
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    search = GridSearchCV(pipe, {"logisticregression__C": list(CS)}, cv=5, n_jobs=1)
    return search.fit(x, y)


def accuracy(probe, x: np.ndarray, y: np.ndarray) -> float:
    return float((probe.predict(x) == y).mean())


def pad(x: np.ndarray, width: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, width - x.shape[1]))) if x.shape[1] < width else x


def procrustes_300(xb: np.ndarray, xa: np.ndarray, xb_test: np.ndarray, rng) -> np.ndarray:
    """Orthogonal Procrustes B -> A on 300 paired train rows, in standardised, zero-padded coordinates."""
    sb, sa = StandardScaler().fit(xb), StandardScaler().fit(xa)
    idx = rng.choice(len(xb), size=min(300, len(xb)), replace=False)
    width = max(xb.shape[1], xa.shape[1])
    rot, _ = orthogonal_procrustes(pad(sb.transform(xb[idx]), width), pad(sa.transform(xa[idx]), width))
    out = pad(sb.transform(xb_test), width) @ rot
    return sa.inverse_transform(out[:, : xa.shape[1]])


def mv2v_map(xb_fit: np.ndarray, xa_fit: np.ndarray, xb_test: np.ndarray) -> tuple[np.ndarray, float]:
    """mini-vec2vec fitted B -> A with its defaults; returns B test rows in its (unit) output space."""
    from mini_vec2vec import MiniVec2Vec

    started = time.perf_counter()
    model = MiniVec2Vec().fit(xb_fit, xa_fit, verbose=False)
    # 0.1.2's fit zero-pads a narrower source but its transform does not (matmul error): pad the same
    # way here (zero columns change neither its centring nor its norms, so this is what fit saw).
    out = model.transform(pad(xb_test, model.W.shape[0]))
    return out, time.perf_counter() - started


def retrieval_at_1(translated: np.ndarray, target: np.ndarray) -> float:
    """Label-free check: share of translated test rows whose nearest A test row (cosine) is its own sample."""
    a = normalize(target - target.mean(0))
    t = normalize(translated - translated.mean(0))
    return float((np.argmax(t @ a.T, axis=1) == np.arange(len(a))).mean())


def run_case(case: str, modes: list[str], wait: bool, heads: list[str] | None = None) -> list[dict]:
    names = CASES[case]
    files = [RUN / case / f"{n}-{s}.safetensors" for n in names for s in ("train", "test")]
    wait_for(files, wait)
    train = {n: load(RUN / case / f"{n}-train.safetensors") for n in names}
    test = {n: load(RUN / case / f"{n}-test.safetensors") for n in names}
    for split in (train, test):
        first = split[names[0]]
        for n in names[1:]:
            if first["indices"] is not None and not np.array_equal(first["indices"], split[n]["indices"]):
                sys.exit(f"{case}: rows of {n} are not the same samples as {names[0]}")
            if not np.array_equal(first["y"], split[n]["y"]):
                sys.exit(f"{case}: labels of {n} differ from {names[0]}")
    y_train, y_test = train[names[0]]["y"], test[names[0]]["y"]
    probes, unit_probes, own = {}, {}, {}
    for n in names:
        probes[n] = fit_probe(train[n]["x"], y_train)
        own[n] = accuracy(probes[n], test[n]["x"], y_test)
        xa = train[n]["x"]
        unit_probes[n] = fit_probe(normalize(xa - xa.mean(0)), y_train)
        print(f"{case}: probe {n} {own[n]:.3f} (C={probes[n].best_params_['logisticregression__C']})",
              file=sys.stderr, flush=True)
    rows = []
    for h in names:
        for r in names:
            if h == r or (heads and h not in heads):
                continue
            rng = np.random.default_rng([SEED, names.index(h), names.index(r)])
            xa, xb, xb_test = train[h]["x"], train[r]["x"], test[r]["x"]
            row = {"case": case, "head": h, "read": r, "dims": [xa.shape[1], xb.shape[1]],
                   "n_train": len(xa), "n_test": len(xb_test), "chance": 1 / len(np.unique(y_train)),
                   "probe_head": own[h], "probe_read": own[r]}
            proc = procrustes_300(xb, xa, xb_test, rng)
            row["procrustes300_acc"] = accuracy(probes[h], proc, y_test)
            row["procrustes300_of_probe"] = row["procrustes300_acc"] / own[r]
            for mode in modes:
                n = len(xa)
                if mode == "disjoint":
                    perm = rng.permutation(n)
                    rows_b, rows_a = rng.permutation(perm[: n // 2]), rng.permutation(perm[n // 2:])
                else:
                    rows_b, rows_a = rng.permutation(n), rng.permutation(n)
                xb_fit, xa_fit = xb[rows_b], xa[rows_a]
                try:
                    unit, seconds = mv2v_map(xb_fit, xa_fit, xb_test)
                except Exception as exc:  # report what the package raised, keep going
                    row[f"mv2v_{mode}_error"] = f"{type(exc).__name__}: {exc}"
                    print(f"{case} {h} <- {r} {mode}: {row[f'mv2v_{mode}_error']}", file=sys.stderr)
                    continue
                unit = unit[:, : xa.shape[1]]
                mean = xa_fit.mean(0)
                scale = float(np.linalg.norm(xa_fit - mean, axis=1).mean())
                acc = accuracy(probes[h], unit * scale + mean, y_test)
                row[f"mv2v_{mode}_acc"] = acc
                row[f"mv2v_{mode}_of_probe"] = acc / own[r]
                row[f"mv2v_{mode}_unit_probe_acc"] = accuracy(unit_probes[h], unit, y_test)
                row[f"mv2v_{mode}_retrieval_at_1"] = retrieval_at_1(unit, test[h]["x"])
                row[f"mv2v_{mode}_seconds"] = seconds
                print(f"{case} {h} <- {r} {mode}: acc {acc:.3f} of probe {acc / own[r]:.3f} "
                      f"({seconds:.1f} s)", file=sys.stderr, flush=True)
            rows.append(row)
    return rows


def cell(row: dict, key: str) -> str:
    if f"{key}_acc" not in row:
        return "error" if f"{key}_error" in row else "–"
    return f"{row[f'{key}_acc']:.3f} ({row[f'{key}_of_probe']:.2f})"


def table(rows: list[dict], modes: list[str]) -> str:
    main = modes[0]
    extra = list(modes[1:])
    head = ["case", "head → read", "probe (read)", f"mini-vec2vec acc (of probe), {main}"]
    head += [f"mini-vec2vec acc (of probe), {m}" for m in extra]
    head += ["procrustes-300 sanity (of probe)", "seconds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["case"], f"{row['head']} → {row['read']}", f"{row['probe_read']:.3f}"]
        cells += [cell(row, f"mv2v_{m}") for m in modes]
        cells += [f"{row['procrustes300_acc']:.3f} ({row['procrustes300_of_probe']:.2f})",
                  f"{row.get(f'mv2v_{main}_seconds', float('nan')):.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--modes", nargs="+", default=["disjoint", "shuffled"],
                        choices=["disjoint", "shuffled"], help="the first is the main figure")
    parser.add_argument("--heads", nargs="+", help="only these head encoders (default: all)")
    parser.add_argument("--json", type=Path, help="write the rows and the machine here")
    parser.add_argument("--cpus", type=int, default=1, help="cores to pin the process to (shared machine)")
    parser.add_argument("--wait", action="store_true", help="poll every minute until the files exist")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cpus])
    threadpool_limits(args.cpus)  # BLAS threads too (their count changes rounding, so results)
    warnings.filterwarnings("ignore", message="Zero padding embeddings")
    import mini_vec2vec
    import sklearn

    started = time.time()
    rows = []
    for case in args.cases:
        rows += run_case(case, args.modes, args.wait, args.heads)
    print(table(rows, args.modes))
    if args.json:
        from importlib.metadata import version

        info = {"mini_vec2vec": version("mini-vec2vec"), "sklearn": sklearn.__version__,
                "numpy": np.__version__, "python": platform.python_version(), "cpus": args.cpus,
                "nproc": os.cpu_count(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "wall_seconds": time.time() - started, "module": mini_vec2vec.__file__}
        args.json.write_text(json.dumps({"machine": info, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
