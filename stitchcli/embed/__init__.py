"""Embedding: a source and an encoder (and anchors) → an embeddings file, chunked, resumable, sharded.

``loop`` (contiguous chunks, length-sorted batches, DataLoader workers) → ``resume`` (finished chunks
kept in ``OUT.partial/``) → ``output`` (the file assembled chunk by chunk) → ``job`` (one ``stitch
embed`` run), with ``distributed`` (torchrun ranks; rank 0 writes the shard index), ``anchor_cache``
(anchor embeddings kept per encoder) and ``imported`` (`stitch import`: vectors made elsewhere).
"""

from stitchcli.embed.imported import ImportRequest, run_import
from stitchcli.embed.job import EmbedRequest, run_embed

__all__ = ["EmbedRequest", "ImportRequest", "run_embed", "run_import"]
