"""``load_head`` and ``StitchHead``: a trained head predicting from samples (any encoder) or from vectors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from stitchcli.api import arrays
from stitchcli.api.encoder import Encoder, load_encoder
from stitchcli.errors import StitchError


@dataclass
class Prediction:
    """One sample's predicted label, its probability, and the best ``top_k`` (label, score) pairs."""

    label: str
    score: float
    top_k: list[tuple[str, float]]


class StitchHead:
    """A trained head ready to predict with any encoder of its modality (zero-shot)."""

    def __init__(self, head) -> None:
        self.head = head
        self._encoders: dict[tuple[str, str, str], Encoder] = {}  # specs given as strings, loaded once
        self._anchors: list[tuple[object, tuple, torch.Tensor]] = []  # (model, key, embeddings)

    @property
    def labels(self) -> list[str]:
        return list(self.head.label_names)

    @property
    def encoder(self) -> str:
        """The encoder the head was trained on."""
        return self.head.encoder

    @property
    def task(self) -> str:
        """``classification``, ``regression`` or ``reconstruction``."""
        return self.head.task.name

    @property
    def space(self) -> str:
        """``absolute`` (read through a map fitted on its anchors) or ``relative``."""
        return self.head.space

    def __repr__(self) -> str:
        return (f"StitchHead({self.head.space} {self.head.config.arch} head on {self.encoder}, "
                f"labels {self.labels})")

    def save(self, path: str | Path) -> Path:
        """Write the head as ``stitch train-head`` does (a ``.safetensors`` file); returns the path."""
        from stitchcli.heads import save_head

        save_head(arrays.path(path, "path"), self.head)
        return Path(path)

    def predict(self, samples, encoder: Encoder | str, *, top_k: int = 1, batch_size: int = 32,
                device: str = "auto", translate: str | None = None,
                refine: int | None = None) -> list[Prediction]:
        """Labels for ``samples``, embedded (with the head's own anchors) by any encoder of their modality.

        Args:
            samples: a list of texts, or of images (PIL images, arrays, image file paths).
            encoder: an ``Encoder`` from ``load_encoder`` (reused: nothing reloads), or a spec such
                as ``hf:NAME`` (loaded on first use and kept by this head).
            top_k: how many (label, score) pairs each prediction lists.
            batch_size: samples per forward pass (as ``--batch-size``).
            device: where a spec given as a string is loaded (``auto``, ``cpu``, ``cuda``...).
            translate: an absolute head's map (``ridge``, ``procrustes``, ``affine``, ``auto``, ``none``);
                default the one it records.
            refine: at most this many rounds of refining a translated head's map with unpaired rows
                (the head's pool and ``samples``; 0: off); default the rounds it records.

        Returns:
            One ``Prediction`` per sample: what ``stitch predict --encoder`` writes for them.

        Example:
            >>> head = st.load_head("hf:ORG/NAME")
            >>> enc = st.load_encoder("hf:sentence-transformers/all-MiniLM-L6-v2")
            >>> head.predict(["a great movie"], encoder=enc)[0].label
            'pos'
        """
        from stitchcli.api.vectors import needs_anchors
        from stitchcli.evaluate.predict import check_top_k

        self._classifier()
        samples = arrays.samples(samples)
        if translate is not None:
            arrays.name(translate, "translate", "ridge")
        check_top_k(self.head, arrays.whole(top_k, "top_k"))
        arrays.whole(batch_size, "batch_size")
        refine = _rounds(refine)
        if not samples:
            return []
        anchored = needs_anchors(self.head, translate)
        if anchored:
            self._carried()  # refused before any model loads
        model = self._encoder(encoder, device, samples)
        anchors = self._anchor_vectors(model, batch_size) if anchored else None
        return self._predictions(model.vectors(samples, batch_size), anchors, top_k, translate, model.spec,
                                 refine)

    def predict_vectors(self, x, anchors=None, *, top_k: int = 1, translate: str | None = None,
                        encoder: str | None = None, refine: int | None = None):
        """Predictions from vectors made by the caller, with any encoder.

        Args:
            x: embeddings (N, D) of the samples: a list of rows, a numpy array or a torch tensor.
            anchors: the head's anchors embedded by the same encoder (K, D), in the head's order; needed
                by relative heads and by absolute heads that translate (the default).
            top_k: how many (label, score) pairs each prediction lists.
            translate: an absolute head's map; default the one it records (``none``: read x as it is).
            encoder: a name for the encoder, shown in error messages only.
            refine: at most this many rounds of refining a translated head's map with unpaired rows (the
                head's pool and a sample of ``x``; 0: off); default the rounds the head records.

        Returns:
            Classification: one ``Prediction`` per row, as ``stitch predict --embeddings`` writes for a
            file of these vectors. Regression and reconstruction: a float32 array (N, outputs).

        Example:
            >>> head.predict_vectors(x_other, anchors=x_other_anchors)[0].label
        """
        from stitchcli.evaluate.predict import check_top_k

        check_top_k(self.head, arrays.whole(top_k, "top_k"))
        if translate is not None:
            arrays.name(translate, "translate", "ridge")
        refine = _rounds(refine)
        x = arrays.matrix(x, "x")
        if anchors is not None:
            anchors = arrays.matrix(anchors, "anchors", rows=self._anchor_count(), dim=x.shape[1])
        if not self.head.task.classifies:
            return self._values(x, anchors, translate, encoder, refine)
        return self._predictions(x, anchors, top_k, translate, encoder, refine)

    def _classifier(self) -> None:
        if not self.head.task.classifies:
            raise StitchError(f"this is a {self.head.task.name} head; predict(samples) predicts classes",
                              hint="use head.predict_vectors(x, anchors=...) for its values, or write "
                              "them with `stitch predict --head ... --out ...`.")

    def _encoder(self, encoder, device: str, samples: list) -> Encoder:
        if isinstance(encoder, Encoder):
            return encoder
        if not isinstance(encoder, str):
            raise StitchError(f"encoder must be an Encoder (st.load_encoder) or a spec such as hf:NAME, "
                              f"not {type(encoder).__name__}")
        from stitchcli.encoders.identity import encoder_identity

        key = (encoder, device, encoder_identity(encoder))  # a model replaced in place is loaded again
        if key not in self._encoders:
            self._encoders = {k: e for k, e in self._encoders.items() if k[:2] != key[:2]}  # the old one goes
            # the head's modality; else texts unless a sample can only be an image (a list mixing texts
            # and numbers is texts, refused as such, not image paths)
            modality = self._modality()
            if modality not in ("text", "image"):
                modality = "image" if any(arrays.image_like(s) for s in samples) else "text"
            self._encoders[key] = load_encoder(encoder, device=device, modality=modality)
        return self._encoders[key]

    def _modality(self) -> str:
        carried = self.head.anchor_set()
        return carried.modality if carried is not None else "?"

    def _anchor_count(self) -> int | None:
        if self.head.anchor_embeddings is not None:
            return int(self.head.anchor_embeddings.shape[0])
        return None

    def _anchor_vectors(self, model: Encoder, batch_size: int) -> torch.Tensor:
        """The head's carried anchors embedded by ``model`` (once per encoder object and batch size)."""
        view = self._carried().viewed(None, "python", model.modality)
        key = (view.fingerprint, view.current, batch_size)
        for owner, known, vectors in self._anchors:
            if owner is model.model and known == key:
                return vectors
        vectors = model.embed_dataset(view.load_source(), view.indices.tolist(), batch_size)
        self._anchors = [entry for entry in self._anchors if entry[0] is not model.model][-3:]
        self._anchors.append((model.model, key, vectors))
        return vectors

    def _carried(self):  # noqa: ANN202 - an AnchorSet
        carried = self.head.anchor_set()
        if carried is None:
            where = self.head.path if self.head.path != Path() else "(trained from arrays)"
            raise StitchError(f"head {where} does not carry its anchor set, so it cannot embed its "
                              "anchors with another encoder",
                              hint="embed them yourself and call head.predict_vectors(x, anchors=...).")
        return carried

    def _rows(self, x: torch.Tensor, anchors: torch.Tensor | None, translate: str | None, encoder):
        """``x`` (and its anchors) as the embeddings file the CLI would read, for this head."""
        from stitchcli.api.vectors import head_rows

        return head_rows(self.head, x, anchors, translate, encoder)

    def _predictions(self, x, anchors, top_k: int, translate, encoder, refine=None) -> list[Prediction]:
        from stitchcli.evaluate.predict import PredictRequest, predicted_blocks

        rows = self._rows(x, anchors, translate, encoder)
        names = self.head.label_names
        out = []
        request = PredictRequest(self.head, rows.path, Path(), top_k, translate, refine=refine)
        for _, classes, scores in predicted_blocks(request, rows):
            for ids, values in zip(classes.tolist(), scores.tolist(), strict=True):
                pairs = [(names[c], round(s, 6)) for c, s in zip(ids, values, strict=True)]
                out.append(Prediction(pairs[0][0], pairs[0][1], pairs))
        return out

    @torch.inference_mode()
    def _values(self, x, anchors, translate, encoder, refine=None) -> np.ndarray:
        from stitchcli.evaluate.evaluation import head_inputs

        inputs, _ = head_inputs(self.head, self._rows(x, anchors, translate, encoder), translate, refine)
        parts = [self.head.module(block) for _, block in inputs.blocks()]
        outputs = torch.cat(parts) if parts else torch.empty(0, self.head.config.num_classes)
        return arrays.numpy(outputs)


def _rounds(refine) -> int | None:  # noqa: ANN001 - what the caller gave
    """``refine=``: None (the head's own), or a whole number of rounds, 0 or more."""
    return None if refine is None else arrays.whole(refine, "refine", 0)


def load_head(head: str | Path) -> StitchHead:
    """Load a trained head.

    Args:
        head: a head file (``.safetensors``), a folder holding ``head.safetensors``, or
            ``hf:ORG/NAME[@REVISION]`` on the Hugging Face hub.

    Returns:
        A ``StitchHead`` with ``predict(samples, encoder=...)``, ``predict_vectors(x, anchors=...)``,
        ``labels`` and ``save(path)``.

    Example:
        >>> head = st.load_head("head.safetensors")
        >>> head.labels
        ['neg', 'pos']
    """
    from stitchcli.heads import load_head as load
    from stitchcli.heads import resolve_head
    from stitchcli.storage import store

    if not isinstance(head, str | Path):
        raise StitchError(f"head must be a file path or hf:ORG/NAME, not {type(head).__name__}")
    path = resolve_head(head)
    store.load_metadata_checked(path, kind="head")
    return StitchHead(load(path))
