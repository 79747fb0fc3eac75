"""Embedding: a source and an encoder (and anchors) → an embeddings file, chunked, resumable, sharded.

``loop`` (contiguous chunks, length-sorted batches, DataLoader workers) → ``resume`` (finished chunks
kept in ``OUT.partial/``) → ``output`` (the file assembled chunk by chunk) → ``job`` (one ``stitch
embed`` run), with ``distributed`` (torchrun ranks; rank 0 writes the shard index).
"""

from stitchcli.embed.job import EmbedRequest, run_embed

__all__ = ["EmbedRequest", "run_embed"]
