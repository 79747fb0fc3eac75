"""One ``stitch embed`` run: dataset + encoder (+ anchors) -> an embeddings file, resumably."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from stitchcli import __version__, defaults
from stitchcli.anchors.anchor_set import load_anchor_set, positions_among
from stitchcli.data import ReadOptions, load_dataset
from stitchcli.embed.anchor_cache import anchor_cache_key, cached_anchors, discard, remember_anchors
from stitchcli.embed.distributed import index_when_all_done, local_device, under_torchrun
from stitchcli.embed.loop import count_resumed, embed_chunks
from stitchcli.embed.output import gather_rows, write_embeddings
from stitchcli.embed.resume import ChunkStore, partial_dir_for
from stitchcli.encoders import EncoderOptions, load_encoder
from stitchcli.encoders.identity import encoder_identity
from stitchcli.errors import StitchError
from stitchcli.events import log, progress
from stitchcli.metadata import EmbeddingsMeta, RelativeSpec, ShardInfo
from stitchcli.relspace import parse_similarity
from stitchcli.storage import store
from stitchcli.storage.locks import output_lock
from stitchcli.storage.shards.plan import Shard, from_environment


@dataclass
class EmbedRequest:
    """Everything ``stitch embed`` was asked to do."""

    encoder: str
    dataset: str
    out: Path
    read: ReadOptions
    encoder_options: EncoderOptions
    batch_size: int = 32
    limit: int | None = None
    anchors: Path | None = None
    anchor_view: str | None = None  # a parallel view of the anchor set (default: that of the dataset)
    similarity: str = "cosine"
    center: bool = defaults.CENTER
    chunk_size: int = 1024
    resume: bool = True
    force: bool = False  # embed again even if ``out`` is up to date
    shard: Shard | None = None  # None: the whole run, or the shard torchrun / SLURM assign
    num_workers: int = 0  # DataLoader workers that read and prepare batches (results unchanged)
    anchor_set: object | None = None  # an AnchorSet in memory (a head's), instead of ``anchors``
    relative: bool = True  # with anchors, also every row's relative vectors (a translated head needs none)


@dataclass(frozen=True)
class EmbedResult:
    """What one ``stitch embed`` process wrote: the file (its shard's, for one shard of a run), its
    metadata, whether it was already up to date, and under torchrun the index rank 0 wrote."""

    path: Path
    meta: EmbeddingsMeta
    up_to_date: bool = False
    index: Path | None = None


def run_embed(request: EmbedRequest) -> EmbedResult:
    """Embed and write ``request.out`` (or this process's shard of it). Under torchrun every rank
    embeds its shard and rank 0 then writes the index."""
    distributed = request.shard is None and under_torchrun()
    if distributed:
        options = replace(request.encoder_options, device=local_device(request.encoder_options.device))
        request = replace(request, encoder_options=options)
    result = _embed_one(request)
    if distributed:
        written = index_when_all_done(request.out)
        if written is not None:
            result = replace(result, index=Path(written))
    return result


def _embed_one(request: EmbedRequest) -> EmbedResult:
    if request.batch_size <= 0:
        raise StitchError(f"--batch-size must be positive, got {request.batch_size}")
    if request.limit is not None and request.limit <= 0:
        raise StitchError(f"--limit must be positive, got {request.limit}")
    if request.chunk_size <= 0:
        raise StitchError(f"--chunk-size must be positive, got {request.chunk_size}")
    if request.num_workers < 0:
        raise StitchError(f"--num-workers must be 0 or more, got {request.num_workers}")
    if request.encoder_options.max_length <= 0:
        raise StitchError(f"--max-length must be positive, got {request.encoder_options.max_length}")
    out = store.check_writable(request.out)
    if request.anchors is not None or request.anchor_set is not None:
        parse_similarity(request.similarity)
    dataset = load_dataset(request.dataset, request.read)
    # A two-tower checkpoint (CLIP) embeds with the tower of the data's modality.
    request = replace(request, encoder_options=replace(request.encoder_options, modality=dataset.modality))
    rows = range(len(dataset) if request.limit is None else min(request.limit, len(dataset)))
    anchor_set = request.anchor_set
    if anchor_set is None and request.anchors is not None:
        anchor_set = load_anchor_set(request.anchors)
    if anchor_set is not None:
        anchor_set = anchor_set.viewed(request.anchor_view, dataset.fingerprint, dataset.modality)
    # The content of the model's files (weights, config, tokenizer), read without loading it: a model
    # replaced in place under the same spec is another model to every key below.
    identity = encoder_identity(request.encoder, request.encoder_options.weights)
    output_key = run_key_all = _output_key(request, dataset.fingerprint, len(rows), anchor_set, identity)
    shard = request.shard or from_environment()
    if shard is not None:  # this process embeds one contiguous range of the rows, into its own file
        part = shard.rows(len(rows))
        rows = rows[part.start : part.stop]
        out = shard.path(out)
        output_key = store.fingerprint(run_key_all, str(shard))
    store.refuse_overwrite(out, {"--dataset": request.dataset, "--anchors": request.anchors,
                                 "--weights": request.encoder_options.weights})
    with output_lock(out):  # one writer per output: a second run with the same --out says so and exits
        return _embed_rows(request, dataset, rows, anchor_set, out, output_key, run_key_all, shard, identity)


def _embed_rows(request: EmbedRequest, dataset, rows: range, anchor_set, out: Path, output_key: str,
                run_key_all: str, shard: Shard | None, identity: str) -> EmbedResult:
    """The embedding itself, under the output's lock: resumable chunks, then the file."""
    if not request.force and out.exists():
        existing = store.read_metadata(out)
        if store.output_key_of(existing) == output_key:
            return EmbedResult(out, EmbeddingsMeta.from_metadata(existing, str(out)), up_to_date=True)
    # Anchors that are rows of what is being embedded (a train file) are taken from those rows
    # instead of being embedded a second time.
    among_rows = _anchor_positions(anchor_set, dataset, request.read, rows) if anchor_set else None
    anchor_source = anchor_set.load_source() if anchor_set is not None and among_rows is None else None

    encoder = load_encoder(request.encoder, request.encoder_options)
    run_key = store.fingerprint(json.dumps({
        "layout": 2,  # chunks are contiguous row ranges (1: spans of the length-sorted order)
        "encoder": request.encoder,
        "options": {k: str(v) for k, v in asdict(request.encoder_options).items()},
        "pooling": encoder.pooling,  # the effective one: a default can differ between versions
        "model": identity,  # the model's files and --weights, by content
        "dataset": dataset.fingerprint,
        "rows": [rows.start, rows.stop],
        "read": asdict(request.read),
        "batch_size": request.batch_size,
        "chunk_size": request.chunk_size,
        "anchors": anchor_set.fingerprint if anchor_set else None,
        "anchor_view": anchor_set.dataset_fingerprint if anchor_set else None,
    }, sort_keys=True))
    chunks = ChunkStore(partial_dir_for(out), run_key, resume=request.resume)

    anchor_embeddings = cache_key = None
    from_cache = False
    # Files that changed while the model loaded leave unknown what was loaded: no cache this time.
    unchanged = encoder_identity(request.encoder, request.encoder_options.weights) == identity
    if anchor_set is not None and unchanged:
        cache_key = anchor_cache_key(request.encoder, request.encoder_options, encoder.pooling, identity,
                                     anchor_set)
        if among_rows is None:
            anchor_embeddings = cached_anchors(cache_key, len(anchor_set.indices))
            from_cache = anchor_embeddings is not None
            if from_cache:
                log("anchors: embeddings reused from the cache (same encoder and anchor set)")
    if anchor_source is not None and not from_cache:
        anchor_embeddings = _embed_anchors(encoder, anchor_source, anchor_set, request, chunks)
    spans = _embed_with_bar("embedding", encoder, dataset, rows, request, chunks)
    if among_rows is not None:
        anchor_embeddings = gather_rows(chunks, spans, among_rows)
    # An empty shard (more shards than rows) has the width of the anchors' vectors, if any were embedded.
    dim = (chunks.load("data", 0).shape[1] if spans
           else anchor_embeddings.shape[1] if anchor_embeddings is not None and anchor_embeddings.dim() == 2
           else 0)
    if from_cache and spans and anchor_embeddings.shape[1] != dim:  # an entry of another width
        discard(cache_key, f"width {anchor_embeddings.shape[1]} is not the encoder's {dim}")
        anchor_embeddings = _embed_anchors(encoder, anchor_source, anchor_set, request, chunks)
    if cache_key is not None and anchor_embeddings is not None and len(anchor_embeddings):
        remember_anchors(cache_key, anchor_embeddings)

    meta = EmbeddingsMeta(
        encoder=encoder.spec, pooling=encoder.pooling, modality=encoder.modality,
        max_length=_max_length(encoder, request.encoder_options), dtype=request.encoder_options.dtype,
        dataset=dataset.source, split=dataset.split, dataset_fingerprint=dataset.fingerprint,
        label_names=dataset.label_names, labelled=dataset.labelled, num_samples=len(rows), dim=dim,
        read=request.read, output_key=output_key,
        shard=None if shard is None
        else ShardInfo(shard.index, shard.count, rows.start, rows.stop, run_key_all),
    )
    if anchor_set is not None:
        meta = replace(
            meta, relative=RelativeSpec(anchor_set.fingerprint, request.similarity, request.center,
                                        len(anchor_set.indices)),
            anchors_dataset=anchor_set.source, anchors_dataset_fingerprint=anchor_set.dataset_fingerprint,
            # train-head copies the set into the head from here
            anchors_file=None if request.anchors is None else str(Path(request.anchors).resolve()))
    metadata = meta.to_metadata()
    write_embeddings(out, chunks, spans, rows, dataset.labels, dim, metadata, anchor_embeddings,
                     request.similarity, request.center, relative=request.relative)
    chunks.remove()
    return EmbedResult(out, meta)


def _embed_anchors(encoder, source, anchor_set, request: EmbedRequest, chunks: ChunkStore) -> torch.Tensor:
    """The anchor samples embedded (resumably, as chunks of the "anchors" group)."""
    spans = _embed_with_bar("anchors", encoder, source, anchor_set.indices.tolist(), request, chunks)
    return torch.cat([chunks.load("anchors", i) for i in range(len(spans))])


def _output_key(request: EmbedRequest, dataset_fingerprint: str, num_rows: int, anchor_set,
                identity: str) -> str:
    """Everything the output depends on, known before the model loads: a rerun with the same key
    finds its output up to date. ``identity`` is the model's content (``encoder_identity``); the
    version stands for defaults that may change between releases."""
    return store.fingerprint(json.dumps({
        "version": __version__,
        "encoder": request.encoder,
        "model": identity,  # the model's files and --weights, by content
        "options": {k: str(v) for k, v in asdict(request.encoder_options).items()},
        "dataset": dataset_fingerprint,
        "rows": num_rows,
        "read": asdict(request.read),
        "anchors": anchor_set.fingerprint if anchor_set else None,
        "anchor_view": anchor_set.dataset_fingerprint if anchor_set else None,
        "similarity": request.similarity if anchor_set else None,
        "center": request.center if anchor_set else None,
        **({} if request.relative else {"relative": False}),  # older keys stay valid
    }, sort_keys=True))


def _anchor_positions(anchor_set, dataset, read: ReadOptions, rows: list[int]) -> torch.Tensor | None:
    """Where the anchors are among the rows being embedded (read the same way), or None if any is not."""
    columns = ("text_column", "label_column", "image_column")
    if anchor_set.dataset_fingerprint != dataset.fingerprint or any(
            getattr(anchor_set.read_options, c) != getattr(read, c) for c in columns):
        return None
    return positions_among(rows, anchor_set)


def _embed_with_bar(label, encoder, dataset, rows, request, chunks) -> list[range]:
    group = "anchors" if label == "anchors" else "data"
    resumed = count_resumed(chunks, group, len(rows), request.batch_size, request.chunk_size)
    if resumed:
        log(f"resuming {label}: {resumed}/{len(rows)} samples already done")
    with progress(label, len(rows), completed=resumed, rate=True) as bar:
        return embed_chunks(
            encoder, dataset, rows, request.batch_size, request.chunk_size, chunks, group,
            on_progress=bar.advance, num_workers=request.num_workers,
        )


def _max_length(encoder, options: EncoderOptions) -> str:
    """The token limit the encoder applied: its own (an HF model's, capped by the model), "none" for
    images and for encoders that take whole texts (``max_length = None``)."""
    if encoder.modality != "text":
        return "none"
    value = getattr(encoder, "max_length", options.max_length)
    return "none" if value is None else str(value)

