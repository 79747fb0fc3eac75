"""Chunked progress beside an output (``OUT.partial/``) so that an interrupted embed can resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from stitchcli.events import log, warn
from stitchcli.storage import store

STATE_FILE = "state.json"


def partial_dir_for(out: Path) -> Path:
    """The partial folder for an output file: a sibling, so it lives on the same disk."""
    return out.with_name(out.name + ".partial")


class ChunkStore:
    """Finished chunks of one run, keyed by everything that determines their content.

    A chunk is written atomically, so after any kill a chunk file is either whole or absent.
    A run with another key (other encoder, data, pooling, anchors...) never reuses chunks.
    """

    def __init__(self, directory: Path, run_key: str, resume: bool = True) -> None:
        self.directory = Path(directory)
        self.run_key = run_key
        state = self.directory / STATE_FILE
        if self.directory.exists():
            previous = _read_key(state)
            if not resume:
                log(f"--no-resume: discarding partial results in {self.directory}")
                shutil.rmtree(self.directory)
            elif previous != run_key:
                warn(f"partial results in {self.directory} come from other arguments or data: "
                     "starting over")
                shutil.rmtree(self.directory)

    def _ensure_directory(self) -> None:
        # Created with the first chunk: a run that fails early leaves nothing behind.
        state = self.directory / STATE_FILE
        if not state.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = state.with_suffix(".tmp")
            tmp.write_text(json.dumps({"run_key": self.run_key}))
            tmp.replace(state)

    def path(self, group: str, index: int) -> Path:
        return self.directory / f"{group}-{index:06d}.safetensors"

    def load(self, group: str, index: int) -> torch.Tensor | None:
        path = self.path(group, index)
        if not path.exists():
            return None
        try:
            return store.load(path, kind="embeddings").tensors["embeddings"]
        except Exception:  # a damaged chunk is simply recomputed
            path.unlink(missing_ok=True)
            return None

    def save(self, group: str, index: int, embeddings: torch.Tensor) -> None:
        self._ensure_directory()
        store.save(self.path(group, index), "embeddings", {"embeddings": embeddings},
                   {"run_key": self.run_key})

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _read_key(state: Path) -> str | None:
    try:
        return json.loads(state.read_text())["run_key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
