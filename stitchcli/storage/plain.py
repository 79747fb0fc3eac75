"""One plain stitchcli file: safetensors tensors and string metadata, written atomically, read checked."""

# Importing this module costs no torch: headers are read by storage.files, and torch and
# safetensors are imported only to save or load tensors (so `stitch info` and up-front checks stay fast).

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stitchcli import __version__
from stitchcli.errors import StitchError
from stitchcli.storage.files import Header, open_file, read_header

if TYPE_CHECKING:
    import torch

FORMAT = "stitchcli"
KINDS = ("embeddings", "anchors", "head")
# The layout of stitchcli's files, written into every one; a file of a newer version is refused in
# one line (a file without the key predates it: version 1).
FORMAT_VERSION = 1
HEADER_KEYS = frozenset({"format", "kind", "stitchcli_version", "format_version"})


@dataclass
class StitchFile:
    """A loaded stitchcli file: its kind, tensors and metadata (all strings)."""

    path: Path
    kind: str
    tensors: dict[str, torch.Tensor]
    metadata: dict[str, str] = field(default_factory=dict)

    def meta_json(self, key: str, default=None):
        """A metadata value that was stored as JSON."""
        return json_metadata(self.metadata, key, default, self.path)

    def same_rows(self, other: StitchFile) -> bool:
        """Whether both files embed the same rows of the same source (in the same order)."""
        import torch

        return (self.metadata.get("dataset_fingerprint") == other.metadata.get("dataset_fingerprint")
                and torch.equal(self.require("indices"), other.require("indices")))

    def require(self, name: str) -> torch.Tensor:
        """A tensor that must be present, or a one-line error naming what is missing."""
        if name not in self.tensors:
            raise missing_tensor(self.path, name)
        return self.tensors[name]


def json_metadata(metadata: dict[str, str], key: str, default, path: Path):
    """``metadata[key]`` decoded from JSON (``default`` if absent); one line naming the file and key
    if it is not JSON."""
    raw = metadata.get(key)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        raise StitchError(f"{path}: metadata '{key}' is not valid JSON") from None


def missing_tensor(path: Path, name: str) -> StitchError:
    """The one-line error for a tensor a file lacks, with a hint where one helps."""
    hint = None
    if name in ("relative", "anchor_embeddings"):
        hint = "embed with --anchors ANCHORS.safetensors, or run `stitch relative` on it."
    return StitchError(f"{path} has no '{name}' tensor", hint=hint)


def check_writable(path: Path, folder: bool = False) -> Path:
    """Fail before any slow work when ``path`` (a file, or with ``folder`` a folder) cannot be written."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir() and not folder:
        raise StitchError(f"output path {path} is a directory", hint="give a file name.")
    if not parent.is_dir():
        raise StitchError(
            f"output directory {parent} does not exist", hint=f"create it: mkdir -p {parent}"
        )
    if not os.access(parent, os.W_OK):
        raise StitchError(f"output directory {parent} is not writable")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary file beside ``path``, renamed onto it when the block succeeds (removed otherwise).

    It gets the mode a plain ``open(path, "w")`` would give under the current umask (mkstemp's own
    0600 would leave results unreadable to everyone else on a shared machine), set after the
    writer is done, since some writers (safetensors) create the file anew.
    """
    from stitchcli.storage.locks import remove_stale_temps, temp_prefix

    remove_stale_temps(path)  # what a killed writer of the same output left behind
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """A temporary folder beside ``path``, put in its place when the block succeeds (a folder already
    there is replaced; callers check it is one of theirs); removed otherwise."""
    import shutil

    from stitchcli.storage.locks import temp_prefix

    path = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's own 0700 would hide the results from others
        old = None
        if path.is_dir():
            old = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def header_metadata(kind: str, metadata: dict) -> dict[str, str]:
    """The string metadata of a stitchcli file: format, kind and version, then ``metadata`` (values
    that are not strings stored as JSON, None left out)."""
    meta = {"format": FORMAT, "kind": kind, "stitchcli_version": __version__,
            "format_version": str(FORMAT_VERSION)}
    for key, value in metadata.items():
        if value is not None:
            meta[key] = value if isinstance(value, str) else json.dumps(value)
    return meta


def output_key_of(metadata: dict[str, str]) -> str | None:
    """What a file's writer recorded its output depends on (a rerun with the same key is up to date)."""
    return metadata.get("output_key")


def own_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """A file's metadata without what ``header_metadata`` writes anew (format, kind, version): what
    a file derived from it (relative vectors, joined shards) carries over."""
    return {k: v for k, v in metadata.items() if k not in HEADER_KEYS}


def save(path: Path, kind: str, tensors: dict[str, torch.Tensor], metadata: dict) -> Path:
    """Write tensors + metadata to ``path`` atomically (temp file in the same folder + rename)."""
    from safetensors.torch import save_file

    path = check_writable(Path(path))
    meta = header_metadata(kind, metadata)
    contiguous = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(contiguous, str(tmp), metadata=meta)
        _canonical_header(tmp)
    return path


