"""Under torchrun: each rank embeds its shard on its own GPU; rank 0 writes the index at the end."""

from __future__ import annotations

import os
from pathlib import Path


def under_torchrun() -> bool:
    """Started by torchrun (or any launcher that sets the env:// rendezvous) with several ranks."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "MASTER_ADDR" in os.environ


def local_device(requested: str) -> str:
    """``auto`` on a CUDA machine under torchrun means this rank's GPU, ``cuda:LOCAL_RANK``."""
    import torch

    if requested == "auto" and torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return requested


def index_when_all_done(out: Path) -> Path | None:
    """Wait for every rank (a gloo barrier: CPU only, so it works beside any GPU backend), then
    rank 0 writes ``out.index.json``. Returns the index on rank 0."""
    import torch.distributed as dist

    from stitchcli.storage.shards.index import write_index

    created = not dist.is_initialized()
    if created:
        dist.init_process_group("gloo")
    try:
        dist.barrier()
        written = write_index(out) if dist.get_rank() == 0 else None
        dist.barrier()  # no rank leaves before the index exists
        return written
    finally:
        if created:
            dist.destroy_process_group()
