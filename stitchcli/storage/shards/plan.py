"""Which shard a process embeds (``--shard I/N``, torchrun or a SLURM array) and its file names."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from stitchcli.errors import UsageError

INDEX_SUFFIX = ".index.json"


@dataclass(frozen=True)
class Shard:
    """The ``index``-th (from 0) of ``count`` contiguous row ranges."""

    index: int
    count: int

    def rows(self, total: int) -> range:
        """Rows ``total·i//n`` to ``total·(i+1)//n``: sizes differ by at most one."""
        return range(total * self.index // self.count, total * (self.index + 1) // self.count)

    def path(self, out: Path) -> Path:
        """Hugging Face's shard naming: ``emb.safetensors`` -> ``emb-00001-of-00003.safetensors``."""
        out = Path(out)
        return out.with_name(f"{out.stem}-{self.index + 1:05d}-of-{self.count:05d}{out.suffix}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not int(match[1]) < int(match[2]):
        raise UsageError(f"--shard takes INDEX/COUNT with 0 <= INDEX < COUNT, got {text!r}",
                         hint="e.g. --shard 0/4 for the first of four shards.")
    return Shard(int(match[1]), int(match[2]))


def recorded_shard(shard: str, rows: str) -> tuple[Shard, int, int]:
    """What a shard file records of itself: ``I/N`` (its ``shard`` metadata) and the JSON ``[start,
    stop]`` of its rows (``shard_rows``); ValueError or TypeError when they do not read so."""
    index, count = (int(x) for x in shard.split("/"))
    start, stop = json.loads(rows)
    return Shard(index, count), int(start), int(stop)


def from_environment(environ=os.environ) -> Shard | None:  # noqa: B006 - read-only default
    """The shard of this process under torchrun (RANK, WORLD_SIZE) or a SLURM job array
    (SLURM_ARRAY_TASK_ID from SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT); None otherwise."""
    if int(environ.get("WORLD_SIZE", "1")) > 1:
        return Shard(int(environ.get("RANK", "0")), int(environ["WORLD_SIZE"]))
    if "SLURM_ARRAY_TASK_ID" in environ and "SLURM_ARRAY_TASK_COUNT" in environ:
        first = int(environ.get("SLURM_ARRAY_TASK_MIN", "0"))
        return Shard(int(environ["SLURM_ARRAY_TASK_ID"]) - first, int(environ["SLURM_ARRAY_TASK_COUNT"]))
    return None


def index_path(out: Path) -> Path:
    """``emb.safetensors`` -> ``emb.safetensors.index.json``."""
    return Path(f"{out}{INDEX_SUFFIX}")


def is_index(path: Path) -> bool:
    return str(path).endswith(INDEX_SUFFIX)


def shard_files(out: Path) -> list[Path]:
    """The shard files present beside ``out`` (any count), sorted."""
    out = Path(out)
    pattern = re.compile(rf"{re.escape(out.stem)}-(\d{{5}})-of-(\d{{5}}){re.escape(out.suffix)}")
    folder = out.parent if str(out.parent) else Path(".")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name)) if folder.is_dir() else []
