"""``stitch run``: anchors → embed → heads → evaluate for several encoders, reusing up-to-date files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from stitchcli import defaults, events
from stitchcli.data import ReadOptions, load_dataset
from stitchcli.errors import StitchError
from stitchcli.storage import store

SPACES = ("relative", "absolute")


@dataclass
class RunRequest:
    """Encoders, data and where to put every file of one ``stitch run``."""

    encoders: list[str]
    train: str
    test: str
    out_dir: Path
    read: ReadOptions = field(default_factory=ReadOptions)
    num_anchors: int = defaults.NUM_ANCHORS
    strategy: str = defaults.STRATEGY
    seed: int = 0
    # How absolute heads read other encoders (None: as they are); the head files record the default.
    translate: list[str | None] = field(default_factory=lambda: [defaults.TRANSLATE, None])
    batch_size: int = 32
    device: str = "auto"
    force: bool = False
    # The recipe, as `train-head` and `embed` take it (defaults: the measured ones).
    arch: str = defaults.ARCH
    similarity: str = defaults.SIMILARITY
    center: bool = defaults.CENTER
    transform: object | None = None  # a RelativeTransform for the relative heads (None: the defaults)
    refine: int = defaults.REFINE_ROUNDS  # the most rounds the absolute heads refine their map by


def file_stems(encoders: list[str]) -> list[str]:
    """``hf:.assets/minilm-l6`` -> ``minilm-l6``: the files of each encoder are named after it."""
    if len(encoders) < 2:
        raise StitchError("stitch run needs two or more encoders to stitch between")
    stems = [spec.partition(":")[2].rstrip("/").rsplit("/", 1)[-1] for spec in encoders]
    if any(not stem for stem in stems) or len(set(stems)) < len(stems):
        raise StitchError(f"encoders {', '.join(encoders)} do not have distinct names to file under",
                          hint="give each encoder once; specs must end in distinct names.")
    return stems


def _anchors(request: RunRequest, path: Path) -> Path:
    """The anchor set, chosen once: reused while the train source and settings are the same."""
    from stitchcli.anchors.anchor_set import choose_anchors, save_anchor_set
    from stitchcli.metadata import AnchorSetMeta

    dataset = load_dataset(request.train, request.read)
    if not dataset.labelled:
        raise StitchError(f"{request.train} has no labels, so stitch run cannot train heads on it",
                          hint="give a labelled train file (--label-column names its label column).")
    count = min(request.num_anchors, len(dataset))  # as `sweep`: K, or every train row if fewer
    if path.exists() and not request.force:
        existing = AnchorSetMeta.from_metadata(store.read_metadata(path), str(path))
        read = existing.read.as_metadata() == request.read.as_metadata()
        if (existing.dataset_fingerprint, existing.strategy, existing.seed, existing.num_anchors) == (
                dataset.fingerprint, request.strategy, request.seed, count) and read:
            return path
    anchor_set, labels, chosen_by = choose_anchors(dataset, count, request.strategy, request.seed, [],
                                                   request.read)
    save_anchor_set(path, anchor_set, labels, chosen_by)
    fewer = (f" (every train row: {request.train} has {len(dataset)}, fewer than --num-anchors "
             f"{request.num_anchors})" if count < request.num_anchors else "")
    events.log(f"wrote {path}: {count} {request.strategy} anchors{fewer}")
    return path


def _embed(request: RunRequest, encoder: str, source: str, anchors: Path, out: Path) -> Path:
    from stitchcli.embed.job import EmbedRequest, run_embed
    from stitchcli.encoders import EncoderOptions

    result = run_embed(EmbedRequest(
        encoder=encoder, dataset=source, out=out, read=request.read,
        encoder_options=EncoderOptions(device=request.device), batch_size=request.batch_size,
        anchors=anchors, similarity=request.similarity, center=request.center, force=request.force))
    events.log(f"{out}: up to date" if result.up_to_date else f"wrote {out}")
    return out


def _head(request: RunRequest, train_file: Path, space: str, out: Path, anchors: Path) -> Path:
    from stitchcli.heads.head import save_head
    from stitchcli.heads.training import TrainRequest, train_head
    from stitchcli.relspace import RelativeTransform

    transform = request.transform or RelativeTransform(defaults.NORMALIZE, defaults.TOPK, defaults.TOPK_POWER)
    training = TrainRequest(train_file, space, request.arch, defaults.HIDDEN, defaults.ACTIVATION,
                            defaults.EPOCHS, defaults.LR, defaults.BATCH_SIZE, seed=0, transform=transform,
                            translate=defaults.TRANSLATE if space == "absolute" else None,
                            anchors=anchors,  # the head carries them: `stitch predict` uses it
                            refine=request.refine)
    with events.quietly():  # no bar per head
        head = train_head(training)
    save_head(out, head)
    return out


def run(request: RunRequest) -> list:
    """Every step; returns the evaluation results (also written to ``evaluate.json``), then the pairs
    that could not run (``accuracy`` None)."""
    from stitchcli.evaluate.evaluation import evaluate_matrix, skipped_result
    from stitchcli.heads.head import load_head

    stems = file_stems(request.encoders)
    if request.num_anchors <= 0 or request.batch_size <= 0:
        raise StitchError("--num-anchors and --batch-size must be positive")
    out_dir = Path(request.out_dir)
    written = [out_dir / name for name in ("anchors.safetensors", "evaluate.json", "matrix.png")]
    written += [out_dir / f"{stem}-{kind}.safetensors" for stem in stems
                for kind in ("train", "test", *SPACES)]
    models = [store.folder_files(spec[3:]) for spec in request.encoders if spec.startswith("hf:")]
    store.refuse_overwrite(written, {"--train": request.train, "--test": request.test,
                                     "an encoder's folder": [f for files in models for f in files]},
                           what="--out-dir's file")
    out_dir.mkdir(parents=True, exist_ok=True)
    store.check_writable(out_dir / "evaluate.json")
    anchors = _anchors(request, out_dir / "anchors.safetensors")
    heads: list[Path] = []
    tests: list[Path] = []
    for encoder, stem in zip(request.encoders, stems, strict=True):
        train = _embed(request, encoder, request.train, anchors, out_dir / f"{stem}-train.safetensors")
        tests.append(_embed(request, encoder, request.test, anchors, out_dir / f"{stem}-test.safetensors"))
        for space in SPACES:  # the absolute head reads other encoders by translation
            heads.append(_head(request, train, space, out_dir / f"{stem}-{space}.safetensors", anchors))

    missing = []

    def skipped(head, file, exc, method) -> None:
        events.log(f"not run: {head.path.name} × {file.path.name}: {exc}")
        missing.append(skipped_result(head, file, method))

    results = evaluate_matrix([load_head(h) for h in heads], tests, request.translate,
                              skip_incompatible=True, on_skip=skipped)
    with store.atomic_path(out_dir / "evaluate.json") as tmp:
        tmp.write_text(json.dumps({"results": [r.as_json() for r in results]}, indent=2) + "\n")
    return results + missing  # pairs that could not run have accuracy None: "—" in tables
