"""Hugging Face ``datasets`` sources: ``hf:<name>[:<config>]`` with ``--split`` (optional extra)."""

from __future__ import annotations

from stitchcli.data import Dataset, DatasetSource, ReadOptions, encode_labels, register_source
from stitchcli.errors import StitchError
from stitchcli.store import fingerprint


def parse_hub_source(source: str) -> tuple[str, str | None]:
    """``hf:name[:config]`` -> (name, config)."""
    body = source.removeprefix("hf:")
    name, _, config = body.partition(":")
    if not name:
        raise StitchError(f"empty dataset name in {source!r}", hint="use hf:<name>[:<config>]")
    return name, config or None


def load_hub(source: str, options: ReadOptions) -> Dataset:
    name, config = parse_hub_source(source)
    try:
        import datasets
    except ImportError:
        raise StitchError(
            "hf: datasets need the optional 'datasets' package",
            hint="pip install 'stitchcli[hf-datasets]'",
        ) from None
    split = options.split or "train"
    try:
        table = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # the hub raises many types (offline, missing split, auth...)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StitchError(f"cannot load dataset {name!r} split {split!r}: {text}") from None
    columns = table.column_names
    if options.label_column not in columns:
        raise StitchError(
            f"dataset {name} has no label column '{options.label_column}' (columns: "
            f"{', '.join(columns)})",
            hint="choose one with --label-column.",
        )
    if options.image_column in columns:
        modality, column = "image", options.image_column
    elif options.text_column in columns:
        modality, column = "text", options.text_column
    else:
        raise StitchError(
            f"dataset {name} has neither text column '{options.text_column}' nor image column "
            f"'{options.image_column}' (columns: {', '.join(columns)})",
            hint="choose one with --text-column or --image-column.",
        )
    feature = table.features[options.label_column]
    raw = table[options.label_column]
    if hasattr(feature, "names"):  # ClassLabel: keep the dataset's own names and ids
        labels, names = [int(v) for v in raw], list(feature.names)
    else:
        labels, names = encode_labels(raw, f"dataset {name}")
    return Dataset(
        source=source,
        split=split,
        modality=modality,
        labels=labels,
        label_names=names,
        fingerprint=fingerprint(source, split, getattr(table, "_fingerprint", "")),
        get_sample=lambda i: table[int(i)][column],
    )


register_source(DatasetSource(
    name="hf-datasets",
    description="hf:<name>[:<config>] with --split (needs stitchcli[hf-datasets])",
    matches=lambda s: s.startswith("hf:"),
    load=load_hub,
))
