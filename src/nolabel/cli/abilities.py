"""Asking a fitted model for what it can do, found by registry.capabilities, never by name."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch

from nolabel import registry
from nolabel.errors import ParameterError

_VERBS = {"cluster": "cluster samples (no predict)", "embed": "embed samples (no transform)",
          "detect": "score anomalies (no score_samples)", "sample": "generate samples (no sample)"}


def as_numpy(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def require(name: str, model: Any, ability: str) -> registry.Capabilities:
    """The model's capabilities, or a ParameterError saying which one it lacks."""
    caps = registry.capabilities(model)
    able = getattr(caps, ability) or (ability == "cluster" and caps.training_clusters)
    if not able:
        others = [e.name for e in registry.entries()
                  if getattr(registry.capabilities(e.cls), ability)]
        raise ParameterError(f"{name} cannot {_VERBS[ability]}; models that can: "
                             f"{', '.join(others)}")
    return caps


def clusters(model: Any, X: np.ndarray, same_as_training: bool) -> np.ndarray:
    """Cluster of every row of ``X``. Models that only label their training data (DBSCAN)
    answer for that data alone."""
    if hasattr(model, "predict"):
        return as_numpy(model.predict(X)).astype(np.int64)
    if not same_as_training:
        raise ParameterError(f"{model._registry_name} labels only the data it was fitted on "
                             "and cannot assign new samples; use the run's own data")
    return as_numpy(model.labels_).astype(np.int64)


def codes(model: Any, X: np.ndarray) -> np.ndarray:
    return as_numpy(model.transform(X)).astype(np.float32)


def anomaly_scores(model: Any, X: np.ndarray) -> np.ndarray:
    """Higher = more anomalous: minus ``score_samples`` (which is higher = more normal)."""
    return -as_numpy(model.score_samples(X)).astype(np.float64)


def reconstructions(model: Any, X: np.ndarray) -> np.ndarray:
    if hasattr(model, "reconstruct"):
        return as_numpy(model.reconstruct(X))
    return as_numpy(model.inverse_transform(model.transform(X))).reshape(X.shape)


def draw(model: Any, n: int, seed: int, cluster: int | None = None) -> np.ndarray:
    """``n`` samples, seeded where ``sample`` takes a seed, of ``cluster`` where it can."""
    parameters = inspect.signature(model.sample).parameters
    options: dict[str, Any] = {}
    if "random_state" in parameters:
        options["random_state"] = seed
    if cluster is not None:
        if "cluster" not in parameters:
            raise ParameterError(f"{model._registry_name} cannot generate by cluster; "
                                 "leave out --cluster")
        options["cluster"] = cluster
    drawn = model.sample(n, **options)
    return as_numpy(drawn[0] if isinstance(drawn, tuple) else drawn)


def n_clusters(model: Any) -> int | None:
    value = getattr(model, "n_clusters", None)
    return int(value) if isinstance(value, int) else None
