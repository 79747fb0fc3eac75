"""Heads: architectures (a registry), what a head reads from a file, training, and classification metrics.

``head`` (architectures, ``Head``, save/load) ← ``inputs`` (a file's rows in the head's space, by
block or batch) ← ``training`` (one seeded run over a train file); ``metrics`` is shared with evaluation.
"""

from stitchcli.heads.head import (
    ARCHITECTURES,
    Head,
    HeadConfig,
    PrototypeHead,
    build_head,
    load_head,
    register_architecture,
    save_head,
)
from stitchcli.heads.metrics import accuracy, macro_f1
from stitchcli.heads.training import TrainRequest, train_head

__all__ = ["ARCHITECTURES", "Head", "HeadConfig", "PrototypeHead", "TrainRequest", "accuracy", "build_head",
           "load_head", "macro_f1", "register_architecture", "save_head", "train_head"]
