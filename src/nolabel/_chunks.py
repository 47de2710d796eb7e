"""Data read in row blocks: arrays, tensors, memory-mapped ``.npy`` files and paths to them.

Estimators that must handle data larger than memory (``MiniBatchKMeans``) read it through a
:class:`RowSource`: every block is validated on its own (errors name the row of the whole
array) and moved to the device, so at most one block is ever resident.
"""

from __future__ import annotations

import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nolabel._validation import _check_shape, check_array, check_tensor
from nolabel.errors import DataError


class RowSource:
    """Row-block reader over ``X`` (numpy array or memmap, torch tensor, or a ``.npy`` path)."""

    def __init__(self, X: Any, device: torch.device, name: str = "X") -> None:
        if isinstance(X, str | Path):
            X = _open_npy(Path(X))
        self.name = name
        self.device = device
        if isinstance(X, torch.Tensor):
            self._data: Any = check_tensor(X, device=device, name=name)
        elif isinstance(X, np.ndarray | NpyRows):  # memmaps included: nothing is read yet
            _check_shape(X.shape, name, allow_nd=True, min_samples=1)
            self._data = X
        else:
            self._data = check_array(X, name=name)
        self.n_samples = int(self._data.shape[0])
        self.sample_shape = tuple(int(s) for s in getattr(self._data, "sample_shape",
                                                          self._data.shape[1:]))
        self.n_features = int(np.prod(self.sample_shape))

    def __len__(self) -> int:
        return self.n_samples

    def read(self, start: int, stop: int, check: bool = True) -> torch.Tensor:
        """Rows ``start:stop`` as a (rows, n_features) float32 tensor on the device, validated
        unless ``check`` is False (rows already validated by an earlier pass)."""
        block = self._data[start:stop]
        if isinstance(block, torch.Tensor):
            return block.reshape(block.shape[0], -1)
        if not check:
            rows = np.ascontiguousarray(block, dtype=np.float32).reshape(len(block), -1)
            return torch.from_numpy(rows).to(self.device)
        checked = check_array(block, name=self.name, first_row=start)
        if not checked.flags.writeable:  # a read-only memmap slice: hold a private copy
            checked = checked.copy()
        return torch.from_numpy(checked.reshape(len(checked), -1)).to(self.device)

    def take(self, indices: np.ndarray) -> torch.Tensor:
        """The rows at sorted ``indices``, validated, as a (rows, n_features) tensor."""
        if isinstance(self._data, torch.Tensor):
            rows = self._data[torch.from_numpy(indices).to(self._data.device)]
            return rows.reshape(len(indices), -1)
        checked = check_array(self._data[indices], name=self.name, first_row=indices)
        return torch.from_numpy(checked.reshape(len(indices), -1)).to(self.device)

    def blocks(self, rows: int) -> Iterator[tuple[int, torch.Tensor]]:
        """(start, block) over the whole data in order."""
        for start in range(0, self.n_samples, rows):
            yield start, self.read(start, min(start + rows, self.n_samples))


class NpyRows:
    """Rows of a ``.npy`` file read with plain file reads, so only what is asked is in memory.

    (A memory map would do the same, but the pages it touches stay mapped and count towards
    the process's memory until the kernel evicts them.)
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as handle:
            try:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(handle)
            except (ValueError, SyntaxError, tokenize.TokenError) as exc:  # a garbled header
                raise DataError(f"{path} is not a readable .npy file: {exc}") from None
            self.offset = handle.tell()
        if dtype.hasobject:
            raise DataError(f"{path} holds Python objects; nolabel never unpickles data")
        if fortran and len(shape) > 1:
            raise DataError(f"{path} is stored in Fortran order; save it C-ordered to read rows")
        if len(shape) < 2:
            raise DataError(f"{path} holds an array of shape {shape}; expected (n, features)")
        self.shape = (int(shape[0]), int(np.prod(shape[1:])))
        self.sample_shape = tuple(int(s) for s in shape[1:])  # e.g. (1, 28, 28) for images
        self.dtype = dtype
        self.row_bytes = self.shape[1] * dtype.itemsize
        expected = self.offset + self.shape[0] * self.row_bytes
        if path.stat().st_size < expected:
            raise DataError(
                f"{path} is truncated: its header promises {self.shape[0]} rows "
                f"({expected} bytes) but the file has {path.stat().st_size} bytes"
            )

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: slice | np.ndarray) -> np.ndarray:
        with open(self.path, "rb") as handle:
            if isinstance(index, slice):
                start, stop, _ = index.indices(self.shape[0])
                handle.seek(self.offset + start * self.row_bytes)
                count = max(0, stop - start) * self.shape[1]
                return np.fromfile(handle, dtype=self.dtype, count=count).reshape(-1, self.shape[1])
            rows = np.empty((len(index), self.shape[1]), dtype=self.dtype)
            for position, row in enumerate(np.asarray(index, dtype=np.int64)):
                handle.seek(self.offset + int(row) * self.row_bytes)
                rows[position] = np.fromfile(handle, dtype=self.dtype, count=self.shape[1])
            return rows


def _open_npy(path: Path) -> NpyRows:
    if path.suffix != ".npy":
        raise DataError(f"{path}: only .npy files can be read in blocks")
    if not path.is_file():
        raise DataError(f"{path} does not exist")
    return NpyRows(path)
