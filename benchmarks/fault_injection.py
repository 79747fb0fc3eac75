"""Fault injection: kill `embed`, `merge --concat`, `relative` and `predict` at random points with
SIGKILL, SIGINT or SIGTERM, run the same command again, and check that the output is bit-identical to
an uninterrupted run and that nothing else is left behind (no temp file, no `.partial/`, no lock).

    .venv/bin/python benchmarks/fault_injection.py [--trials 40] [--seed 0] [--rows 3000]

Then `predict --encoder` failing late, after it embedded (a mixed-type id column into Parquet, one row
for a head that standardises over the file's rows, labels the head does not know): the command exits
with one line (or succeeds), leaves no hidden work file (`.OUT.embeddings.safetensors`), no temp file
and no lock, and after the input is fixed the rerun writes the predictions (`late_failures`).

Each trial: a command (round robin), a signal (random), a delay (uniform over the command's own
uninterrupted run time, so the kill lands anywhere from start-up to the final write). Inputs are a
tiny BERT built offline and synthetic texts; every trial runs in the same folder, so the paths that
files record are the same as the reference's. Exit status 1 if any trial fails.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench_scale import WORDS, tiny_bert

from _common import ROOT, argument_parser

SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
EXIT = {"SIGKILL": -9, "SIGINT": 130, "SIGTERM": 143}


def stitch(*args: object) -> list[str]:
    return [sys.executable, "-m", "stitchcli", *map(str, args)]


def environment(work: Path) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "STITCH_CACHE_DIR": str(work / "cache"),
            "OMP_NUM_THREADS": "1"}


def prepare(work: Path, rows: int) -> dict:
    """Inputs (in ``work/in``) and the commands under test, each writing into ``work/out``."""
    inputs = work / "in"
    inputs.mkdir(parents=True, exist_ok=True)
    model = tiny_bert(inputs / "tiny-bert")
    data = inputs / "texts.csv"
    rng = random.Random(rows)
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([" ".join(rng.choices(WORDS, k=rng.randint(3, 40))), i % 3] for i in range(rows))
    env = environment(work)
    anchors, train = inputs / "anchors.safetensors", inputs / "train.safetensors"
    head = inputs / "head.safetensors"
    for args in (("anchors", "-q", "--dataset", data, "--num", 64, "--out", anchors),
                 ("embed", "-q", "--encoder", f"hf:{model}", "--dataset", data, "--anchors", anchors,
                  "--chunk-size", 256, "--out", train),
                 ("train-head", "-q", "--embeddings", train, "--out", head, "--arch", "prototype")):
        subprocess.run(stitch(*args), check=True, env=env, cwd=ROOT)
    shards = inputs / "shards"
    shards.mkdir(exist_ok=True)
    for i in range(3):
        subprocess.run(stitch("embed", "-q", "--encoder", f"hf:{model}", "--dataset", data, "--shard",
                              f"{i}/3", "--out", shards / "e.safetensors"), check=True, env=env, cwd=ROOT)
    out = work / "out"
    return {
        "embed": (stitch("embed", "-q", "--encoder", f"hf:{model}", "--dataset", data, "--anchors", anchors,
                         "--chunk-size", 256, "--batch-size", 16, "--out", out / "e.safetensors"),
                  ["e.safetensors"]),
        "merge --concat": (stitch("merge", "-q", out / "s.safetensors", "--concat"),
                           ["s.safetensors", "s.safetensors.index.json",
                            *(f"s-{i:05d}-of-00003.safetensors" for i in (1, 2, 3))]),
        "relative": (stitch("relative", "-q", "--embeddings", train, "--anchors", anchors, "--similarity",
                            "angular", "--out", out / "r.safetensors"), ["r.safetensors"]),
        "predict": (stitch("predict", "-q", "--head", head, "--encoder", f"hf:{model}", "--dataset", data,
                           "--batch-size", 16, "--out", out / "p.csv"), ["p.csv"]),
        "_shards": shards,
    }


def reset(out: Path, shards: Path, name: str) -> None:
    """An empty output folder (for `merge`, with copies of the shards it joins)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if name.startswith("merge"):
        for i in range(1, 4):
            shutil.copy2(shards / f"e-{i:05d}-of-00003.safetensors", out / f"s-{i:05d}-of-00003.safetensors")


def snapshot(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.iterdir()) if path.is_file()}


