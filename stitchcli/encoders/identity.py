"""What an encoder's vectors depend on besides its options, read from its files without loading it.

``encoder_identity(spec, weights)`` is a short hash of the model's content as far as it can be known
cheaply (no torch, no model load, no network), so caches and "up to date" checks keyed on it notice a
model replaced in place under the same name:

- a local folder (``hf:DIR``, a plugin's ``st:DIR``, a two-tower ``hf:DIR#text``): every weights,
  config, tokenizer, processor and code file in it (two levels deep, for sentence-transformers'
  module folders); a small file by its bytes, a large one by (size, mtime, ctime, inode), since a
  write cannot leave ctime as it was; a file that links into a Hugging Face ``blobs/`` folder by the
  blob's name, which is its content hash;
- a local file (timm's ``--weights``, a plugin's file spec): that file, the same way;
- a hub id: the commit the local Hugging Face cache resolves it to (``refs/main``; for timm's
  pretrained weights, ``timm/NAME`` and every cached ``timm/NAME.TAG``). A hub id that is
  not in the local cache (offline, or never downloaded) cannot be resolved without the network: its
  identity is then the spec alone, marked "unresolved", and becomes the commit once downloaded (so
  the first output written for it is not up to date on the next run, which embeds once more);
- the library that loads the model (transformers, timm), by its installed version.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

# Suffixes of the files a model loads: weights (and their shard index, *.json), config, tokenizer and
# processor files, sentencepiece / tiktoken models, remote code. README, licences' .md are left out.
MODEL_SUFFIXES = frozenset({
    ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx", ".npz",  # weights
    ".json", ".txt", ".model", ".spm", ".tiktoken", ".vocab", ".yaml", ".yml", ".py",  # config, tokenizer
})
HASHED_BYTES = 8 * 1024 * 1024  # files up to this size are hashed; larger ones identified by their stat
MAX_FILES = 5000  # a folder with more model files than this (a whole checkpoint history) is cut off
DEPTH = 2  # DIR/x and DIR/sub/x
LIBRARIES = {"hf": "transformers", "timm": "timm"}
TOWERS = ("#text", "#image")


def encoder_identity(spec: str, weights: str | os.PathLike | None = None) -> str:
    """A 16-hex-digit hash of what ``spec`` (and a ``--weights`` file) loads; never raises."""
    prefix, _, target = spec.partition(":")
    parts = [f"spec\0{spec}", f"library\0{_library_version(prefix)}",
             f"model\0{_target_identity(prefix, target)}"]
    if weights is not None:
        parts.append(f"weights\0{file_identity(Path(weights))}")
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()[:16]


def _target_identity(prefix: str, target: str) -> str:
    path = _local_path(target)
    if path is not None:
        return directory_identity(path) if path.is_dir() else file_identity(path)
    if prefix == "hf":
        return hub_identity("models", target)
    if prefix == "timm":  # timm's pretrained weights come from the hub's timm/ organisation
        return timm_identity(target)
    return f"unresolved\0{target}"  # a plugin's name for something that is not a local path


def _local_path(target: str) -> Path | None:
    """The local file or folder ``target`` names (a two-tower ``#text``/``#image`` suffix dropped)."""
    candidates = [target] + [target[: -len(t)] for t in TOWERS if target.endswith(t)]
    for candidate in candidates:
        try:
            path = Path(candidate).expanduser()
            if candidate and path.exists():
                return path
        except (OSError, ValueError):  # a name too long or with a NUL byte is no local path
            continue
    return None


def directory_identity(directory: Path) -> str:
    """The model files under ``directory`` (relative names and contents), in a stable order."""
    digest = hashlib.sha256(b"dir\n")
    for relative, path in _model_files(directory):
        digest.update(f"{relative}\0{file_identity(path)}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _model_files(directory: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []

    def walk(folder: Path, prefix: str, depth: int) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            found.append((prefix + "?", folder))  # an unreadable folder: its stat stands for it
            return
        for entry in entries:
            if len(found) >= MAX_FILES or entry.name.startswith((".", "__pycache__")):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if depth < DEPTH:
                    walk(Path(entry.path), f"{prefix}{entry.name}/", depth + 1)
            elif Path(entry.name).suffix.lower() in MODEL_SUFFIXES:
                found.append((prefix + entry.name, Path(entry.path)))

    walk(directory, "", 1)
    return found


def file_identity(path: Path) -> str:
    """One file's content: its blob name in a Hugging Face cache, its bytes when small, else its stat."""
    try:
        resolved = path.resolve()
        if path.is_symlink() and resolved.parent.name == "blobs":
            return f"blob\0{resolved.name}"  # the hub cache names a blob by its content hash
        info = os.stat(resolved)
    except (OSError, RuntimeError):  # missing, or a symlink loop: the name is all there is
        return f"missing\0{path}"
    stat = f"{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0{info.st_ino}\0{info.st_dev}"
    if info.st_size > HASHED_BYTES or not os.path.isfile(resolved):
        return f"stat\0{stat}"
    try:
        digest = hashlib.sha256()
        with open(resolved, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return f"sha256\0{info.st_size}\0{digest.hexdigest()}"
    except OSError:  # unreadable: the loader will say so; its stat still changes with the file
        return f"unreadable\0{stat}"


def hub_identity(kind: str, repo_id: str) -> str:
    """The commit the local Hugging Face cache resolves ``repo_id`` to, read from its files (no network)."""
    folder = hub_cache() / f"{kind}--{repo_id.replace('/', '--')}"
    try:
        ref = folder / "refs" / "main"
        if ref.is_file():
            return f"commit\0{ref.read_text(encoding='utf-8').strip()}"
        snapshots = sorted(p.name for p in (folder / "snapshots").iterdir()) if folder.is_dir() else []
    except (OSError, UnicodeDecodeError, ValueError):
        snapshots = []
    if len(snapshots) == 1:  # downloaded at one pinned revision
        return f"commit\0{snapshots[0]}"
    # Not in the local cache: without the network nothing more can be known (see the module's note).
    return f"unresolved\0{repo_id}"


def timm_identity(name: str) -> str:
    """timm's pretrained ``name``: ``timm/NAME``, or for a name without a tag every cached ``NAME.TAG``
    (timm picks the default tag itself; any of them changing changes the identity)."""
    names = [name]
    if "." not in name:
        try:
            tagged = hub_cache().glob(f"models--timm--{name}.*")
            names += sorted(p.name.removeprefix("models--timm--") for p in tagged)
        except OSError:
            pass
    return "\0".join(hub_identity("models", f"timm/{n}") for n in names)


def hub_cache() -> Path:
    """Where huggingface_hub keeps downloads, by its own environment variables and defaults."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return Path(os.environ[name]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(cache) / "huggingface" / "hub"


def _library_version(prefix: str) -> str:
    name = LIBRARIES.get(prefix)
    if name is None:
        return "-"
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return f"{name} absent"
