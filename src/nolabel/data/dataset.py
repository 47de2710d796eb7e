"""The one container every loader returns: float32 samples, optional integer labels, a name."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from nolabel._validation import check_array
from nolabel.errors import DataError


@dataclasses.dataclass(repr=False, eq=False)
class Dataset:
    """Samples ``X`` and, when known, labels ``y`` (used only to evaluate, never to fit).

    ``X`` is float32: ``(n, d)`` for tables, ``(n, c, h, w)`` for images (values in [0, 1]
    for the built-in image sets). ``y`` is int64 of length ``n``. ``classes`` names the label
    values ``0 .. len(classes) - 1`` when the source had names (folders, text labels).
    Everything is checked once, on construction; code downstream can rely on it.
    """

    X: np.ndarray
    y: np.ndarray | None = None
    name: str = "data"
    source: str = ""
    classes: tuple[str, ...] | None = None
    feature_names: tuple[str, ...] | None = None  # a table's column names, from its header

    def __post_init__(self) -> None:
        self.X = check_array(self.X, name=f"{self.name}: X")
        if self.X.ndim not in (2, 4):
            raise DataError(
                f"{self.name}: X must be (n, features) or images (n, channels, height, width), "
                f"got shape {self.X.shape}"
            )
        if self.feature_names is not None:
            self.feature_names = tuple(str(n) for n in self.feature_names)
            if self.X.ndim != 2 or len(self.feature_names) != self.X.shape[1]:
                raise DataError(
                    f"{self.name}: {len(self.feature_names)} feature names for samples of "
                    f"shape {self.X.shape[1:]}; names are for the columns of a table"
                )
        if self.y is not None:
            self.y = _check_labels(self.y, self.X.shape[0], self.name)
        if self.classes is not None:
            self.classes = tuple(str(c) for c in self.classes)
            if (
                self.y is not None
                and self.y.size
                and not 0 <= self.y.min() <= self.y.max() < len(self.classes)
            ):
                raise DataError(
                    f"{self.name}: labels run from {self.y.min()} to {self.y.max()} but only "
                    f"{len(self.classes)} class names were given"
                )

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.X.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.sample_shape))

    @property
    def is_image(self) -> bool:
        return self.X.ndim == 4

    def flat(self) -> np.ndarray:
        """``X`` as ``(n, d)``, a view when possible."""
        return self.X.reshape(self.n_samples, -1)

    def subset(self, indices: Any) -> Dataset:
        """The samples at ``indices`` (an index array or boolean mask), labels kept aligned."""
        y = None if self.y is None else self.y[indices]
        return dataclasses.replace(self, X=self.X[indices], y=y)

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        labels = "no labels" if self.y is None else f"{len(np.unique(self.y))} label values"
        return (
            f"Dataset(name={self.name!r}, X={self.X.shape} float32, {labels}, "
            f"source={self.source!r})"
        )


def _check_labels(y: Any, n_samples: int, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{name}: y must be 1-D (one label per sample), got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise DataError(f"{name}: X has {n_samples} samples but y has {y.shape[0]} labels")
    if y.dtype.kind in "iub":
        return y.astype(np.int64)
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y)) | (np.abs(y) >= 2.0**62)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"{name}: labels must be integers, but y[{row}] is {y[row].item()!r}; "
                "text labels are encoded by the file loaders"
            )
        return y.astype(np.int64)
    raise DataError(f"{name}: labels must be integers, got dtype {y.dtype}")


def encode_labels(
    values: Sequence[Any] | np.ndarray, name: str = "labels"
) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """Numeric labels as int64; text labels as codes 0.. plus the sorted names they stand for."""
    array = np.asarray(values)
    if array.dtype.kind in "USO":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            text = array.astype(str)
            empty = np.char.str_len(np.char.strip(text)) == 0
            if empty.any():
                raise DataError(f"{name}: label {int(np.argmax(empty))} is empty") from None
            names, codes = np.unique(text, return_inverse=True)
            return codes.astype(np.int64), tuple(str(n) for n in names)
    return _check_labels(array, array.shape[0], name), None


class RawData(NamedTuple):
    """What a file reader found, before the NaN policy is applied and a Dataset is built."""

    X: np.ndarray
    y: np.ndarray | None = None
    classes: tuple[str, ...] | None = None
    notes: tuple[str, ...] = ()  # how the source was read (delimiter, resizing): verbose output
    feature_names: tuple[str, ...] | None = None  # a table's header, label column left out


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Where a named dataset is now (``available``) or, if it is not, how to get it."""

    name: str
    description: str
    available: bool
    where: str
