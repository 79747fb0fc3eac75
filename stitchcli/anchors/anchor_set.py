"""Anchor set files: which source rows are the anchors, and how to read that source again."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from stitchcli.anchors.parallel import AnchorView, absolute, align_views, select_view
from stitchcli.anchors.samples import StoredSamples, samples_digest, store_samples, stored_dataset
from stitchcli.data import Dataset, ReadOptions, load_dataset
from stitchcli.errors import StitchError
from stitchcli.metadata import AnchorSetMeta, EmbeddingsMeta
from stitchcli.storage import store


@dataclass
class AnchorSet:
    """K row indices into one dataset source, with that source's identity."""

    indices: torch.Tensor
    source: str
    split: str
    dataset_fingerprint: str
    fingerprint: str
    strategy: str
    seed: int
    read_options: ReadOptions
    label_names: list[str]
    # Every form of the anchors (the first is the source above); more with `--parallel`.
    views: list[AnchorView] = field(default_factory=list)
    # Each view's anchor samples, kept in the file (empty: not kept, read from the source).
    samples: list[StoredSamples] = field(default_factory=list)
    current: int = 0  # the view this set reads (``viewed``)
    num_rows: int = -1  # rows of the source (of the first view), -1 if not recorded

    def __post_init__(self) -> None:
        if not self.views:
            modality = self.samples[0].modality if self.samples else "?"
            self.views = [AnchorView(self.source, self.split, self.dataset_fingerprint, modality,
                                     self.num_rows, self.read_options, self.indices)]

    def viewed(self, name: str | None, dataset_fingerprint: str, modality: str | None) -> AnchorSet:
        """This anchor set as read from one of its views (see ``parallel.select_view``): the same
        set (fingerprint), that view's source, identity and rows."""
        view = select_view(self.views, self.fingerprint, name, dataset_fingerprint, modality)
        return replace(self, source=view.source, split=view.split, dataset_fingerprint=view.fingerprint,
                       read_options=view.read_options, indices=view.indices, views=self.views,
                       current=self.views.index(view))

    @property
    def modality(self) -> str:
        return self.views[self.current].modality

    def load_source(self) -> Dataset:
        """The anchors' samples: from the file when it keeps them, else from the source read again
        (checked to be the same content)."""
        if self.samples:
            view = self.views[self.current]
            size = view.num_rows if view.num_rows > 0 else int(self.indices.max()) + 1
            return stored_dataset(self.samples[self.current], self.indices, self.source, self.split,
                                  self.dataset_fingerprint, size)
        if not self.source.startswith("hf:") and not Path(self.source).exists():
            raise StitchError(
                f"the anchors' source {self.source} is missing",
                hint="anchors are rows of that file; run from the directory the anchors were "
                "made in, or recreate them with `stitch anchors`.",
            )
        dataset = load_dataset(self.source, self.read_options)
        if dataset.fingerprint != self.dataset_fingerprint:
            raise StitchError(
                f"the anchors' source {self.source} changed since the anchors were chosen "
                f"(fingerprint {dataset.fingerprint}, anchors expect {self.dataset_fingerprint})",
                hint="recreate the anchors with `stitch anchors`.",
            )
        if int(self.indices.max()) >= len(dataset):
            raise StitchError(f"anchor index out of range for {self.source}")
        return dataset


def anchor_meta(anchors: AnchorSet, embeddings_encoder: str | None = None) -> AnchorSetMeta:
    """The metadata of an anchor set, as its file (or a head carrying it) stores it."""
    return AnchorSetMeta(
        dataset=anchors.source, split=anchors.split, dataset_fingerprint=anchors.dataset_fingerprint,
        anchors_fingerprint=anchors.fingerprint, strategy=anchors.strategy, seed=anchors.seed,
        num_anchors=len(anchors.indices), label_names=anchors.label_names, read=anchors.read_options,
        modality=anchors.views[0].modality, num_rows=anchors.views[0].num_rows,
        samples_stored=bool(anchors.samples), embeddings_encoder=embeddings_encoder,
        samples_sha256=samples_digest(anchors.samples) if anchors.samples else None,
        views=[view.as_json() for view in anchors.views] if len(anchors.views) > 1 else None)


