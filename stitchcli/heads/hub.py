"""Where a head comes from: a file, a folder holding ``head.safetensors``, or ``hf:ORG/NAME[@REVISION]``
(fetched with huggingface_hub into its cache; ``HF_HUB_OFFLINE=1`` reads the cache only). No torch."""

from __future__ import annotations

from pathlib import Path

from stitchcli.errors import StitchError

HEAD_FILE = "head.safetensors"
CARD_FILE = "README.md"


def parse_hub_head(spec: str) -> tuple[str, str | None]:
    """``hf:ORG/NAME[@REVISION]`` -> (``ORG/NAME``, revision or None)."""
    body = spec.removeprefix("hf:")
    repo, _, revision = body.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise StitchError(f"{spec!r} is not a hub head", hint="use hf:ORG/NAME or hf:ORG/NAME@REVISION.")
    return repo, revision or None


def resolve_head(spec: str | Path) -> Path:
    """The local head file that ``spec`` names, downloading a hub head into the hub cache first."""
    text = str(spec)
    if text.startswith("hf:"):
        return _download(*parse_hub_head(text))
    path = Path(text)
    if path.is_dir():
        inside = path / HEAD_FILE
        if not inside.is_file():
            raise StitchError(f"folder {path} holds no {HEAD_FILE}",
                              hint="give the head file itself, or a folder from `stitch push --to-folder`.")
        return inside
    return path


def _download(repo: str, revision: str | None) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise StitchError("hub heads need huggingface_hub", hint="pip install huggingface_hub") from None
    try:
        return Path(hf_hub_download(repo_id=repo, filename=HEAD_FILE, revision=revision))
    except Exception as exc:  # offline and not cached, no such repo or revision, no access...
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        name = f"{repo}@{revision}" if revision else repo
        raise StitchError(f"cannot fetch head {name} from the hub: {text}",
                          hint="check the name and revision; offline (HF_HUB_OFFLINE=1), only heads in the "
                          "hub cache can be read.") from None
