"""``hf:`` encoders: transformers ``AutoModel`` with a tokenizer (text) or image processor (vision)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import torch

from stitchcli.encoders.base import EncoderOptions
from stitchcli.encoders.devices import resolve_device, resolve_dtype
from stitchcli.encoders.pooling import default_pooling, get_pooling
from stitchcli.errors import StitchError

_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                 "pytorch_model.bin.index.json")


class HFEncoder:
    """A frozen transformers model with its preprocessing and pooling."""

    def __init__(self, target: str, model, preprocess, modality: str, pooling: str,
                 max_length: int, device: torch.device, dtype: torch.dtype, tower=None) -> None:
        # One checkpoint with two towers (CLIP) is two encoders: the spec names the tower.
        self.spec = f"hf:{target}" + (f"#{modality}" if tower is not None else "")
        self.model = model
        self.tower = tower  # get_text_features / get_image_features, or None: the model itself
        self.preprocess = preprocess
        self.modality = modality
        self.pooling = pooling
        self.max_length = max_length
        # The model's own position limit when the tokenizer sets none (its max_length is recorded as
        # asked): a longer text would index past the position embeddings.
        self.position_limit: int | None = None
        self.device = device
        self.dtype = dtype
        self._pool = get_pooling(pooling)

    @torch.inference_mode()
    def embed(self, samples: list) -> torch.Tensor:
        return self.forward(self.prepare(samples))

    def prepare(self, samples: list) -> dict:
        """Tokenise texts or transform images into CPU tensors (runs in DataLoader workers)."""
        if self.modality == "text":
            return dict(self.preprocess(
                [str(s) for s in samples], padding=True, truncation=True,
                max_length=min(self.max_length, self.position_limit or self.max_length), return_tensors="pt",
            ))
        from stitchcli.data.images import to_rgb

        return dict(self.preprocess(images=[to_rgb(s) for s in samples], return_tensors="pt"))

    @torch.inference_mode()
    def forward(self, batch: dict) -> torch.Tensor:
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        if "pixel_values" in batch:
            batch["pixel_values"] = batch["pixel_values"].to(self.dtype)
        if self.tower is not None:  # only what the tower takes (a BERT tokenizer adds token_type_ids)
            batch = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "pixel_values")}
        outputs = (self.tower or self.model)(**batch)
        pooled = self._pool(outputs, batch.get("attention_mask"))
        return pooled.float().cpu()


def _check_local_dir(target: str) -> None:
    path = Path(target)
    if not path.exists():
        # Looks like a path (./x, /x, x/y/z) but is not there: say so rather than asking the hub.
        if target.startswith((".", "/", "~")) or target.count("/") > 1:
            raise StitchError(f"model directory not found: {target}")
        return
    if not path.is_dir():
        raise StitchError(f"{target} is a file; hf: encoders need a model directory or hub id")
    if not (path / "config.json").is_file():
        raise StitchError(
            f"model directory {target} has no config.json",
            hint="save a model with model.save_pretrained(DIR).",
        )
    if not any((path / name).is_file() for name in _WEIGHT_FILES):
        raise StitchError(
            f"model directory {target} has no weights ({', '.join(_WEIGHT_FILES[::2])})"
        )


def _from_pretrained(factory, target: str, what: str, **kwargs):
    try:
        return factory.from_pretrained(target, **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        offline = os.environ.get("HF_HUB_OFFLINE") == "1" and not Path(target).exists()
        raise StitchError(
            f"cannot load {what} for hf:{target}: {first}",
            hint="HF_HUB_OFFLINE=1 is set: use a local model directory." if offline else None,
        ) from None


@contextmanager
def _quiet_transformers():
    """transformers prints a load report for missing keys; we check them ourselves instead."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)


def _check_loaded(target: str, loading: dict, pooling: str) -> None:
    """Newly initialised weights: an error if pooling needs them, a warning line otherwise."""
    missing = [k for k in loading.get("missing_keys", []) if not k.endswith("position_ids")]
    untrained_pooler = any(k.split(".")[0] == "pooler" for k in missing)
    if untrained_pooler and pooling == "pooler":
        raise StitchError(f"hf:{target} has no trained pooler (its weights are not in the checkpoint)",
                          hint="use --pooling mean or --pooling cls.")
    others = [k for k in missing if k.split(".")[0] != "pooler"]
    if others:
        from stitchcli.events import warn

        warn(f"{len(others)} weights of hf:{target} are not in its checkpoint and were initialised "
             f"randomly (e.g. {others[0]})")


def load_hf_encoder(target: str, options: EncoderOptions) -> HFEncoder:
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    if options.pooling is not None:
        get_pooling(options.pooling)  # cheap checks before the slow load
    _check_local_dir(target)
    # Our own bar reports progress; transformers' loading bar would garble one-line errors.
    hf_logging.disable_progress_bar()
    device, dtype = resolve_device(options.device), resolve_dtype(options.dtype)
    remote = {"trust_remote_code": options.trust_remote_code}
    config = _from_pretrained(AutoConfig, target, "the model config", **remote)
    with _quiet_transformers():
        model, loading = _from_pretrained(AutoModel, target, "the model", config=config, dtype=dtype,
                                          output_loading_info=True, **remote)
    towers = hasattr(model, "get_text_features") and hasattr(model, "get_image_features")
    if towers:  # CLIP-style: the tower of the data's modality, its projected (pooler) output
        vision = options.modality == "image"
        pooling = options.pooling or "pooler"
    else:
        vision = getattr(model, "main_input_name", "input_ids") == "pixel_values"
        pooling = options.pooling or default_pooling(getattr(config, "model_type", None), vision)
    _check_loaded(target, loading, pooling)
    if options.weights is not None:
        from stitchcli.encoders.weights import load_strict

        load_strict(model, options.weights)
    model.eval().to(device)
    if vision:
        from transformers import AutoImageProcessor

        preprocess = _from_pretrained(AutoImageProcessor, target, "the image processor", **remote)
        modality = "image"
    else:
        from transformers import AutoTokenizer

        preprocess = _from_pretrained(AutoTokenizer, target, "the tokenizer", **remote)
        modality = "text"
    max_length = options.max_length
    model_max = getattr(preprocess, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < 1_000_000:
        max_length = min(max_length, model_max)
    tower = (model.get_image_features if vision else model.get_text_features) if towers else None
    encoder = HFEncoder(target, model, preprocess, modality, pooling, max_length, device, dtype, tower)
    if not vision:
        encoder.position_limit = _position_limit(model, config, towers)
    return encoder


def _position_limit(model, config, towers: bool) -> int | None:
    """How many tokens the model's position embeddings hold (RoBERTa-like models start positions after
    the padding index), or None when the config does not say."""
    config = getattr(config, "text_config", None) if towers else config
    limit = getattr(config, "max_position_embeddings", None)
    if not isinstance(limit, int) or limit <= 0:
        return None
    padding = getattr(getattr(model, "embeddings", None), "padding_idx", None)
    offset = padding + 1 if isinstance(padding, int) and padding >= 0 else 0
    return limit - offset if limit - offset > 0 else None