def anchor_tensors(anchors: AnchorSet, labels: torch.Tensor) -> dict:
    """The tensors of an anchor set, as its file (or a head carrying it) stores them."""
    tensors = {"indices": anchors.indices.to(torch.int64), "labels": labels.to(torch.int64),
               **({"view_indices": torch.stack([view.indices for view in anchors.views]).to(torch.int64)}
                  if len(anchors.views) > 1 else {})}
    for number, samples in enumerate(anchors.samples):
        tensors |= samples.tensors(f"samples.{number}")
    return tensors


def save_anchor_set(path: Path, anchors: AnchorSet, labels: torch.Tensor,
                    embeddings_encoder: str | None = None) -> None:
    store.save(path, "anchors", anchor_tensors(anchors, labels),
               anchor_meta(anchors, embeddings_encoder).to_metadata())


def load_anchor_set(path: Path) -> AnchorSet:
    file = store.load(path, kind="anchors")
    return anchor_set_from(file.tensors, AnchorSetMeta.from_metadata(file.metadata, str(path)), str(path))


def anchor_set_from(tensors: dict, meta: AnchorSetMeta, where: str) -> AnchorSet:
    """An anchor set from the tensors and metadata that ``anchor_tensors`` and ``anchor_meta`` wrote
    (``where`` names the file in errors)."""
    try:
        indices = tensors["indices"].to(torch.long)
        views = [AnchorView.from_json(entry, rows, where) for entry, rows in zip(
            meta.views, tensors["view_indices"].long(), strict=True)] if meta.views is not None else []
        _check_rows(indices, views, meta, where)
        modalities = [view.modality for view in views] or [meta.modality]
        samples = [StoredSamples.from_tensors(modality, tensors, f"samples.{number}", len(indices), where)
                   for number, modality in enumerate(modalities)] if meta.samples_stored else []
        if meta.samples_sha256 is not None and samples_digest(samples) != meta.samples_sha256:
            raise StitchError(f"{where}: its stored anchor samples do not match the anchor set "
                              f"{meta.anchors_fingerprint} (metadata 'samples_sha256')",
                              hint="the samples were replaced or damaged; make the anchor file (or the "
                              "head carrying it) again.")
        return AnchorSet(
            indices=indices, source=meta.dataset, split=meta.split,
            dataset_fingerprint=meta.dataset_fingerprint, fingerprint=meta.anchors_fingerprint,
            strategy=meta.strategy, seed=meta.seed, read_options=meta.read, label_names=meta.label_names,
            views=views, samples=samples, num_rows=meta.num_rows,
        )
    except (KeyError, ValueError, RuntimeError) as exc:
        raise StitchError(f"anchor set in {where} is missing metadata or tensors ({exc})") from None


def _check_rows(indices: torch.Tensor, views: list[AnchorView], meta: AnchorSetMeta, where: str) -> None:
    """The anchors' rows are as many as the metadata says, and rows of their sources."""
    if indices.dim() != 1 or len(indices) != meta.num_anchors:
        raise StitchError(f"{where}: metadata 'num_anchors' is {meta.num_anchors} but the set holds "
                          f"{indices.numel()} anchor rows", hint="the file is damaged or was edited.")
    for view in views or [None]:
        rows = indices if view is None else view.indices
        size = meta.num_rows if view is None else view.num_rows
        if len(rows) and (int(rows.min()) < 0 or 0 < size <= int(rows.max())):
            raise StitchError(f"{where}: an anchor row ({int(rows.min())}…{int(rows.max())}) is outside the "
                              f"source's {size} rows (metadata 'num_rows')",
                              hint="the file is damaged or was edited.")


