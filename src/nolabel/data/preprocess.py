"""Preprocessing from the documents: cleaning, scaling, binarisation, train/test split.

Each transform takes an array (any shape, features along the flattened trailing axes) or a
:class:`Dataset`, and returns the same kind, as float32.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from nolabel._validation import as_rectangular, check_array, check_choice, check_float
from nolabel.data.dataset import Dataset
from nolabel.errors import DataError, ParameterError

Data = TypeVar("Data", np.ndarray, Dataset)
IMPUTE = (None, "mean", "median", "drop")


def _apply(data: Data, transform: Callable[[np.ndarray], np.ndarray]) -> Data:
    if isinstance(data, Dataset):
        return dataclasses.replace(data, X=transform(data.X))
    return transform(check_array(data))


def _per_feature(X: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``fn`` to the (n, d) view of ``X`` and give the result ``X``'s shape back."""
    return fn(X.reshape(X.shape[0], -1).astype(np.float64)).astype(np.float32).reshape(X.shape)


def minmax_scale(data: Data, *, per_feature: bool = True) -> Data:
    """Scale to [0, 1], per feature (or over all values); constant features become 0."""

    def scale(flat: np.ndarray) -> np.ndarray:
        axis = 0 if per_feature else None
        low, high = flat.min(axis=axis), flat.max(axis=axis)
        span = np.where(high > low, high - low, 1.0)
        return np.clip((flat - low) / span, 0.0, 1.0)

    return _apply(data, lambda X: _per_feature(X, scale))


def standardize(data: Data) -> Data:
    """Zero mean and unit variance per feature; constant features become 0."""

    def scale(flat: np.ndarray) -> np.ndarray:
        std = flat.std(axis=0)
        return (flat - flat.mean(axis=0)) / np.where(std > 0, std, 1.0)

    return _apply(data, lambda X: _per_feature(X, scale))


def binarize(
    data: Data,
    threshold: float = 0.5,
    *,
    stochastic: bool = False,
    random_state: int | np.random.Generator | None = None,
) -> Data:
    """0/1 values for Bernoulli likelihoods: ``X > threshold``, or, when ``stochastic``,
    a Bernoulli draw with probability ``X`` (which must lie in [0, 1])."""
    threshold = check_float("threshold", threshold)

    def fixed(X: np.ndarray) -> np.ndarray:
        return (X > threshold).astype(np.float32)

    def sample(X: np.ndarray) -> np.ndarray:
        low, high = float(X.min()), float(X.max())
        if low < 0.0 or high > 1.0:
            raise DataError(
                f"stochastic binarisation draws Bernoulli(p=X), so X must lie in [0, 1]; it "
                f"ranges over [{low:g}, {high:g}] (use minmax_scale first)"
            )
        rng = np.random.default_rng(random_state)
        return (rng.random(X.shape, dtype=np.float32) < X).astype(np.float32)

    return _apply(data, sample if stochastic else fixed)


def clean_rows(
    X: Any, *, impute: str | None = None, name: str = "X"
) -> tuple[np.ndarray, np.ndarray | None]:
    """``X`` with its NaN/inf handled, and the mask of rows kept (None if all were kept)."""
    check_choice("impute", impute, IMPUTE)
    if impute is None:
        return check_array(X, name=name), None
    # Validate everything except finiteness: infinities are replaced too.
    array = as_rectangular(X, name)
    finite_part = np.where(np.isfinite(array), array, 0) if array.dtype.kind == "f" else array
    check_array(finite_part, name=name)
    array = np.asarray(array, dtype=np.float32)
    flat = array.reshape(array.shape[0], -1)
    bad = ~np.isfinite(flat)
    if not bad.any():
        return array, None
    if impute == "drop":
        keep = ~bad.any(axis=1)
        if not keep.any():
            raise DataError(f"{name}: every row holds a NaN or inf; nothing is left to drop to")
        warnings.warn(
            f"{name}: dropped {int((~keep).sum())} of {len(keep)} rows holding NaN or inf",
            UserWarning,
            stacklevel=3,
        )
        return array[keep], keep
    empty = bad.all(axis=0)
    if empty.any():
        raise DataError(
            f"{name}: column {int(np.argmax(empty))} holds no finite value, so its "
            f"{impute} cannot be computed; drop that column"
        )
    masked = np.where(bad, np.nan, flat).astype(np.float64)
    fill = np.nanmean(masked, axis=0) if impute == "mean" else np.nanmedian(masked, axis=0)
    filled = np.where(bad, fill.astype(np.float32), flat)
    return filled.reshape(array.shape), None


def clean(X: Any, *, impute: str | None = None, name: str = "X") -> np.ndarray:
    """Reject NaN/inf (``impute=None``: the error names the first bad row and column), or
    replace them by the column ``"mean"``/``"median"``, or ``"drop"`` the rows holding them."""
    return clean_rows(X, impute=impute, name=name)[0]


def train_test_split(
    dataset: Dataset,
    test_size: float | int = 0.2,
    *,
    random_state: int | np.random.Generator | None = None,
    shuffle: bool = True,
) -> tuple[Dataset, Dataset]:
    """Split into (train, test); a float ``test_size`` is a fraction, an int a count."""
    n = dataset.n_samples
    if isinstance(test_size, bool) or not isinstance(test_size, int | float | np.number):
        raise ParameterError(f"test_size must be a fraction or a count, got {test_size!r}")
    if isinstance(test_size, int | np.integer):
        n_test = int(test_size)
    elif 0.0 < test_size < 1.0:
        n_test = int(np.ceil(test_size * n))
    else:
        raise ParameterError(f"test_size as a fraction must lie in (0, 1), got {test_size}")
    if not 1 <= n_test < n:
        raise ParameterError(
            f"test_size={test_size} leaves {n_test} test and {n - n_test} training samples of "
            f"{n}; both need at least one"
        )
    order = np.random.default_rng(random_state).permutation(n) if shuffle else np.arange(n)
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return dataset.subset(train), dataset.subset(test)
