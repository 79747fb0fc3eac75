"""Encoder sources: a registry from spec prefixes (``hf:``, ``timm:``) to loaders."""

from __future__ import annotations

import importlib

from stitchcli.encoders.base import Encoder, EncoderOptions, Loader
from stitchcli.errors import StitchError

__all__ = ["Encoder", "EncoderOptions", "Loader", "encoder_prefixes", "load_encoder", "parse_spec",
           "register_encoder_source"]


# Built-in loaders are named, not imported, so that start-up stays light.
_BUILTIN: dict[str, str] = {
    "hf": "stitchcli.encoders.hf:load_hf_encoder",
    "timm": "stitchcli.encoders.timm_source:load_timm_encoder",
}
_REGISTERED: dict[str, Loader] = {}


def register_encoder_source(prefix: str, loader: Loader) -> None:
    """Make ``<prefix>:<target>`` specs load through ``loader(target, options)``."""
    _REGISTERED[prefix] = loader


def _load_plugins() -> None:
    from stitchcli.plugins import load_group

    load_group("stitchcli.encoders", register_encoder_source)


def encoder_prefixes() -> list[str]:
    _load_plugins()
    return sorted(set(_BUILTIN) | set(_REGISTERED))


def parse_spec(spec: str) -> tuple[str, str]:
    """``hf:bert-base-cased`` -> ("hf", "bert-base-cased"), with a clear error otherwise."""
    prefix, sep, target = spec.partition(":")
    known = ", ".join(f"{p}:" for p in encoder_prefixes())  # plugins load here
    if not sep or not target:
        raise StitchError(
            f"encoder spec {spec!r} has no source prefix",
            hint=f"write it as <source>:<model>, with source one of {known} (e.g. hf:{spec}).",
        )
    if prefix not in _BUILTIN and prefix not in _REGISTERED:
        raise StitchError(f"unknown encoder source {prefix!r} in {spec!r}", hint=f"known: {known}")
    return prefix, target


def load_encoder(spec: str, options: EncoderOptions | None = None) -> Encoder:
    """Resolve ``spec`` through the registry and load the model, ready for inference."""
    prefix, target = parse_spec(spec)
    options = options or EncoderOptions()
    loader = _REGISTERED.get(prefix)
    if loader is None:
        module, _, name = _BUILTIN[prefix].partition(":")
        loader = getattr(importlib.import_module(module), name)
    return loader(target, options)