def choose_anchors(
    dataset: Dataset, k: int, strategy: str, seed: int, embeddings_paths: list[Path],
    read_options: ReadOptions, parallel: list[str] = (), id_column: str | None = None,
    keep_samples: bool = True,
) -> tuple[AnchorSet, torch.Tensor, str | None]:
    """Pick anchors among ``dataset``'s rows; fps, kmeans and aligned look at encoders' embeddings
    of those rows (every file must embed the same rows of the same source). ``parallel`` sources
    are other views of the same items (translations, captions), aligned by row or ``id_column``."""
    from stitchcli.anchors.strategies import anchor_set_fingerprint, get_strategy, select_anchors
    from stitchcli.storage.rows import open_rows

    labels = torch.tensor(dataset.labels, dtype=torch.long)
    rows = torch.arange(len(dataset))
    spaces: list[torch.Tensor] = []
    encoders = []
    for path in embeddings_paths:
        file = open_rows(path)
        meta = EmbeddingsMeta.of(file)
        theirs = meta.dataset_fingerprint
        if theirs != dataset.fingerprint:
            raise StitchError(
                f"{path} embeds another dataset (fingerprint {theirs}) than "
                f"{dataset.source} ({dataset.fingerprint})",
                hint="pass the embeddings of the same train file.",
            )
        indices = file.read("indices").long()
        if spaces and not torch.equal(indices, rows):
            raise StitchError(f"{path} embeds other rows than {embeddings_paths[0]}",
                              hint="embed the same rows (same --limit) with every encoder.")
        rows = indices
        # Only the strategies that look at embeddings read them (all rows at once: fps, k-means).
        spaces.append(file.read("embeddings") if get_strategy(strategy).needs_embeddings else None)
        encoders.append(meta.encoder)
    embeddings_encoder = None
    if spaces:
        labels = labels[rows]
        embeddings_encoder = encoders[0] if len(encoders) == 1 else json.dumps(encoders)
    positions = select_anchors(strategy, k, labels, [s for s in spaces if s is not None], seed)
    indices = rows[positions]
    views, datasets = align_views(dataset, indices, list(parallel), read_options, id_column)
    identity = anchor_set_fingerprint(dataset.fingerprint, indices)
    if len(views) > 1:  # the same rows with other parallel views are another anchor set
        identity = store.fingerprint(identity, *(f"{view.fingerprint}:{view.indices.tolist()}"
                                                 for view in views[1:]))
    anchor_set = AnchorSet(
        indices=indices, source=absolute(dataset.source), split=dataset.split,
        dataset_fingerprint=dataset.fingerprint, fingerprint=identity,
        strategy=strategy, seed=seed, read_options=read_options, label_names=dataset.label_names,
        views=views, num_rows=len(dataset),
        samples=[store_samples(data, view.indices) for data, view in zip(datasets, views, strict=True)]
        if keep_samples else [],
    )
    return anchor_set, labels[positions], embeddings_encoder


def positions_among(rows, anchors: AnchorSet) -> torch.Tensor | None:
    """Where the anchors' rows are in ``rows`` (a range, list or tensor of row numbers), in the
    anchor set's order, if all are there. Memory: one int64 per row at most."""
    wanted = anchors.indices.long()
    if isinstance(rows, range) and rows.step == 1:
        inside = (wanted >= rows.start) & (wanted < rows.stop)
        return (wanted - rows.start) if bool(inside.all()) else None
    rows = torch.as_tensor(rows, dtype=torch.long)
    if not len(rows):
        return None if len(wanted) else wanted
    ordered, order = rows.sort(stable=True)
    found = torch.searchsorted(ordered, wanted).clamp_(max=len(ordered) - 1)
    if not bool((ordered[found] == wanted).all()):
        return None
    return order[found]


def anchor_positions_in(meta: EmbeddingsMeta, indices: torch.Tensor,
                        anchors: AnchorSet) -> torch.Tensor | None:
    """Where the anchors' rows are among a file's ``indices`` (in the anchor set's order), if it
    embeds them all."""
    if meta.dataset_fingerprint != anchors.dataset_fingerprint:
        return None
    return positions_among(indices, anchors)

