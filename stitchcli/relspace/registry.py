"""The similarity and normalisation registries, without torch: their names serve ``--help`` and
up-front checks; a similarity is imported from ``similarity`` on first use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stitchcli.registry import Registry

if TYPE_CHECKING:
    from stitchcli.relspace.similarity import Similarity

SIMILARITIES: Registry[Similarity] = Registry(
    "similarity", group="stitchcli.similarities", named_by="name",
    hint="choose one of {choices}, or several joined by '+'.")
for _name in ("cosine", "whitened", "angular", "euclidean", "l1", "linf"):
    SIMILARITIES.register(_name, f"stitchcli.relspace.similarity:{_name.upper()}")


@dataclass(frozen=True)
class Normalization:
    """How each anchor coordinate is standardised before a head reads it.

    ``reference`` names the rows whose statistics are used: ``"rows"`` (the relative vectors being
    read, e.g. a whole test file), ``"anchors"`` (the anchors' own relative vectors, so a single
    sample can be read) or ``None`` (no standardisation).
    """

    name: str
    description: str
    reference: str | None


NORMALIZATIONS: Registry[Normalization] = Registry(
    "normalization", group="stitchcli.normalizations", named_by="name")


def register_normalization(normalization: Normalization, help: str | None = None) -> Normalization:  # noqa: A002
    return NORMALIZATIONS.register(normalization.name, normalization, help=help)


register_normalization(Normalization(
    "file", "each anchor coordinate standardised with the statistics of the file being read "
    "(the paper's batch-wise InstanceNorm, made deterministic)", "rows"),
    help="statistics of the file being read")
register_normalization(Normalization(
    "anchors", "each anchor coordinate standardised with the anchors' own relative vectors "
    "(works for a single sample)", "anchors"), help="of the anchors themselves; works for one sample")
register_normalization(Normalization("none", "raw similarities", None))


def get_normalization(name: str) -> Normalization:
    return NORMALIZATIONS.get(name)
