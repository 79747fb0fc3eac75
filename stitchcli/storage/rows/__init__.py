"""Embeddings files a block of rows at a time: one reader for plain and sharded files, a streaming writer."""

from stitchcli.storage.rows.reader import ROW_TENSORS, RowReader, open_rows
from stitchcli.storage.rows.writer import RowWriter, concat_shards, copy_rows

__all__ = ["ROW_TENSORS", "RowReader", "RowWriter", "concat_shards", "copy_rows", "open_rows"]
