"""Pick the label column of a table by name or position."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nolabel.errors import Argument, DataError, ParameterError


def label_index(
    label_column: str | int | None, names: Sequence[str] | None, n_columns: int, path: Path
) -> int | None:
    """The 0-based index of ``label_column`` among ``n_columns`` (negative counts from the end).

    A string is a column name; one that names no column but reads as a whole number (``"2"``,
    as the command line passes every value) is taken as an index.
    """
    if label_column is None:
        return None
    if isinstance(label_column, bool) or not isinstance(label_column, str | int):
        raise ParameterError(f"label_column must be a column name or index, got {label_column!r}")
    given = Argument("label_column", label_column)
    if isinstance(label_column, str) and label_column not in (names or ()):
        try:
            label_column = int(label_column)
        except ValueError:
            pass
    if isinstance(label_column, int):
        if not -n_columns <= label_column < n_columns:
            raise DataError(
                f"{path}: {given} is out of range; the table has {n_columns} columns",
                arguments=[given],
            )
        return label_column % n_columns
    if names is None:
        raise DataError(
            f"{path} has no header row, so {given} cannot be found by name; pass its index "
            "instead",
            arguments=[given],
        )
    if label_column not in names:
        raise DataError(
            f"{path} has no column {label_column!r}; its columns are " + ", ".join(map(repr, names))
        )
    return list(names).index(label_column)


def split_label(n_columns: int, label: int | None) -> list[int]:
    """Indices of the feature columns (all except the label); a table needs at least one."""
    return [i for i in range(n_columns) if i != label]
