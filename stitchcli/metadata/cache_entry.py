"""An anchor-cache entry's header: the key it was stored under, its format and its tensor's checksum."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stitchcli.metadata import values as v

ENTRY_FORMAT = "2"  # 2: entries record their key and a checksum of the tensor (1: the key alone)


@dataclass(frozen=True)
class AnchorCacheEntryMeta:
    """What an entry says of itself; an entry of another format or key is not used."""

    key: str | None = None
    checksum: str | None = None  # sha256 of the tensor's dtype, shape and bytes
    entry_format: str | None = ENTRY_FORMAT

    def to_metadata(self) -> dict[str, str]:
        return {k: value for k, value in (("key", self.key), ("checksum", self.checksum),
                                          ("entry_format", self.entry_format)) if value is not None}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str], where: str = "anchor cache entry",
                      ) -> AnchorCacheEntryMeta:
        return cls(key=v.text(meta, "key", where, None), checksum=v.text(meta, "checksum", where, None),
                   entry_format=v.text(meta, "entry_format", where, None))

    def stored_under(self, key: str) -> bool:
        """Whether this entry was written under ``key`` by a writer of this format (with a checksum)."""
        return self.entry_format == ENTRY_FORMAT and self.key == key and self.checksum is not None
