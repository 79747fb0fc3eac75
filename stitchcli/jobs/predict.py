"""``stitch predict --encoder --dataset``: embed the data and the head's own anchors with any encoder
(resumably, a chunk at a time, sharded like ``embed``), then write predictions from that file.

The embeddings go to a hidden work file beside the output (``.PRED.csv.embeddings.safetensors``),
which is what makes a killed run resume and a rerun cheap; it is removed once the predictions are
written, and when writing them fails on a mistake in the input (a StitchError: the rerun would fail
the same way), but kept after an interrupt. Predictions are then exactly those of
``stitch predict --embeddings`` on the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stitchcli.api.vectors import needs_anchors, relative_settings  # the same rules as head.predict
from stitchcli.data import ReadOptions
from stitchcli.embed.distributed import under_torchrun
from stitchcli.encoders import EncoderOptions
from stitchcli.errors import StitchError
from stitchcli.evaluate.predict import check_top_k
from stitchcli.events import log
from stitchcli.heads.head import Head
from stitchcli.storage.shards.plan import Shard, from_environment


@dataclass
class PredictDataRequest:
    """A head applied to a dataset through an encoder the head may never have seen."""

    head: Head
    encoder: str
    dataset: str
    out: Path
    read: ReadOptions
    encoder_options: EncoderOptions
    top_k: int = 1
    translate: str | None = None
    id_column: str | None = None
    anchor_view: str | None = None
    batch_size: int = 32
    num_workers: int = 0
    chunk_size: int = 1024
    shard: Shard | None = None
    refine: int | None = None  # None: the refinement rounds the head records


def work_file(out: Path) -> Path:
    """Where the embeddings of a ``predict --encoder`` run are kept until its predictions are written."""
    out = Path(out)
    return out.with_name(f".{out.name}.embeddings.safetensors")


def run_predict_on_data(request: PredictDataRequest) -> dict:
    """Embed (or resume), then predict; returns ``run_predict``'s summary (on every rank or shard that
    writes predictions), with ``shard`` set for one shard of ``--shard``/SLURM."""
    from stitchcli.embed.job import EmbedRequest, run_embed
    from stitchcli.evaluate.predict import PredictRequest, run_predict

    check_request(request)
    head = request.head
    anchor_set = None
    if needs_anchors(head, request.translate):
        anchor_set = head.anchor_set()
        if anchor_set is None:
            raise StitchError(f"head {head.path} does not carry its anchor set, so it cannot embed its "
                              "anchors with another encoder",
                              hint="train it again (`stitch train-head --anchors ANCHORS.safetensors`), or "
                              "embed the data yourself and use --embeddings.")
    # The anchors are embedded as the head's own were: its similarity and centring (the defaults for a
    # head that records none: it reads no relative vectors).
    similarity, center = relative_settings(head)  # as the Python API's head.predict
    shard = request.shard or (None if under_torchrun() else from_environment())
    work = work_file(request.out)
    embedded = run_embed(EmbedRequest(
        encoder=request.encoder, dataset=request.dataset, out=work, read=request.read,
        encoder_options=request.encoder_options, batch_size=request.batch_size, anchor_set=anchor_set,
        anchor_view=request.anchor_view, similarity=similarity, center=center,
        chunk_size=request.chunk_size, shard=shard, num_workers=request.num_workers,
        relative=head.space == "relative"))  # a translated head reads the embeddings and anchors only
    out, embeddings = request.out, work
    if embedded.index is not None:  # torchrun: rank 0 predicts from every rank's shard
        embeddings = embedded.index
    elif under_torchrun():
        return {"predictions": None, "rank_done": True}
    elif shard is not None:  # one shard of --shard / a SLURM array: its rows, its own output
        embeddings, out = shard.path(work), shard.path(request.out)
    try:
        summary = run_predict(PredictRequest(head, embeddings, out, request.top_k, request.translate,
                                             request.id_column, request.refine))
    except StitchError:
        # A user's mistake found after embedding (an id column Parquet cannot hold, a head that cannot
        # read these vectors) fails the same way on every rerun: the work file would only be debris.
        # An interrupt (KeyboardInterrupt, SIGTERM) is no StitchError: its work file stays to resume.
        _remove_work(embeddings)
        raise
    _remove_work(embeddings)
    if shard is not None and embedded.index is None:
        summary["shard"] = str(shard)
    if embedded.up_to_date:
        log("embeddings: reused from an earlier run of the same prediction")
    return summary


def _remove_work(embeddings: Path) -> None:
    """The work file (or the index and its shards) is removed once predictions are written."""
    from stitchcli.storage.shards.index import read_index
    from stitchcli.storage.shards.plan import is_index

    if is_index(embeddings):
        try:
            _, shards = read_index(embeddings)
        except StitchError:  # a leftover work file is harmless
            shards = []
        for path in shards:
            path.unlink(missing_ok=True)
    Path(embeddings).unlink(missing_ok=True)


def check_request(request: PredictDataRequest) -> None:
    """Everything that can be refused before the model loads."""
    if request.batch_size <= 0:
        raise StitchError(f"--batch-size must be positive, got {request.batch_size}")
    check_top_k(request.head, request.top_k)
    if request.id_column is not None:  # a missing or mixed-type id column, found before embedding
        from stitchcli.data import load_dataset
        from stitchcli.evaluate.prediction_files import check_parquet_ids

        check_parquet_ids(request.out, load_dataset(request.dataset, request.read).column(request.id_column))
    from stitchcli.storage import store

    work = work_file(request.out)
    parts = [work, *([request.shard.path(work)] if request.shard is not None else [])]
    weights = request.encoder_options.weights
    store.refuse_overwrite(parts, {"--dataset": request.dataset, "--head": request.head.path,
                                   "--weights": weights}, what="the work file")
