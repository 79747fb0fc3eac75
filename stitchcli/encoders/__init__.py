"""Encoder sources: a registry from spec prefixes (``hf:``, ``timm:``) to loaders."""

from __future__ import annotations

from stitchcli.encoders.base import Encoder, EncoderOptions, Loader
from stitchcli.encoders.pooling import POOLINGS
from stitchcli.errors import StitchError
from stitchcli.registry import Registry

__all__ = ["ENCODER_SOURCES", "POOLINGS", "Encoder", "EncoderOptions", "Loader", "encoder_prefixes",
           "load_encoder", "parse_spec", "register_encoder_source"]


# Spec prefix -> loader ``(target, EncoderOptions) -> Encoder``. Built-in loaders are named, not
# imported, so that start-up stays light.
ENCODER_SOURCES: Registry[Loader] = Registry(
    "encoder source", group="stitchcli.encoders",
    hint="choose one of {choices} (specs are <source>:<model>).")
ENCODER_SOURCES.register("hf", "stitchcli.encoders.hf:load_hf_encoder",
                         help="a Hugging Face model: a hub id or a local folder")
ENCODER_SOURCES.register("timm", "stitchcli.encoders.timm_source:load_timm_encoder", help="a timm model")


def register_encoder_source(prefix: str, loader: Loader) -> None:
    """Make ``<prefix>:<target>`` specs load through ``loader(target, options)``."""
    ENCODER_SOURCES.register(prefix, loader)


def encoder_prefixes() -> list[str]:
    return sorted(ENCODER_SOURCES.names())  # plugins load here


def parse_spec(spec: str) -> tuple[str, str]:
    """``hf:bert-base-cased`` -> ("hf", "bert-base-cased"), with a clear error otherwise."""
    prefix, sep, target = spec.partition(":")
    if not sep or not target:
        known = ", ".join(f"{p}:" for p in encoder_prefixes())
        raise StitchError(
            f"encoder spec {spec!r} has no source prefix",
            hint=f"write it as <source>:<model>, with source one of {known} (e.g. hf:{spec}).",
        )
    if prefix not in ENCODER_SOURCES:
        raise ENCODER_SOURCES.unknown(prefix, f"in {spec!r}")
    return prefix, target


def load_encoder(spec: str, options: EncoderOptions | None = None) -> Encoder:
    """Resolve ``spec`` through the registry and load the model, ready for inference."""
    prefix, target = parse_spec(spec)
    return ENCODER_SOURCES.get(prefix)(target, options or EncoderOptions())
