"""Pooling of token outputs into one vector: masked mean, CLS token, or the model's pooler (no torch
at import: the names serve ``--help``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stitchcli.errors import StitchError
from stitchcli.registry import Registry

if TYPE_CHECKING:
    import torch


def masked_mean(outputs, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over real tokens only: padding must not change a sentence's vector."""
    hidden = outputs.last_hidden_state
    if hidden.dim() == 4:  # convolutional image models: [B, C, H, W]
        return hidden.mean(dim=(2, 3))
    if attention_mask is None:
        return hidden.mean(dim=1)
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def cls_token(outputs, attention_mask: torch.Tensor | None) -> torch.Tensor:
    hidden = outputs.last_hidden_state
    if hidden.dim() != 3:
        raise StitchError("--pooling cls needs a model with token outputs", hint="use --pooling mean.")
    return hidden[:, 0]


def pooler_output(outputs, attention_mask: torch.Tensor | None) -> torch.Tensor:
    pooled = getattr(outputs, "pooler_output", None)
    if pooled is None:
        raise StitchError(
            "this model has no pooler output", hint="use --pooling mean or --pooling cls."
        )
    return pooled.flatten(1)


# ``(model outputs, attention_mask) -> [batch, dim]``.
POOLINGS: Registry[Callable] = Registry("pooling", group="stitchcli.poolings")
POOLINGS.register("mean", masked_mean, help="masked")
POOLINGS.register("cls", cls_token)
POOLINGS.register("pooler", pooler_output)


# What each hf: vision family's model card pools (their classifiers read these); text models and
# families not listed default to the masked mean. ViT, DeiT and DINOv2 classify from the final
# (layer-normed) CLS token; CLIP/SigLIP vision towers and the CNN families expose that vector as
# pooler_output (CLS after post-layernorm, or global average pooling).
VISION_POOLING: dict[str, str] = {
    "vit": "cls", "deit": "cls", "dinov2": "cls", "dinov2_with_registers": "cls",
    "clip_vision_model": "pooler", "siglip_vision_model": "pooler", "beit": "pooler",
    "convnext": "pooler", "convnextv2": "pooler", "resnet": "pooler", "regnet": "pooler",
}


def default_pooling(model_type: str | None, vision: bool) -> str:
    """The pooling used when --pooling is not given."""
    return VISION_POOLING.get(model_type or "", "mean") if vision else "mean"


def get_pooling(name: str) -> Callable:
    return POOLINGS.get(name)
