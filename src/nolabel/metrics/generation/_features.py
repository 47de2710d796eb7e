"""Validation of feature matrices: float64, 2-D, finite, and two sets of the same width."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from nolabel.errors import DataError


def check_features(features: Any, name: str, min_samples: int = 2) -> np.ndarray:
    """``features`` as a float64 (n_samples, n_features) array, or a DataError naming ``name``.

    Kept in float64 (not the float32 of ``check_array``): covariances and distances are sums
    of many products, and the Fréchet distance of a set with itself must come out as 0.
    """
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    try:
        array = np.asarray(features)
    except ValueError as exc:
        raise DataError(f"{name} is not a rectangular array of numbers: {exc}") from None
    if array.dtype.kind not in "fiub":
        raise DataError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise DataError(
            f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}"
        )
    if array.shape[0] < min_samples or array.shape[1] == 0:
        raise DataError(
            f"{name} has shape {array.shape}; at least {min_samples} samples and one "
            "feature are needed"
        )
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise DataError(f"{name} holds {array[row, column]} at row {row}, column {column}")
    return array


def check_feature_pair(
    first: Any, second: Any, names: tuple[str, str], min_samples: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    a = check_features(first, names[0], min_samples)
    b = check_features(second, names[1], min_samples)
    if a.shape[1] != b.shape[1]:
        raise DataError(
            f"{names[0]} has {a.shape[1]} features per sample but {names[1]} has "
            f"{b.shape[1]}; both must come from the same feature network"
        )
    return a, b
