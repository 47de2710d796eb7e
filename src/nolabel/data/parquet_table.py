"""Parquet tables through pyarrow (optional dependency): flat numeric columns only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nolabel.data._columns import label_index, split_label
from nolabel.data.dataset import RawData, encode_labels
from nolabel.errors import Argument, DataError


def _import_pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(
            "reading .parquet files needs pyarrow: pip install nolabel[parquet]"
        ) from None
    return pa, pq


def read_parquet(path: Path, *, label_column: str | int | None = None) -> RawData:
    """Read a Parquet table of numbers; nulls become NaN so the NaN policy applies."""
    pa, pq = _import_pyarrow()
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path} is not a readable Parquet file: {exc}") from None
    names = list(table.column_names)
    if table.num_rows == 0:
        raise DataError(f"{path} has no rows")
    label = label_index(label_column, names, len(names), path)
    features = split_label(len(names), label)
    if not features:
        raise DataError(f"{path} holds only the label column, no features")
    nested = [
        f"{names[i]!r} ({table.schema.field(i).type})"
        for i in features
        if pa.types.is_nested(table.schema.field(i).type)
    ]
    if nested:
        raise DataError(
            f"{path}: nested columns cannot be features: {', '.join(nested)}; "
            "flatten them into one numeric column each"
        )
    text = [
        f"{names[i]!r} ({table.schema.field(i).type})"
        for i in features
        if not _is_numeric(pa, table.schema.field(i).type)
    ]
    if text:
        label = Argument("label_column")
        raise DataError(
            f"{path}: non-numeric columns: {', '.join(text)}; drop them, or pass {label} "
            "if one holds labels",
            arguments=[label],
        )
    X = np.column_stack(
        [table.column(i).cast(pa.float64()).to_numpy(zero_copy_only=False) for i in features]
    )
    feature_names = tuple(str(names[i]) for i in features)
    if label is None:
        return RawData(X, feature_names=feature_names)
    label_type = table.schema.field(label).type
    if pa.types.is_nested(label_type):
        raise DataError(
            f"{path}: the label column {names[label]!r} is nested ({label_type}); labels must "
            "be one number or one string per row"
        )
    values = table.column(label).to_numpy(zero_copy_only=False)
    y, classes = encode_labels(values, name=f"{path}: column {names[label]!r}")
    return RawData(X, y, classes, feature_names=feature_names)


def _is_numeric(pa, dtype) -> bool:
    kinds = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_decimal)
    return any(is_kind(dtype) for is_kind in kinds)
