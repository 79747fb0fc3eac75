"""Shared benchmark helpers: alternating timers, machine facts, peak memory, JSON output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Benchmarks never reach the hub: local model directories and --weights files only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def stitch_executable() -> Path:
    """The project's console script (``.venv/bin/stitch``), else the one beside this Python."""
    local = ROOT / ".venv" / "bin" / "stitch"
    return local if local.exists() else Path(sys.executable).with_name("stitch")


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "stitchcli"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return out + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict:
    cpu, mem_gb = "unknown", None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    import torch

    return {
        "cpu": cpu,
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "mem_gb": mem_gb,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "commit": _git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def alternate(sides: dict[str, Callable[[], object]], rounds: int = 3,
              warmup: bool = False) -> dict[str, list[float]]:
    """Time each side ``rounds`` times, interleaved (A B A B ...) so machine noise hits both alike.

    With ``warmup`` every side runs once, untimed, first (imports, allocator, page cache).
    """
    if warmup:
        for run in sides.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, run in sides.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def interleaved(sides: dict[str, Callable[[object], object]], pieces: list,
                rounds: int = 2) -> dict[str, float]:
    """Fine-grained alternation for noisy machines: every side runs piece 1, then every side runs
    piece 2, ... (``rounds`` times over); returns per side the sum over pieces of the best time of
    each piece. Noise bursts shorter than a whole run then hit all sides alike."""
    per_piece: dict[str, list[list[float]]] = {name: [[] for _ in pieces] for name in sides}
    for _ in range(rounds):
        for p, piece in enumerate(pieces):
            for name, run in sides.items():
                start = time.perf_counter()
                run(piece)
                per_piece[name][p].append(time.perf_counter() - start)
    return {name: sum(min(t) for t in samples) for name, samples in per_piece.items()}


def best(times: list[float]) -> float:
    return min(times)


def median(times: list[float]) -> float:
    return statistics.median(times)


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_python(code: str, timeout: int = 900) -> dict:
    """Run ``code`` in a fresh interpreter (for per-side peak memory); it prints one JSON line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "benchmarks"),
                                                                      os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(title: str, rows: list[tuple], header: tuple, data: dict, json_out: Path | None) -> None:
    print(f"\n## {title}")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
    if json_out:
        json_out.write_text(json.dumps({"machine": machine(), "title": title, "header": header,
                                        "rows": rows, **data}, indent=2))
        print(f"(wrote {json_out})")


def argument_parser(doc: str | None):
    """An argparse parser whose --help shows the script's docstring as written."""
    import argparse

    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
