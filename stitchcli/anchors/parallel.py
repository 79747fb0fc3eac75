"""Parallel views of an anchor set: the same anchor items in another language or modality."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from stitchcli.data import Dataset, ReadOptions, load_dataset
from stitchcli.errors import StitchError


@dataclass(frozen=True)
class AnchorView:
    """One form of the anchors: a source, its identity, and the anchors' rows in it."""

    source: str
    split: str
    fingerprint: str
    modality: str
    num_rows: int
    read_options: ReadOptions
    indices: torch.Tensor

    def as_json(self) -> dict:
        return {"source": self.source, "split": self.split, "fingerprint": self.fingerprint,
                "modality": self.modality, "num_rows": self.num_rows, **self.read_options.as_metadata()}

    @classmethod
    def from_json(cls, entry: dict, indices: torch.Tensor, where: str = "anchor set") -> AnchorView:
        """A view as ``as_json`` wrote it into its anchor set's ``views`` (checked key by key)."""
        from stitchcli.metadata import values as v
        from stitchcli.metadata.common import read_options

        where = f"{where} (a parallel view)"
        return cls(v.text(entry, "source", where), v.text(entry, "split", where),
                   v.text(entry, "fingerprint", where), v.text(entry, "modality", where),
                   v.integer(entry, "num_rows", where), read_options(entry, where), indices)


def absolute(source: str) -> str:
    """Local sources are recorded as absolute paths, so the anchors work from any folder."""
    if source.startswith("hf:"):
        return source
    if source.startswith("ids:"):
        return "ids:" + str(Path(source.removeprefix("ids:")).resolve())
    return str(Path(source).resolve())


def view_of(dataset: Dataset, read: ReadOptions, indices: torch.Tensor) -> AnchorView:
    return AnchorView(absolute(dataset.source), dataset.split, dataset.fingerprint, dataset.modality,
                      len(dataset), replace(read, split=dataset.split), indices.to(torch.long))


def _id_rows(dataset: Dataset, id_column: str) -> dict[str, int]:
    rows: dict[str, int] = {}
    for row, value in enumerate(dataset.column(id_column)):
        key = str(value)
        if key in rows:
            raise StitchError(f"id {key!r} appears twice in column {id_column!r} of {dataset.source}",
                              hint="an --id-column must name each item once per view.")
        rows[key] = row
    return rows


def align_views(primary: Dataset, indices: torch.Tensor, sources: list[str], read: ReadOptions,
                id_column: str | None = None) -> tuple[list[AnchorView], list[Dataset]]:
    """The primary view and each parallel one (and the datasets read), with the anchors' rows in
    each: the same rows (row i of every view is the same item), or the rows with the same
    ``id_column`` value."""
    views = [view_of(primary, read, indices)]
    datasets = [primary]
    wanted = None
    if id_column is not None:
        primary_ids = list(_id_rows(primary, id_column))  # checks the ids are unique; in row order
        wanted = [primary_ids[i] for i in indices.tolist()]
    for source in sources:
        data = load_dataset(source, read if source.startswith("hf:") else replace(read, split=None))
        if wanted is None:
            if len(data) != len(primary):
                raise StitchError(
                    f"parallel view {source} has {len(data)} rows but {primary.source} has {len(primary)}",
                    hint="row i of every view must be the same item; or give --id-column to align "
                    "the views by an id column.")
            rows = indices.clone()
        else:
            where = _id_rows(data, id_column)
            missing = [key for key in wanted if key not in where]
            if missing:
                raise StitchError(f"{len(missing)} of the anchors' ids are not in {source} "
                                  f"(e.g. {missing[0]!r} of column {id_column!r})")
            rows = torch.tensor([where[key] for key in wanted], dtype=torch.long)
        views.append(view_of(data, read, rows))
        datasets.append(data)
    return views, datasets


def select_view(views: list[AnchorView], anchors_name: str, name: str | None, dataset_fingerprint: str,
                modality: str | None) -> AnchorView:
    """``name`` (a recorded view's source), else the view of the dataset being embedded (same
    fingerprint), else the first of its modality, else the first."""
    if name is not None:
        for view in views:
            if view.source in (name, absolute(name)):
                return view
        raise StitchError(f"{name} is not a view of anchor set {anchors_name} "
                          f"(its views: {', '.join(view.source for view in views)})",
                          hint="give --anchor-view one of them, or leave it out to use the view of "
                          "--dataset.")
    for view in views:
        if view.fingerprint == dataset_fingerprint:
            return view
    kinds = {view.modality for view in views}
    if modality and "?" not in kinds and modality not in kinds:
        raise StitchError(f"anchor set {anchors_name} holds {' and '.join(sorted(kinds))} anchors, but the "
                          f"data are {modality}s", hint="use a head or anchor set made for this modality "
                          "(or one with a --parallel view of it).")
    return next((view for view in views if view.modality == modality), views[0])
