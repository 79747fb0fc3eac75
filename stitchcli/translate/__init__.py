"""Latent space translation: maps from one encoder's space to another's, fitted on paired anchors
(``maps``), optionally refined with unpaired embeddings of both (``refine``)."""

from stitchcli.translate.maps import (
    TRANSLATIONS,
    choose_translation,
    fit_affine,
    fit_procrustes,
    fit_ridge,
    fit_translation,
    translation_methods,
)
from stitchcli.translate.refine import fit_refined, mutual_neighbours

__all__ = ["TRANSLATIONS", "choose_translation", "fit_affine", "fit_procrustes", "fit_refined", "fit_ridge",
           "fit_translation", "mutual_neighbours", "translation_methods"]