def run_trials(work: Path, trials: int, seed: int, rows: int, log=print) -> list[str]:
    """Returns one line per failed trial (empty: every trial passed)."""
    commands = prepare(work, rows)
    shards = commands.pop("_shards")
    out, env = work / "out", environment(work)
    references, durations = {}, {}
    for name, (argv, _) in commands.items():
        reset(out, shards, name)
        started = time.perf_counter()
        subprocess.run(argv, check=True, env=env, cwd=ROOT)
        durations[name] = time.perf_counter() - started
        references[name] = snapshot(out)
    rng = random.Random(seed)
    failures = []
    names = list(commands)
    for trial in range(trials):
        name = names[trial % len(names)]
        argv, expected = commands[name]
        signame = rng.choice(list(SIGNALS))
        delay = rng.uniform(0, durations[name])
        reset(out, shards, name)
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        time.sleep(delay)
        process.send_signal(SIGNALS[signame])
        _, stderr = process.communicate(timeout=300)
        interrupted = process.returncode != 0
        problems = []
        if interrupted and process.returncode != EXIT[signame]:
            problems.append(f"exit {process.returncode} (expected {EXIT[signame]} or 0): "
                            f"{stderr.strip()[-300:]}")
        if interrupted and signame != "SIGKILL" and "Traceback" in stderr:
            problems.append("a traceback on stderr")
        rerun = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
        if rerun.returncode != 0:
            problems.append(f"the rerun failed: {rerun.stderr.strip()[-300:]}")
        now = snapshot(out)
        left = sorted(p.name for p in out.iterdir() if p.name not in expected)
        if left:
            problems.append(f"left behind: {', '.join(left)}")
        if {k: v for k, v in now.items() if k in expected} != references[name]:
            problems.append("output differs from the uninterrupted run")
        status = "ok" if not problems else "FAILED: " + "; ".join(problems)
        log(f"trial {trial + 1:3d}  {name:15s} {signame:7s} after {delay:5.2f} s "
            f"({'interrupted' if interrupted else 'finished first'}): {status}")
        if problems:
            failures.append(f"{name} {signame} after {delay:.2f} s: {'; '.join(problems)}")
    return failures


def _write_texts(path: Path, rows: int, labels=None, ids=None) -> Path:
    """A JSON Lines file of texts (with ``labels`` and ``ids`` columns where given)."""
    import json

    rng = random.Random(rows)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            record = {"text": " ".join(rng.choices(WORDS, k=8))}
            if labels is not None:
                record["label"] = labels[i % len(labels)]
            if ids is not None:
                record["code"] = ids(i)
            handle.write(json.dumps(record) + "\n")
    return path


def late_failures(work: Path, log=print) -> list[str]:
    """`predict --encoder` cases that fail (or used to) after embedding, each followed by the rerun with
    the input fixed. Returns one line per failed case (empty: all passed)."""
    inputs, out = work / "in", work / "late"
    inputs.mkdir(parents=True, exist_ok=True)
    model, env = tiny_bert(inputs / "tiny-bert"), environment(work)
    train = _write_texts(inputs / "train.jsonl", 40, labels=["neg", "pos"])
    anchors, embedded = inputs / "late-anchors.safetensors", inputs / "late-train.safetensors"
    heads = {space: inputs / f"late-{space}.safetensors" for space in ("relative", "absolute")}
    for args in (("anchors", "-q", "--dataset", train, "--num", 8, "--out", anchors),
                 ("embed", "-q", "--encoder", f"hf:{model}", "--dataset", train, "--anchors", anchors,
                  "--out", embedded),
                 *(("train-head", "-q", "--embeddings", embedded, "--space", space, "--out", head)
                   for space, head in heads.items())):
        subprocess.run(stitch(*args), check=True, env=env, cwd=ROOT)
    mixed = lambda i: i if i % 2 else f"row-{i}"  # noqa: E731 - ints and strings: no Parquet type
    cases = {  # name: (head, output, the data that fail late, the data fixed, extra options)
        "mixed-type ids into Parquet": (
            heads["absolute"], "p.parquet", dict(rows=6, ids=mixed), dict(rows=6, ids=str),
            ["--id-column", "code"]),
        "one row for a head standardised on the file": (
            heads["relative"], "p.csv", dict(rows=1), dict(rows=4), []),
        "labels the head does not know": (
            heads["absolute"], "p.csv", dict(rows=4, labels=["alpha", "beta"]), dict(rows=4), []),
    }
    failures = []
    for name, (head, target, failing, fixed, extra) in cases.items():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        problems = []
        for attempt, spec in (("first run", failing), ("rerun, input fixed", fixed)):
            data = _write_texts(out / "data.jsonl", **spec)
            run = subprocess.run(stitch("predict", "-q", "--head", head, "--encoder", f"hf:{model}",
                                        "--dataset", data, "--out", out / target, *extra),
                                 env=env, cwd=ROOT, capture_output=True, text=True)
            errors = [line for line in run.stderr.splitlines() if line.startswith("Error: ")]
            if run.returncode not in (0, 1) or "Traceback" in run.stderr or "looks like a bug" in run.stderr \
                    or (run.returncode == 1 and len(errors) != 1):
                problems.append(f"{attempt}: exit {run.returncode}, {run.stderr.strip()[-300:]}")
            left = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
            if left:
                problems.append(f"{attempt}: left behind {', '.join(left)}")
            if attempt.startswith("rerun") and (run.returncode != 0 or not (out / target).is_file()):
                problems.append(f"{attempt}: no predictions ({run.stderr.strip()[-200:]})")
            if run.returncode == 0:
                break  # nothing to fix
        log(f"late failure  {name:45s}: {'ok' if not problems else 'FAILED: ' + '; '.join(problems)}")
        if problems:
            failures.append(f"{name}: {'; '.join(problems)}")
    shutil.rmtree(out, ignore_errors=True)
    return failures


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--dir", type=Path, default=ROOT / "runs" / "fault-injection")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    failures = run_trials(args.dir, args.trials, args.seed, args.rows)
    print(f"\n{args.trials - len(failures)} of {args.trials} trials passed")
    late = late_failures(args.dir)
    print(f"{3 - len(late)} of 3 late-failure cases passed")
    failures += late
    for line in failures:
        print("  " + line)
    shutil.rmtree(args.dir, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
