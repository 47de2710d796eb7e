"""CSV/TSV tables: header auto-detected, optional label column, errors that give the line."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from nolabel.data._columns import label_index, split_label
from nolabel.data.dataset import RawData, encode_labels
from nolabel.errors import DataError

# Cells read as a missing value (NaN), compared case-insensitively; the NaN policy decides.
MISSING = ("", "na", "n/a", "nan", "null", "none", "?")


def _read_rows(path: Path, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows of the file and the line number each ends on."""
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{path} is not a readable CSV file: {exc}") from None
    return rows, lines


def _is_number(cell: str) -> bool | None:
    """True for a number, False for text, None for a missing value (which says nothing)."""
    text = cell.strip()
    if text.lower() in MISSING:
        return None
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_like_header(rows: list[list[str]]) -> bool:
    first = [_is_number(cell) for cell in rows[0]]
    if all(kind is False for kind in first):
        return True
    if len(rows) < 2:
        return False
    second = [_is_number(cell) for cell in rows[1]]
    # Text above a number in the same column: the first row names the columns.
    return any(a is False and b is True for a, b in zip(first, second, strict=False))


def _column_name(names: list[str] | None, index: int) -> str:
    return f"column {names[index]!r} (index {index})" if names else f"column index {index}"


def _cell_value(cell: str) -> float | None:
    """The number in ``cell``, NaN for a missing value, None for text."""
    kind = _is_number(cell)
    if kind is None:
        return float("nan")
    return float(cell.strip()) if kind else None  # stripped as _is_number saw it


def _to_float(
    rows: list[list[str]], names: list[str] | None, columns: list[int], lines: list[int], path: Path
) -> np.ndarray:
    out = np.empty((len(rows), len(columns)), dtype=np.float64)
    for i, row in enumerate(rows):
        cells = [row[j] for j in columns]
        try:
            out[i] = [float(cell) for cell in cells]
        except ValueError:
            values = [_cell_value(cell) for cell in cells]
            if None in values:
                _raise_not_numeric(rows, i, names, columns, lines, path)
            out[i] = values
    return out


def _raise_not_numeric(
    rows: list[list[str]],
    first_row: int,
    names: list[str] | None,
    columns: list[int],
    lines: list[int],
    path: Path,
) -> None:
    row = rows[first_row]
    first = next(j for j in columns if _is_number(row[j]) is False)
    bad = [j for j in columns if any(_is_number(r[j]) is False for r in rows[first_row:])]
    others = ""
    if len(bad) > 1:
        others = f" (non-numeric columns: {', '.join(_column_name(names, j) for j in bad)})"
    raise DataError(
        f"{path}: {_column_name(names, first)} is not numeric: line {lines[first_row]} holds "
        f"{row[first].strip()!r}{others}; drop the column, or pass label_column= if it holds "
        "labels"
    )


def read_csv(
    path: Path,
    *,
    label_column: str | int | None = None,
    header: bool | None = None,
    delimiter: str | None = None,
) -> RawData:
    """Read a CSV (or ``.tsv``) table of numbers; missing cells become NaN."""
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    rows, lines = _read_rows(path, delimiter)
    if not rows:
        raise DataError(f"{path} is empty: no rows to read")
    if header is None:
        header = _looks_like_header(rows)
    names, header_line = None, None
    if header:
        names = [cell.strip() or f"column {i}" for i, cell in enumerate(rows[0])]
        header_line, rows, lines = lines[0], rows[1:], lines[1:]
        if not rows:
            raise DataError(f"{path} has a header (line {header_line}) but no data rows")
    width = len(names) if names else len(rows[0])
    reference = f"line {header_line} (the header)" if names else f"line {lines[0]}"
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            raise DataError(
                f"{path}: line {line} has {len(row)} fields but {reference} has {width}"
            )
    label = label_index(label_column, names, width, path)
    features = split_label(width, label)
    if not features:
        raise DataError(f"{path} holds only the label column, no features")
    try:
        table = np.array(rows, dtype=np.float64)  # the fast path: every cell is a number
        X, labels = table[:, features], None if label is None else table[:, label]
    except ValueError:
        X = _to_float(rows, names, features, lines, path)
        labels = None if label is None else [row[label].strip() for row in rows]
    if labels is None:
        return RawData(X)
    y, classes = encode_labels(labels, name=f"{path}: labels")
    return RawData(X, y, classes)
