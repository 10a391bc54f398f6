"""Segment compression: one streaming pass that gzips and hashes a spooled segment.

ISA-L (the `isal` package) writes standard gzip at a small fraction of zlib's CPU
cost, and compression is the one big cost of the whole pipeline. `--gzip-level`
0-3 uses ISA-L at that level; 4-9 use zlib at that level for people who want
smaller objects and can pay for them. Without isal, zlib serves every level.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

isal_zlib: Any
try:
    from isal import isal_zlib
except ImportError:  # pragma: no cover - exercised only where isal cannot be installed
    isal_zlib = None

DEFAULT_LEVEL = 1
CHUNK = 1 << 20
_GZIP_WBITS = 31  # 16 + 15: a gzip header and trailer around deflate


class _Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


def codec_name(level: int) -> str:
    return f"isal-{level}" if isal_zlib is not None and level <= 3 else f"zlib-{level}"


def _compressor(level: int) -> _Compressor:
    if not 0 <= level <= 9:
        raise ValueError(f"gzip level {level} is outside 0-9")
    module: Any = isal_zlib if isal_zlib is not None and level <= 3 else zlib
    return module.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Packed:
    sha256: str  # of the uncompressed bytes, as the manifest records
    raw_bytes: int
    stored_bytes: int


#: What a damaged gzip raises: ISA-L's own error is neither zlib.error nor OSError.
GZIP_ERRORS: tuple[type[Exception], ...] = (zlib.error, OSError) + (
    (isal_zlib.error,) if isal_zlib is not None else ()
)


def decompressor() -> Any:
    """A streaming gunzip: ISA-L where installed (about 3x zlib's speed)."""
    module: Any = isal_zlib if isal_zlib is not None else zlib
    return module.decompressobj(_GZIP_WBITS)


def pack(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    gzip_level: int | None,
    observe: Callable[[bytes], None] | None = None,
) -> Packed:
    """Copy src to dst, gzipped unless gzip_level is None, hashing the raw bytes; each
    raw chunk is shown to `observe` on the way (one read of the bytes for every job)."""
    digest = hashlib.sha256()
    comp = _compressor(gzip_level) if gzip_level is not None else None
    raw = stored = 0
    while chunk := src.read(CHUNK):
        raw += len(chunk)
        digest.update(chunk)
        if observe is not None:
            observe(chunk)
        out = comp.compress(chunk) if comp is not None else chunk
        stored += len(out)
        dst.write(out)
    if comp is not None:
        tail = comp.flush()
        stored += len(tail)
        dst.write(tail)
    return Packed(digest.hexdigest(), raw, stored)
