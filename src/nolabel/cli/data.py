"""The data a run was fitted on, described in config.json so that it can be loaded again.

A :class:`DataSpec` is what the user asked for (source, split, label column, NaN policy,
subsample, scaling, image size and channels, CSV delimiter). :func:`prepare` loads it and
fits the scaling; :func:`reload` loads it (or other data) again with the image transform and
the scaling statistics recorded at fit time, so every command on a run sees exactly the
numbers the model was fitted on, and new images are brought to the same size and channels.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

from nolabel.data import Dataset, load
from nolabel.data.registry import is_dataset_name
from nolabel.errors import DataError, ParameterError

SCALINGS = ("auto", "none", "standardize", "minmax", "binarize")


@dataclasses.dataclass
class DataSpec:
    source: str = ""
    split: str = "all"
    label_column: str | None = None
    impute: str | None = None
    limit: int | None = None
    scale: str = "auto"
    seed: int = 0
    statistics: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    image_size: list[int] | None = None  # (height, width); a list as JSON holds it
    channels: int | None = None
    resize: str = "crop"
    delimiter: str | None = None  # None: detected in each file read

    def __post_init__(self) -> None:
        if self.image_size is not None:
            self.image_size = [int(s) for s in self.image_size]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> DataSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in document.items() if k in known})


def _subsample(data: Dataset, limit: int | None, seed: int) -> Dataset:
    if limit is None or limit >= data.n_samples:
        return data
    if limit < 2:
        raise ParameterError(f"--limit must be at least 2, got {limit}")
    rows = np.sort(np.random.default_rng(seed).choice(data.n_samples, limit, replace=False))
    return data.subset(rows)


def _fit_statistics(scale: str, flat: np.ndarray) -> dict[str, list[float]]:
    if scale == "standardize":
        std = flat.std(axis=0, dtype=np.float64)
        return {"mean": flat.mean(axis=0, dtype=np.float64).tolist(),
                "std": np.where(std > 0, std, 1.0).tolist()}
    if scale == "minmax":
        low, high = flat.min(axis=0).astype(np.float64), flat.max(axis=0).astype(np.float64)
        return {"low": low.tolist(), "span": np.where(high > low, high - low, 1.0).tolist()}
    return {}


def _apply_scaling(scale: str, statistics: dict[str, list[float]], X: np.ndarray) -> np.ndarray:
    flat = X.reshape(len(X), -1).astype(np.float64)
    if scale == "binarize":
        return (X > 0.5).astype(np.float32)
    if scale in ("standardize", "minmax"):
        first, second = (("mean", "std") if scale == "standardize" else ("low", "span"))
        if len(statistics[first]) != flat.shape[1]:
            raise DataError(f"the data has {flat.shape[1]} features but the run was fitted on "
                            f"{len(statistics[first])}")
        flat = (flat - np.asarray(statistics[first])) / np.asarray(statistics[second])
        if scale == "minmax":
            flat = np.clip(flat, 0.0, 1.0)
        return flat.astype(np.float32).reshape(X.shape)
    return X


def _load(spec: DataSpec, verbose: int = 0) -> Dataset:
    named = is_dataset_name(spec.source)
    return load(spec.source, split=spec.split if named else "all",
                label_column=None if named else spec.label_column, impute=spec.impute,
                image_size=None if spec.image_size is None else tuple(spec.image_size),
                channels=spec.channels, resize=spec.resize, delimiter=spec.delimiter,
                verbose=verbose)


def prepare(spec: DataSpec, verbose: int = 0) -> tuple[Dataset, DataSpec]:
    """Load ``spec`` and fit its scaling; returns the data and the spec with statistics and
    ``scale`` resolved ("auto": standardise tables, leave images as they are). Images read
    with an ``image_size`` also record their channels, so that new images given to the run
    get both."""
    data = _subsample(_load(spec, verbose), spec.limit, spec.seed)
    if data.is_image and spec.image_size is not None and spec.channels is None:
        spec = dataclasses.replace(spec, channels=data.sample_shape[0])
    scale = spec.scale
    if scale == "auto":
        scale = "none" if data.is_image else "standardize"
    statistics = _fit_statistics(scale, data.flat())
    fitted = dataclasses.replace(spec, scale=scale, statistics=statistics)
    return dataclasses.replace(data, X=_apply_scaling(scale, statistics, data.X)), fitted


def reload(spec: DataSpec, source: str | None = None, split: str | None = None,
           limit: int | None = None, *, reading: dict[str, Any] | None = None,
           verbose: int = 0) -> tuple[Dataset, DataSpec]:
    """The run's data again, or ``source`` scaled with the run's fitted statistics; and the
    spec that was loaded. New data keep the run's image size, channels and resizing, but
    their own delimiter (detected unless given); ``reading`` overrides those (image_size,
    channels, resize, delimiter) where not None."""
    if source is not None:
        spec = dataclasses.replace(spec, source=source, split=split or "all", limit=limit,
                                   delimiter=None)
    elif split is not None or limit is not None:
        spec = dataclasses.replace(spec, split=split or spec.split,
                                   limit=spec.limit if limit is None else limit)
    given = {k: v for k, v in (reading or {}).items() if v is not None}
    if given:
        spec = dataclasses.replace(spec, **given)
    data = _subsample(_load(spec, verbose), spec.limit, spec.seed)
    return dataclasses.replace(data, X=_apply_scaling(spec.scale, spec.statistics, data.X)), spec


def fingerprint(X: np.ndarray) -> str:
    """SHA-256 of the prepared samples: tells whether two commands saw the same numbers."""
    return hashlib.sha256(np.ascontiguousarray(X, dtype=np.float32).tobytes()).hexdigest()


def model_input(data: Dataset, any_shape: bool) -> np.ndarray:
    """Images stay images for neural models (they flatten or convolve themselves); the
    classical estimators take one row of features per sample."""
    return data.X if any_shape else data.flat()


def unscale(spec: DataSpec, X: np.ndarray) -> np.ndarray:
    """Samples in the units of the original data (the inverse of the fitted scaling)."""
    shape, flat = X.shape, X.reshape(len(X), -1).astype(np.float64)
    if spec.scale == "standardize":
        flat = flat * np.asarray(spec.statistics["std"]) + np.asarray(spec.statistics["mean"])
    elif spec.scale == "minmax":
        flat = flat * np.asarray(spec.statistics["span"]) + np.asarray(spec.statistics["low"])
    else:
        return X
    return flat.astype(np.float32).reshape(shape)
