"""Read a battery of Gagolewski's clustering benchmarks (clustering-data-v1) from a folder.

A battery folder holds, for every dataset ``NAME``, ``NAME.data.gz`` (whitespace-separated
numbers, one point a line) and one or more ``NAME.labelsK.gz`` (one integer a line, K = 0,
1, ...): the reference partitions, each as valid as the others, with label 0 for noise
points and clusters numbered from 1. The data are AGPL-licensed and not shipped with
nolabel, which is why this reader is not one of the named datasets of ``nolabel.load``.
"""

from __future__ import annotations

import glob
import gzip
import math
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from nolabel.errors import DataError

_DATA_SUFFIX = ".data.gz"
_LABELS = re.compile(r"\.labels(\d+)\.gz$")


def _battery(battery_dir: str | Path) -> Path:
    folder = Path(battery_dir)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder of clustering benchmarks")
    return folder


def list_clustbench(battery_dir: str | Path) -> list[str]:
    """Names of the datasets in a battery folder (those with a ``NAME.data.gz``), sorted."""
    folder = _battery(battery_dir)
    return sorted(
        path.name[: -len(_DATA_SUFFIX)]
        for path in folder.iterdir()
        if path.name.endswith(_DATA_SUFFIX) and path.is_file()
    )


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line of a gzipped text file."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                fields = line.split()
                if fields:
                    yield number, fields
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is not a readable gzip file: {exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not a text file: {exc}") from None


def _read_points(path: Path) -> np.ndarray:
    rows: list[list[float]] = []
    width = first_line = 0
    for number, fields in _lines(path):
        if not rows:
            width, first_line = len(fields), number
        elif len(fields) != width:
            raise DataError(
                f"{path}, line {number}: {len(fields)} values, but line {first_line} has "
                f"{width}; every point must have the same number of coordinates"
            )
        row = []
        for column, field in enumerate(fields, start=1):
            try:
                value = float(field)
            except ValueError:
                raise DataError(
                    f"{path}, line {number}, column {column}: {field!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise DataError(
                    f"{path}, line {number}, column {column}: {field!r} is not a finite number"
                )
            row.append(value)
        rows.append(row)
    if not rows:
        raise DataError(f"{path} holds no points")
    return np.array(rows, dtype=np.float64)


def _read_labels(path: Path, n_points: int, data_path: Path) -> np.ndarray:
    labels: list[int] = []
    for number, fields in _lines(path):
        if len(fields) != 1:
            raise DataError(
                f"{path}, line {number}: expected one label, found {len(fields)} values"
            )
        try:
            label = int(fields[0])
        except ValueError:
            raise DataError(
                f"{path}, line {number}: {fields[0]!r} is not an integer label"
            ) from None
        if label < 0:
            raise DataError(
                f"{path}, line {number}: label {label} is negative "
                "(0 marks noise, clusters are numbered from 1)"
            )
        labels.append(label)
    if len(labels) != n_points:
        raise DataError(f"{path} has {len(labels)} labels but {data_path} has {n_points} points")
    if max(labels) == 0:
        raise DataError(f"{path} marks every point as noise (label 0); there is no cluster")
    return np.array(labels, dtype=np.int64)


def load_clustbench(battery_dir: str | Path, name: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Points and reference partitions of the dataset ``name`` of a battery folder.

    Returns ``(X, references)``: ``X`` is a float64 array (n_points, n_features) and
    ``references`` lists one int64 label vector per ``NAME.labelsK.gz``, in order of K.
    In each, 0 marks noise points and 1..k the clusters (k = its largest label). Malformed
    files raise a DataError naming the file and the line at fault.
    """
    folder = _battery(battery_dir)
    data_path = folder / f"{name}{_DATA_SUFFIX}"
    if not data_path.is_file():
        names = list_clustbench(folder)
        raise DataError(
            f"{folder} has no dataset {name!r} (no {data_path.name}); "
            f"it holds: {', '.join(names) or 'nothing'}"
        )
    label_files = []
    for path in folder.glob(f"{glob.escape(name)}.labels*.gz"):
        match = _LABELS.search(path.name)
        if match and path.name == f"{name}.labels{match.group(1)}.gz":
            label_files.append((int(match.group(1)), path))
    if not label_files:
        raise DataError(f"{folder} has no reference labels for {name!r} ({name}.labels0.gz...)")
    X = _read_points(data_path)
    references = [_read_labels(path, len(X), data_path) for _, path in sorted(label_files)]
    return X, references
