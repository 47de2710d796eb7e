"""``load``: one entry point from a dataset name or a path to a validated Dataset."""

from __future__ import annotations

import os
from pathlib import Path

from nolabel.data.dataset import Dataset
from nolabel.data.files import read_path
from nolabel.data.preprocess import clean_rows
from nolabel.data.registry import get_dataset, is_dataset_name, load_named
from nolabel.errors import DataError, ParameterError


def _looks_like_path(source: str) -> bool:
    return os.sep in source or "/" in source or bool(Path(source).suffix)


def load(
    source: str | os.PathLike[str],
    *,
    split: str = "all",
    path: str | os.PathLike[str] | None = None,
    label_column: str | int | None = None,
    impute: str | None = None,
    download: bool = True,
    mmap: bool = False,
) -> Dataset:
    """Load a named dataset (``"digits"``, ``"fashion-mnist"``, ``"mnist"``) or a file/folder.

    Named datasets take ``split`` ("train", "test" or "all" = train then test), ``path`` (a
    folder holding their files) and ``download``. Files take ``label_column`` (CSV/Parquet)
    and ``mmap`` (.npy). NaN/inf are an error naming the first bad row and column unless
    ``impute`` is "mean", "median" or "drop".
    """
    if not isinstance(source, str | os.PathLike):
        raise ParameterError(
            f"source must be a dataset name or a path to a file or folder, got {source!r}"
        )
    if isinstance(source, str) and is_dataset_name(source):
        if label_column is not None or mmap:
            raise ParameterError("label_column= and mmap= apply to files, not named datasets")
        return load_named(source, split=split, path=path, download=download)
    if isinstance(source, str) and not Path(source).expanduser().exists():
        if not _looks_like_path(source):
            try:
                get_dataset(source)
            except DataError as exc:
                raise DataError(f"{exc}; nor is it a file or folder") from None
        raise DataError(f"no such file or folder: {source}")
    if split != "all" or path is not None:
        raise ParameterError("split= and path= apply to named datasets, not to files")
    file = Path(source).expanduser()
    X, y, classes = read_path(file, label_column=label_column, mmap=mmap)
    X, kept = clean_rows(X, impute=impute, name=str(file))
    if kept is not None and y is not None:
        y = y[kept]
    return Dataset(X, y, name=file.stem or file.name, source=str(file), classes=classes)
