"""Latent space translation: maps from one encoder's space to another's, fitted on paired anchors
(``maps``), optionally refined with unpaired embeddings of both (``refine``); ``registry`` names the
maps without torch (``--help``, up-front checks), and the rest loads on first use."""

from stitchcli._lazy import lazy_exports
from stitchcli.translate.registry import NO_MAP, TRANSLATIONS, translation_choices

__all__ = ["NO_MAP", "TRANSLATIONS", "choose_translation", "fit_affine", "fit_procrustes", "fit_refined",
           "fit_ridge", "fit_translation", "mutual_neighbours", "translation_choices", "translation_methods"]

__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["choose_translation", "fit_affine", "fit_procrustes", "fit_ridge", "fit_translation",
                     "translation_methods"], ".maps"),
    "fit_refined": ".refine", "mutual_neighbours": ".refine",
})
