"""IDX files (the MNIST format): a big-endian header, then the array, optionally gzipped.

Header: two zero bytes, a type code, the number of dimensions, then one big-endian uint32 per
dimension. The payload must be exactly the product of the dimensions times the item size.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from nolabel._atomic import atomic_write
from nolabel.errors import DataError

_CODE_TO_DTYPE = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)
# Deflate expands at most about 1032-fold, which bounds what a gzip file can decompress to.
_DEFLATE_MAX_RATIO = 1032


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def _read_exactly(handle: BinaryIO, buffer: memoryview) -> tuple[int, bool]:
    """Fill ``buffer`` from ``handle``; return the bytes that arrived and whether a gzip
    stream ended early (then the count is a lower bound: the last chunk is lost)."""
    filled = 0
    while filled < len(buffer):
        try:
            got = handle.readinto(buffer[filled : filled + _CHUNK])
        except EOFError:
            return filled, True
        if not got:
            break
        filled += got
    return filled, False


def _describe_size(dims: tuple[int, ...], dtype: np.dtype) -> str:
    shape = "x".join(map(str, dims))
    total = math.prod(dims) * dtype.itemsize
    per_item = "" if dtype.itemsize == 1 else f" x {dtype.itemsize} bytes"
    return f"{shape}{per_item} = {total} bytes"


def _parse(handle: BinaryIO, path: Path, capacity: int, compressed: bool) -> np.ndarray:
    """The array in ``handle``; ``capacity`` bounds the bytes its stream can hold, so that a
    damaged header announcing terabytes is refused before anything is allocated."""
    magic = handle.read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00":
        raise DataError(
            f"{path} is not an IDX file: it starts with bytes {magic.hex(' ') or '(none)'}, "
            "expected 00 00 <type> <ndim>"
        )
    code, ndim = magic[2], magic[3]
    if code not in _CODE_TO_DTYPE:
        known = ", ".join(f"0x{c:02X}" for c in _CODE_TO_DTYPE)
        raise DataError(f"{path} has unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise DataError(f"{path} is an IDX file with 0 dimensions; nothing to read")
    raw_dims = handle.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataError(f"{path} is truncated inside its header ({ndim} dimensions announced)")
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    dtype = _CODE_TO_DTYPE[code]
    expected = math.prod(dims) * dtype.itemsize
    room = capacity - 4 - 4 * ndim
    if expected > room:
        found = f"a gzip file of {path.stat().st_size} bytes cannot hold that much" if (
            compressed) else f"found {room}"
        raise DataError(f"{path} is truncated: header says {_describe_size(dims, dtype)}, {found}")
    payload = np.empty(expected, dtype=np.uint8)
    found, stream_ended = _read_exactly(handle, memoryview(payload))
    if found < expected:
        how = " (the gzip stream ends early)" if stream_ended else ""
        raise DataError(
            f"{path} is truncated{how}: header says {_describe_size(dims, dtype)}, "
            f"found {'at least ' if stream_ended else ''}{found}"
        )
    if handle.read(1):
        raise DataError(
            f"{path} is longer than its header says ({_describe_size(dims, dtype)}): "
            "extra bytes follow the data"
        )
    try:
        array = payload.view(dtype).reshape(dims)
    except ValueError as exc:  # e.g. 0 x 2**32 x 2**32: no data, yet too big a shape
        raise DataError(f"{path} announces an impossible shape {dims}: {exc}") from None
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip or raw, detected from its first bytes) into a native-order array."""
    path = Path(path)
    try:
        if _is_gzip(path):
            with gzip.open(path, "rb") as handle:
                capacity = _DEFLATE_MAX_RATIO * path.stat().st_size
                try:
                    return _parse(handle, path, capacity, compressed=True)
                except _GZIP_ERRORS as exc:
                    raise DataError(f"{path} is a corrupt or truncated gzip file: {exc}") from exc
        with open(path, "rb") as handle:
            return _parse(handle, path, path.stat().st_size, compressed=False)
    except FileNotFoundError:
        raise DataError(f"IDX file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, expected an IDX file") from None
    except PermissionError:
        raise DataError(f"{path} cannot be read: permission denied") from None


def write_idx(
    path: str | os.PathLike[str], array: np.ndarray, *, compress: bool | None = None
) -> Path:
    """Write ``array`` as IDX, atomically; gzip when ``compress`` (default: name ends in .gz)."""
    path = Path(path)
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in _CODE_TO_DTYPE.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        names = ", ".join(str(d) for d in codes)
        raise DataError(f"IDX cannot store dtype {array.dtype}; use one of {names}")
    if not 1 <= array.ndim <= 255 or max(array.shape) >= 2**32:
        raise DataError(f"IDX cannot store an array of shape {array.shape}")
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[codes[native]]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    with atomic_write(path) as handle:
        if compress:
            # mtime=0 and a fixed name keep the bytes (and so the SHA-256) reproducible.
            with gzip.GzipFile(filename=path.name, mode="wb", fileobj=handle, mtime=0) as gz:
                gz.write(header + payload)
        else:
            handle.write(header + payload)
    return path
