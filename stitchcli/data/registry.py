"""The dataset registry: what a source reads into (``Dataset``), how formats register, label encoding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stitchcli.errors import StitchError
from stitchcli.registry import Registry


@dataclass
class ReadOptions:
    """How to read a source: column names and the split (for hub datasets and metadata)."""

    split: str | None = None
    text_column: str = "text"
    label_column: str = "label"  # "none": read no labels; the default "label" is optional
    image_column: str = "image"
    streaming: bool = False  # hf: sources: read the hub's Parquet files a row group at a time

    def as_metadata(self) -> dict[str, str]:
        columns = {
            "text_column": self.text_column,
            "label_column": self.label_column,
            "image_column": self.image_column,
        }
        return columns | ({"streaming": "true"} if self.streaming else {})


@dataclass
class Dataset:
    """Samples read from one source, labelled or not; ``sample(i)`` is row ``i`` (text or image).
    An unlabelled source has no label names and every label is -1."""

    source: str
    split: str
    modality: str  # "text" or "image"
    labels: list[int]
    label_names: list[str]
    fingerprint: str
    get_sample: Callable[[int], Any] = field(repr=False)
    # Every value of another column (ids that align parallel views); None: the source has none.
    get_column: Callable[[str, str], list] | None = field(default=None, repr=False)
    # A sample's original encoded bytes (an image file's, a Parquet cell's), when the source has them.
    get_raw: Callable[[int], bytes] | None = field(default=None, repr=False)

    @property
    def labelled(self) -> bool:
        return bool(self.label_names)

    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, index: int) -> Any:
        return self.get_sample(index)

    def samples(self, indices: Sequence[int]) -> list[Any]:
        return [self.get_sample(int(i)) for i in indices]

    def column(self, name: str, flag: str = "--id-column") -> list:
        """Every row's value of column ``name`` (a one-line error naming ``flag`` if the source has no
        such column)."""
        if self.get_column is None:
            raise StitchError(f"{self.source} has no columns besides its samples and labels")
        return self.get_column(name, flag)


@dataclass
class DatasetSource:
    """A registered dataset format: how to recognise a source string and how to load it."""

    name: str
    description: str
    matches: Callable[[str], bool]
    load: Callable[[str, ReadOptions], Dataset]


# The built-in formats register themselves when their modules are imported, on first use (then the
# plugins): later registrations are tried first, so the Parquet folder comes after the image folder.
SOURCES: Registry[DatasetSource] = Registry(
    "dataset format", group="stitchcli.datasets", named_by="name",
    modules=["stitchcli.data.hub", "stitchcli.data.ids", "stitchcli.data.images", "stitchcli.data.tabular",
             "stitchcli.data.arrow"])


def register_source(source: DatasetSource) -> DatasetSource:
    """Add a dataset format; later registrations are tried first."""
    return SOURCES.register(source.name, source, help=source.description)


NO_LABELS = "none"
DEFAULT_LABEL_COLUMN = "label"


def reads_labels(options: ReadOptions, columns: Sequence[str], where: str) -> bool:
    """Whether to read labels from ``columns``: not with ``--label-column none``, nor when the default
    column ``label`` is absent (unlabelled data); a column named on purpose must exist."""
    name = options.label_column
    if name == NO_LABELS:
        return False
    if name in columns:
        return True
    if name == DEFAULT_LABEL_COLUMN:
        return False
    raise StitchError(f"{where} has no label column {name!r} (columns: {', '.join(map(str, columns))})",
                      hint="choose one with --label-column, or --label-column none for unlabelled data.")


def refuse_repeated_columns(columns: Sequence[str], where: str) -> None:
    """One line naming a column that appears twice (a reader would silently keep one of them)."""
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise StitchError(f"{where} has two columns named {str(name)!r}",
                              hint="rename one of them: which one is read would be a guess.")
        seen.add(name)


def unlabelled(count: int) -> tuple[list[int], list[str]]:
    """The labels and label names of ``count`` unlabelled rows."""
    return [-1] * count, []


def default_split(source: str) -> str:
    """A local file is its own split, named after its stem (``train.csv`` -> ``train``)."""
    name = Path(source).name
    for suffix in (".gz",):
        name = name.removesuffix(suffix)
    return Path(name).stem or name


def encode_labels(raw: Sequence[Any], where: str) -> tuple[list[int], list[str]]:
    """Map raw labels (ints or strings) to class ids and sorted class names."""
    for row, value in enumerate(raw):
        if value is None or isinstance(value, list | tuple | dict):
            kind = "empty (null)" if value is None else f"a {type(value).__name__}, not a class name or id"
            raise StitchError(f"{where}: the label in row {row} is {kind}")
    values = [str(v).strip() for v in raw]
    if any(v == "" for v in values):
        row = next(i for i, v in enumerate(values) if v == "")
        raise StitchError(f"{where}: empty label in row {row}")
    if all(_is_int(v) for v in values):
        names = [str(v) for v in sorted({int(v) for v in values})]
        lookup = {name: i for i, name in enumerate(names)}
        return [lookup[str(int(v))] for v in values], names
    names = sorted(set(values))
    lookup = {name: i for i, name in enumerate(names)}
    return [lookup[v] for v in values], names


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True
