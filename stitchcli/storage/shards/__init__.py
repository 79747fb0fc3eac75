"""Sharded embeddings: one run split in contiguous row ranges (``--shard``, torchrun, SLURM arrays)."""
