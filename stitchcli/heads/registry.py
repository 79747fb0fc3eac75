"""The head architecture and activation registries, without torch: names for ``--help`` and checks;
an architecture's builder is imported from ``head`` on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stitchcli.registry import Registry

# ``(HeadConfig) -> torch.nn.Module``. A module with ``fit_inputs(blocks, labels, seed)`` (full-batch,
# any number of passes), ``fit_blocks(blocks of (features, labels))`` or ``fit(features, labels)`` is
# fitted by that method instead of trained by Adam.
ARCHITECTURES: Registry[Callable[[Any], Any]] = Registry("head architecture", group="stitchcli.heads")
ARCHITECTURES.register("logistic", "stitchcli.heads.head:_logistic",
                       help="L2 chosen on a validation split, fitted by L-BFGS")
ARCHITECTURES.register("prototype", "stitchcli.heads.head:_prototype", help="class means, nearest by cosine")
ARCHITECTURES.register("ridge", "stitchcli.heads.head:_ridge",
                       help="closed form, penalty chosen on a validation split; for values")
ARCHITECTURES.register("linear", "stitchcli.heads.head:_linear")
ARCHITECTURES.register("mlp", "stitchcli.heads.head:_mlp")

# ``() -> torch.nn.Module``, the mlp's hidden activation.
ACTIVATIONS: Registry[Callable[[], Any]] = Registry("activation")
for _name, _module in (("silu", "SiLU"), ("tanh", "Tanh"), ("relu", "ReLU"), ("gelu", "GELU")):
    ACTIVATIONS.register(_name, f"torch.nn:{_module}")


def register_architecture(name: str, build: Callable[[Any], Any]) -> None:
    """Make ``--arch name`` build its module through ``build(HeadConfig)``."""
    ARCHITECTURES.register(name, build)
