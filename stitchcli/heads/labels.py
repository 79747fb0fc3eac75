"""A head's classes matched to a file's labels by name (the order may differ between files)."""

from __future__ import annotations

import torch

from stitchcli.errors import IncompatibleError


def label_mapping(head, file) -> torch.Tensor | None:  # noqa: ANN001 - a Head and a RowReader
    """File label ids -> head class ids, matched by name; None for a head that predicts values (its
    targets come from the file's source, not its labels)."""
    if not head.task.classifies:
        return None
    names = file.label_names()
    lookup = {name: i for i, name in enumerate(head.label_names)}
    unknown = [n for n in names if n not in lookup]
    if unknown:
        raise IncompatibleError(
            f"labels of {file.path} differ from those of head {head.path}: "
            f"{', '.join(map(str, unknown[:5]))} unknown to the head "
            f"(head: {', '.join(map(str, head.label_names[:10]))})"
        )
    return torch.tensor([lookup[n] for n in names], dtype=torch.long)
