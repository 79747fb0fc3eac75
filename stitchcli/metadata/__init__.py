"""Typed file metadata: one dataclass per file kind, parsed and checked once, written back unchanged.

Every stitchcli file stores string metadata (safetensors' ``__metadata__``). Nothing outside this
package and ``storage`` reads those strings: stages pass these objects instead, each value parsed
where its type is defined, with one default.
"""

from stitchcli.metadata.anchors import AnchorSetMeta
from stitchcli.metadata.common import RelativeSpec, read_options
from stitchcli.metadata.embeddings import EmbeddingsMeta, ShardInfo
from stitchcli.metadata.head import HeadMeta

__all__ = ["AnchorSetMeta", "EmbeddingsMeta", "HeadMeta", "RelativeSpec", "ShardInfo", "read_options"]
