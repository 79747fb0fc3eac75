"""Hugging Face ``datasets`` sources: ``hf:<name>[:<config>]`` with ``--split`` (optional extra)."""

from __future__ import annotations

from dataclasses import replace

from stitchcli.data.registry import (
    Dataset,
    DatasetSource,
    ReadOptions,
    encode_labels,
    reads_labels,
    register_source,
    unlabelled,
)
from stitchcli.errors import StitchError
from stitchcli.storage.store import fingerprint


def parse_hub_source(source: str) -> tuple[str, str | None]:
    """``hf:name[:config]`` -> (name, config)."""
    body = source.removeprefix("hf:")
    name, _, config = body.partition(":")
    if not name:
        raise StitchError(f"empty dataset name in {source!r}", hint="use hf:<name>[:<config>]")
    return name, config or None


def _hub_filesystem():
    from huggingface_hub import HfFileSystem

    return HfFileSystem()


def parquet_files(fs, name: str, config: str | None, split: str) -> list[str]:
    """The split's Parquet files in the hub's own conversion (branch ``refs/convert/parquet``)."""
    root = f"datasets/{name}@refs%2Fconvert%2Fparquet/{config or 'default'}"
    for pattern in (f"{root}/{split}/*.parquet", f"{root}/*-{split}.parquet", f"{root}/*-{split}-*.parquet"):
        found = sorted(fs.glob(pattern))
        if found:
            return found
    return []


def load_hub_streaming(source: str, options: ReadOptions) -> Dataset:
    """``hf:`` with ``--streaming``: the split's Parquet files read over the network a row group at a
    time (labels first, one column), nothing downloaded whole; fingerprinted by the files' content
    hashes that the hub lists (no byte is read for it)."""
    from stitchcli.data.arrow import dataset_from_files

    name, config = parse_hub_source(source)
    split = options.split or "train"
    fs = _hub_filesystem()
    try:
        files = parquet_files(fs, name, config, split)
        details = [fs.info(file) for file in files]
    except Exception as exc:  # offline, no such dataset, no access...
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StitchError(f"cannot list the Parquet files of dataset {name!r}: {text}") from None
    if not files:
        raise StitchError(f"dataset {name!r} has no Parquet files for config {config or 'default'!r} "
                          f"split {split!r}", hint="check --split and the hf:<name>:<config> part.")

    def content_hash(file: str, info: dict) -> str:
        lfs = info.get("lfs") or {}
        return lfs.get("sha256") or info.get("blob_id") or str(fs.checksum(file))

    parts = [f"{file.rsplit('/', 1)[-1]}:{info.get('size')}:{content_hash(file, info)}"
             for file, info in zip(files, details, strict=True)]
    return dataset_from_files(
        source, files, "parquet", replace(options, split=split),
        lambda: fingerprint("hf-parquet", source, split, *parts), open_file=lambda f: fs.open(f, "rb"))


def load_hub(source: str, options: ReadOptions) -> Dataset:
    if options.streaming:
        return load_hub_streaming(source, options)
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
    labelled = reads_labels(options, columns, f"dataset {name}")
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
    if not labelled:
        labels, names = unlabelled(len(table))
    elif hasattr(feature := table.features[options.label_column], "names"):
        # ClassLabel: keep the dataset's own names and ids
        labels, names = [int(v) for v in table[options.label_column]], list(feature.names)
    else:
        labels, names = encode_labels(table[options.label_column], f"dataset {name}")
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
    description="hf:<name>[:<config>] with --split (needs stitchcli[hf-datasets]; with --streaming "
    "only pyarrow: stitchcli[parquet])",
    matches=lambda s: s.startswith("hf:"),
    load=load_hub,
))
