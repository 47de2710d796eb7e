"""Validation of label vectors, and the contingency table every label metric starts from."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.metrics.cluster import contingency_matrix

from nolabel.errors import DataError


def as_flat_array(values: Any, name: str) -> np.ndarray:
    """A non-empty 1-D numpy array (one value per sample) from an array, list or tensor."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values)
    except ValueError as exc:
        raise DataError(f"{name} is not a flat sequence: {exc}") from None
    if array.ndim != 1:
        raise DataError(f"{name} must be 1-D (one value per sample), got shape {array.shape}")
    if array.size == 0:
        raise DataError(f"{name} is empty: there is nothing to score")
    return array


def check_labels(labels: Any, name: str) -> np.ndarray:
    """Return ``labels`` as a 1-D int64 array, or raise a DataError naming ``name``.

    Floats are accepted when every value is a whole number (``2.0``), since labels often
    travel through float arrays; anything else (``0.5``, NaN, strings) is refused.
    """
    array = as_flat_array(labels, name)
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    if array.dtype.kind != "f":
        raise DataError(f"{name} must hold integer labels, got dtype {array.dtype}")
    not_whole = ~np.isfinite(array) | (array != np.round(array))
    if not_whole.any():
        position = int(np.argmax(not_whole))
        raise DataError(
            f"{name} must hold integer labels, but index {position} holds {array[position]!r}"
        )
    return array.astype(np.int64)


def check_label_pair(
    first: Any, second: Any, names: tuple[str, str] = ("y_true", "y_pred")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two labelings of the same samples."""
    a = check_labels(first, names[0])
    b = check_labels(second, names[1])
    if a.shape != b.shape:
        raise DataError(
            f"{names[0]} has {a.size} labels but {names[1]} has {b.size}; "
            "they must label the same samples"
        )
    return a, b


def contingency(rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of each (row label, column label) pair, with the sorted labels of both axes.

    The counts are scikit-learn's ``contingency_matrix``, whose rows and columns follow the
    sorted distinct labels (``np.unique``), which are returned with it.
    """
    counts = contingency_matrix(rows, columns)
    return counts, np.unique(rows), np.unique(columns)