def _canonical_header(path: Path) -> None:
    """Rewrite a safetensors header in place with its metadata keys in sorted order: safetensors
    writes them in hash-map order, which changes from run to run, so the same input gave files that
    differed byte-wise. The header keeps its length (padded with spaces, as safetensors pads it)."""
    with open(path, "r+b") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
        metadata = header.pop("__metadata__", None)
        ordered = {"__metadata__": dict(sorted(metadata.items()))} if metadata is not None else {}
        ordered |= dict(sorted(header.items(), key=lambda item: item[1]["data_offsets"]))
        raw = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if len(raw) <= length:  # the same content: never longer in practice; if it were, leave it
            handle.seek(8)
            handle.write(raw + b" " * (length - len(raw)))


# safetensors metadata holds strings only; these keys are numbers, flags or JSON when read back.
_NUMBERS = ("num_samples", "dim", "num_anchors", "seed", "max_length", "in_dim", "num_classes", "hidden",
            "epochs", "lr", "batch_size", "train_accuracy", "topk", "topk_power", "temperature")
_FLAGS = ("center",)
_JSON = ("label_names", "embeddings_encoder", "views")


def decoded_metadata(metadata: dict[str, str]) -> dict:
    """Metadata with numbers, flags and lists as real JSON types (for ``--json``); other values and
    anything that does not parse stay strings."""
    decoded: dict = dict(metadata)
    for key, value in metadata.items():
        try:
            if key in _NUMBERS:
                number = float(value)
                decoded[key] = int(number) if number.is_integer() and "." not in value else number
            elif key in _FLAGS and value in ("true", "false"):
                decoded[key] = value == "true"
            elif key in _JSON:
                decoded[key] = json.loads(value)
        except ValueError:
            pass
    return decoded


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file, with clear errors for anything that is not one (no torch)."""
    return read_header(path).metadata


def inspect_file(path: Path, kind: str | None = None, fd: int | None = None) -> Header:
    """Metadata, tensor dtypes and shapes of a plain stitchcli file, checked like ``load_file`` (format,
    kind, a header that matches the file's size) without importing torch or reading any tensor
    (through ``fd`` if the file is already open)."""
    path = Path(path)
    header = read_header(path, fd)
    metadata = header.metadata
    if metadata.get("format") != FORMAT or metadata.get("kind") not in KINDS:
        raise StitchError(
            f"{path} is a safetensors file but not a stitchcli file",
            hint="stitchcli files are written by `stitch embed`, `stitch anchors` and "
            "`stitch train-head`.",
        )
    check_version(path, metadata)
    if kind is not None and metadata["kind"] != kind:
        raise StitchError(
            f"{path} is {article(metadata['kind'])} {metadata['kind']} file, expected "
            f"{article(kind)} {kind} file",
            hint=kind_hint(kind),
        )
    return header


def check_version(path: Path, metadata: dict[str, str]) -> None:
    """Refuse, in one line, a file written in a newer format than this stitchcli reads."""
    raw = metadata.get("format_version", "1")
    try:
        version = int(raw)
    except ValueError:
        raise StitchError(f"{path}: metadata 'format_version' must be an integer, got {raw!r}") from None
    if version > FORMAT_VERSION:
        raise StitchError(f"{path} is in stitchcli's file format {version}; this stitchcli ({__version__}) "
                          f"reads format {FORMAT_VERSION} and older",
                          hint="upgrade stitchcli: pip install -U stitchcli.")


def load_file(path: Path, kind: str | None = None) -> StitchFile:
    """Load a plain stitchcli file, checking that it is one and, if given, of the expected kind."""
    from safetensors import safe_open

    path = Path(path)
    fd = open_file(path)
    try:
        # Header and tensors come from one open file (on Linux through /proc/self/fd): a file
        # replaced by an atomic rename meanwhile is read wholly old, never as a mix of two.
        header = inspect_file(path, kind, fd)
        same_file = f"/proc/self/fd/{fd}"
        source = same_file if os.path.exists(same_file) else str(path)
        tensors: dict[str, torch.Tensor] = {}
        try:
            with safe_open(source, framework="pt") as handle:
                for name in handle.keys():  # noqa: SIM118 - safe_open is not a mapping
                    tensors[name] = handle.get_tensor(name)
        except Exception as exc:
            raise StitchError(
                f"{path} is not a valid safetensors file (truncated or corrupt?): {_first_line(exc)}"
            ) from exc
    finally:
        os.close(fd)
    rows = {name: t.shape[0] if t.dim() else None for name, t in tensors.items() if name in ROW_NAMES}
    if len(set(rows.values())) > 1:
        raise StitchError(f"{path} is inconsistent: its row tensors hold {rows} rows",
                          hint="the file is damaged or was not written by stitchcli; write it again.")
    return StitchFile(path=path, kind=header.metadata["kind"], tensors=tensors, metadata=header.metadata)


ROW_NAMES = ("embeddings", "labels", "indices", "relative")  # one row per sample in every one


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def kind_hint(kind: str) -> str:
    return {
        "embeddings": "embedding files come from `stitch embed`.",
        "anchors": "anchor files come from `stitch anchors`.",
        "head": "head files come from `stitch train-head`.",
    }[kind]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fingerprint(*parts: bytes | str) -> str:
    """A short, stable content hash (hex) of the given parts."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()[:16]
