"""Embeddings files a block of rows at a time: one reader for plain and sharded files, a streaming writer."""

from stitchcli.rows.reader import ROW_TENSORS, RowReader, open_rows
from stitchcli.rows.writer import RowWriter, copy_rows

__all__ = ["ROW_TENSORS", "RowReader", "RowWriter", "copy_rows", "open_rows"]
