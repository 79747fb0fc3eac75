"""``timm:`` encoders: ``timm.create_model(num_classes=0)`` with the model's own preprocessing."""

from __future__ import annotations

import torch

from stitchcli.encoders.base import EncoderOptions
from stitchcli.encoders.devices import resolve_device, resolve_dtype
from stitchcli.errors import StitchError

# --pooling names mapped to timm's global_pool argument.
_GLOBAL_POOL = {"mean": "avg", "cls": "token"}


class TimmEncoder:
    """A frozen timm feature extractor (classifier removed) with its eval transform."""

    modality = "image"

    def __init__(self, name: str, model, transform, pooling: str, device, dtype) -> None:
        self.spec = f"timm:{name}"
        self.model = model
        self.transform = transform
        self.pooling = pooling
        self.device = device
        self.dtype = dtype

    @torch.inference_mode()
    def embed(self, samples: list) -> torch.Tensor:
        return self.forward(self.prepare(samples))

    def prepare(self, samples: list) -> torch.Tensor:
        """Decode and transform images into one CPU tensor (runs in DataLoader workers)."""
        from stitchcli.data.images import to_rgb

        return torch.stack([self.transform(to_rgb(s)) for s in samples])

    @torch.inference_mode()
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        features = self.model(pixels.to(self.device, self.dtype, non_blocking=True))
        return features.flatten(1).float().cpu()


def load_timm_encoder(name: str, options: EncoderOptions) -> TimmEncoder:
    import timm
    from timm.data import create_transform, resolve_model_data_config

    device, dtype = resolve_device(options.device), resolve_dtype(options.dtype)
    if not timm.is_model(name):
        close = timm.list_models(f"*{name.split('.')[0]}*")[:5]
        raise StitchError(
            f"unknown timm model {name!r}",
            hint=f"did you mean: {', '.join(close)}" if close else "see timm.list_models().",
        )
    if options.pooling is not None and options.pooling not in _GLOBAL_POOL:
        raise StitchError(
            f"--pooling {options.pooling} is not available for timm models",
            hint="use mean or cls (or leave it out for the model's own pooling).",
        )
    pretrained = options.weights is None
    try:
        model = timm.create_model(name, pretrained=pretrained, num_classes=0)
    except (OSError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StitchError(
            f"cannot load pretrained weights for timm:{name}: {first}",
            hint="offline? pass a local checkpoint with --weights FILE.",
        ) from None
    if options.weights is not None:
        from stitchcli.encoders.weights import load_strict

        classifier = model.pretrained_cfg.get("classifier") or "head"
        prefixes = (classifier,) if isinstance(classifier, str) else tuple(classifier)
        load_strict(model, options.weights, ignorable_prefixes=tuple(p + "." for p in prefixes))
    if options.pooling is not None:
        # After loading, so the checkpoint's keys match the architecture it was trained as.
        try:
            model.reset_classifier(0, global_pool=_GLOBAL_POOL[options.pooling])
        except (TypeError, ValueError, AssertionError) as exc:
            raise StitchError(
                f"timm:{name} does not support --pooling {options.pooling}: {exc}"
            ) from None
    model.eval().to(device, dtype)
    config = resolve_model_data_config(model)
    transform = create_transform(**config, is_training=False)
    return TimmEncoder(name, model, transform, options.pooling or "model", device, dtype)
