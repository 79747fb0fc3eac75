"""Latent space translation: maps from one encoder's space to another's, fitted on paired anchors."""

from stitchcli.translate.maps import (
    TRANSLATIONS,
    fit_affine,
    fit_procrustes,
    fit_translation,
    translation_methods,
)

__all__ = ["TRANSLATIONS", "fit_affine", "fit_procrustes", "fit_translation", "translation_methods"]
