"""File formats: plain stitchcli files, shard indexes, and rows read or written a block at a time.

Layers, bottom up: ``files`` (safetensors headers, no torch) → ``plain`` (one stitchcli file) →
``shards`` (naming and the index format) → ``rows`` (one reader for a plain file or an index, a
streaming writer) → ``store`` (open either kind: ``inspect``, ``load``). Importing the package or
``store`` costs no torch; the row reader and writer load it when first used.
"""

from stitchcli._lazy import lazy_exports

__all__ = ["ROW_TENSORS", "RowReader", "RowWriter", "Shard", "StitchFile", "concat_shards", "copy_rows",
           "files",
           "index_path", "is_index", "open_rows", "parse_shard", "read_index", "shard_files", "store",
           "write_index"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "store": ".store:", "files": ".files:", "StitchFile": ".plain",
    "ROW_TENSORS": ".rows", "RowReader": ".rows", "RowWriter": ".rows", "concat_shards": ".rows",
    "copy_rows": ".rows", "open_rows": ".rows",
    "index_path": ".shards.plan", "Shard": ".shards.plan", "is_index": ".shards.plan",
    "parse_shard": ".shards.plan", "shard_files": ".shards.plan",
    "read_index": ".shards.index", "write_index": ".shards.index",
})
