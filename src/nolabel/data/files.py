"""Read user data from a path: .npy, .npz, .csv/.tsv, .parquet, or a folder of images."""

from __future__ import annotations

import math
import os
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from nolabel.data.csv_table import read_csv
from nolabel.data.dataset import RawData
from nolabel.data.image_folder import read_image_folder
from nolabel.data.parquet_table import read_parquet
from nolabel.errors import Argument, DataError, ParameterError

SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".parquet")


def _as_samples(array: np.ndarray, path: Path) -> np.ndarray:
    """Images stored as (n, h, w) gain a channel axis; (n, h, w, c) becomes (n, c, h, w)."""
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4 and array.shape[1] not in (1, 3, 4) and array.shape[3] in (1, 3, 4):
        return array.transpose(0, 3, 1, 2)
    if array.ndim > 4 or array.ndim < 2:
        raise DataError(
            f"{path} holds an array of shape {array.shape}; expected (n, features), "
            "(n, height, width) or (n, channels, height, width)"
        )
    return array


def _pickle_refused(path: Path, exc: ValueError) -> DataError:
    return DataError(
        f"{path} holds Python objects that could only be read by unpickling, which nolabel "
        f"never does (it can run arbitrary code); save plain numeric arrays instead ({exc})"
    )


def _check_magic(path: Path, magics: tuple[bytes, ...], kind: str) -> None:
    with open(path, "rb") as handle:
        start = handle.read(6)
    if not start:
        raise DataError(f"{path} is empty")
    if not start.startswith(magics):
        raise DataError(f"{path} is not a {kind} file (it does not start with a {kind} header)")


def _npy_overrun(handle: BinaryIO, size: int) -> str | None:
    """What is wrong when the .npy header read from ``handle`` (``size`` bytes in all)
    announces more bytes than there are, else None. Checked before numpy allocates the
    array, since a damaged header could ask for terabytes."""
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    try:
        version = np.lib.format.read_magic(handle)
        if version not in readers:
            return None  # a newer format version: np.load checks it
        shape, _, dtype = readers[version](handle)
    except (ValueError, SyntaxError, tokenize.TokenError) as exc:  # numpy parses it as Python
        return f"is not a readable .npy file: its header is malformed ({exc})"
    if dtype.hasobject:
        return None  # refused by np.load without being read: nolabel never unpickles
    announced = math.prod(shape) * dtype.itemsize
    present = size - handle.tell()
    if announced <= present:
        return None
    return (
        f"is truncated: its header says an array of shape {shape} and dtype {dtype} "
        f"({announced} bytes), but only {present} bytes follow the header"
    )


def _check_npy_length(path: Path) -> None:
    with open(path, "rb") as handle:
        problem = _npy_overrun(handle, os.fstat(handle.fileno()).st_size)
    if problem:
        raise DataError(f"{path} {problem}")


def _check_npz_lengths(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith(".npy"):
                with archive.open(info) as handle:
                    problem = _npy_overrun(handle, info.file_size)
                if problem:
                    raise DataError(f"{path}: the array {info.filename[:-4]!r} {problem}")


def read_npy(path: Path, *, mmap: bool = False) -> RawData:
    _check_magic(path, (b"\x93NUMPY",), ".npy")
    _check_npy_length(path)
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise _pickle_refused(path, exc) from None
        raise DataError(f"{path} is not a readable .npy file: {exc}") from None
    return RawData(_as_samples(array, path))


def read_npz(path: Path) -> RawData:
    _check_magic(path, (b"PK\x03\x04", b"PK\x05\x06"), ".npz")
    try:
        _check_npz_lengths(path)
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if "X" not in keys:
                raise DataError(
                    f"{path} has no array named 'X' (it holds {', '.join(keys) or 'nothing'}); "
                    "save the samples with np.savez(path, X=samples, y=labels)"
                )
            X = archive["X"]
            y = archive["y"] if "y" in keys else None
    except DataError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise _pickle_refused(path, exc) from None
        raise DataError(f"{path} is not a readable .npz file: {exc}") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:
        raise DataError(f"{path} is not a readable .npz file: {exc}") from None
    return RawData(_as_samples(X, path), y)


def read_path(
    path: str | os.PathLike[str],
    *,
    label_column: str | int | None = None,
    mmap: bool = False,
    image_size: tuple[int, int] | None = None,
    channels: int | None = None,
    resize: str = "crop",
    delimiter: str | None = None,
) -> RawData:
    """Read samples (and labels when the source has them) from a file or an image folder.

    ``image_size``, ``channels`` and ``resize`` apply to folders of images, ``delimiter`` to
    CSV files; each is refused, by name, for the sources it does not apply to.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"no such file or folder: {path}")
    suffix = path.suffix.lower()
    if path.is_dir():
        if suffix in SUFFIXES:
            raise DataError(f"{path} is a folder, but its name says a {suffix} file")
        _refuse(label_column, "label_column", "a folder of images (labels are subfolders)")
        _refuse(mmap, "mmap", "a folder of images")
        _refuse(delimiter, "delimiter", "a folder of images")
        return _guard(path, lambda: read_image_folder(
            path, image_size=image_size, channels=channels, resize=resize))
    if suffix not in SUFFIXES:
        raise DataError(
            f"{path} has an unknown extension {suffix!r}; nolabel reads "
            f"{', '.join(SUFFIXES)} files and folders of images (IDX files: "
            "nolabel.data.read_idx, or load('fashion-mnist', path=folder))"
        )
    for name, value in (("image_size", image_size), ("channels", channels)):
        _refuse(value, name, f"{suffix} files (it resizes the images of a folder)")
    if suffix in (".csv", ".tsv", ".parquet"):
        _refuse(mmap, "mmap", "tables")
        if suffix == ".parquet":
            _refuse(delimiter, "delimiter", ".parquet files")
            return _guard(path, lambda: read_parquet(path, label_column=label_column))
        return _guard(path, lambda: read_csv(path, label_column=label_column,
                                             delimiter=delimiter))
    _refuse(delimiter, "delimiter", f"{suffix} files (it splits the fields of a CSV file)")
    _refuse(label_column, "label_column", f"{suffix} files (labels are the array 'y' of a .npz)")
    if suffix == ".npy":
        return _guard(path, lambda: read_npy(path, mmap=mmap))
    _refuse(mmap, "mmap", ".npz files")
    return _guard(path, lambda: read_npz(path))


def _refuse(value: object, name: str, what: str) -> None:
    if value is not None and value is not False:
        argument = Argument(name)
        raise ParameterError(f"{argument} does not apply to {what}", arguments=[argument])


def _guard(path: Path, read):
    """Turn operating-system errors into a DataError that names the path."""
    try:
        return read()
    except PermissionError:
        raise DataError(f"{path} cannot be read: permission denied") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, expected a file") from None
    except OSError as exc:
        raise DataError(f"{path} cannot be read: {exc.strerror or exc}") from None
