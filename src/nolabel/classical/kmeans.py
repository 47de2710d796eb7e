"""k-means in torch: k-means++ or random initialisation, Lloyd iterations, several restarts.

Same algorithm and stopping rule as scikit-learn's ``KMeans(algorithm="lloyd")`` (tolerance
relative to the data's mean variance, a final assignment step so that ``labels_`` match
``cluster_centers_``), computed with matrix products on whatever device the data lives on.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

from nolabel._device import resolve_device, seed_everything, torch_generator
from nolabel._validation import (
    check_choice,
    check_float,
    check_int,
    check_is_fitted,
    check_n_features,
    check_tensor,
)
from nolabel.errors import DataError, ParameterError
from nolabel.persistence import Persistable
from nolabel.registry import register

# Rows per distance block: bounds the (rows x n_clusters) distance matrix held at once.
_CHUNK_ELEMENTS = 1 << 24


def _squared_distances(X: torch.Tensor, x_sq: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    c_sq = (centers * centers).sum(1)
    return (x_sq[:, None] - 2.0 * (X @ centers.T) + c_sq[None, :]).clamp_min_(0.0)


def assign_runs(
    X: torch.Tensor, x_sq: torch.Tensor, centers: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest centre of every row under each of several runs' centres at once.

    ``centers`` is (runs, k, d); returns labels and squared distances of shape (n, runs).
    One matrix product serves all runs, so the data is streamed once per iteration, and rows
    go in blocks so the (rows x runs*k) distance matrix stays bounded.
    """
    runs, k, d = centers.shape
    flat = centers.reshape(runs * k, d)
    rows = max(1, _CHUNK_ELEMENTS // (runs * k))
    labels, distances = [], []
    for start in range(0, X.shape[0], rows):
        block = _squared_distances(X[start:start + rows], x_sq[start:start + rows], flat)
        best, index = block.view(-1, runs, k).min(dim=2)
        labels.append(index)
        distances.append(best)
    return torch.cat(labels), torch.cat(distances)


def assign(
    X: torch.Tensor, x_sq: torch.Tensor, centers: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest centre of every row and its squared distance."""
    labels, distances = assign_runs(X, x_sq, centers[None])
    return labels[:, 0], distances[:, 0]


def _uniform(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=generator, dtype=torch.float64).to(device)


def kmeans_plusplus(
    X: torch.Tensor, x_sq: torch.Tensor, n_clusters: int, generator: torch.Generator
) -> torch.Tensor:
    """Greedy k-means++ (Arthur & Vassilvitskii 2007) with 2 + log(k) trials per centre."""
    n = X.shape[0]
    trials = 2 + int(math.log(n_clusters))
    first = int(torch.randint(n, (1,), generator=generator))
    centers = [X[first]]
    closest = _squared_distances(X, x_sq, X[first:first + 1])[:, 0].double()
    for _ in range(1, n_clusters):
        potential = closest.sum()
        cumulative = torch.cumsum(closest, 0)
        targets = _uniform(trials, generator, X.device) * potential
        candidates = torch.searchsorted(cumulative, targets).clamp_(max=n - 1)
        to_candidates = _squared_distances(X, x_sq, X[candidates]).double()
        merged = torch.minimum(closest[:, None], to_candidates)
        best = int(merged.sum(0).argmin())
        closest = merged[:, best].contiguous()
        centers.append(X[candidates[best]])
    return torch.stack(centers)


def _relocate_empty(
    centers: torch.Tensor, counts: torch.Tensor, X: torch.Tensor, distances: torch.Tensor
) -> None:
    """Move the centres of empty clusters onto the points farthest from their centre."""
    empty = torch.nonzero(counts == 0).flatten()
    if empty.numel():
        far = torch.topk(distances, k=int(empty.numel())).indices
        centers[empty] = X[far]


def lloyd(
    X: torch.Tensor, x_sq: torch.Tensor, centers: torch.Tensor, max_iter: int, tol: float
) -> list[tuple[torch.Tensor, torch.Tensor, float, int]]:
    """Lloyd iterations for several runs at once, from ``centers`` of shape (runs, k, d).

    Each run stops when its summed squared centre shift is at most ``tol`` (absolute) or its
    labels no longer change; the runs still going share one distance computation per
    iteration. Returns (centres, labels, inertia, iterations) per run.
    """
    centers = centers.clone()
    runs, k, _ = centers.shape
    previous: list[torch.Tensor | None] = [None] * runs
    n_iter = [0] * runs
    active = list(range(runs))
    for iteration in range(1, max_iter + 1):
        if not active:
            break
        labels, distances = assign_runs(X, x_sq, centers[active])
        finished = []
        for column, run in enumerate(active):
            run_labels = labels[:, column]
            sums = torch.zeros_like(centers[run]).index_add_(0, run_labels, X)
            counts = torch.bincount(run_labels, minlength=k)
            updated = sums / counts.clamp_min(1)[:, None].to(sums.dtype)
            _relocate_empty(updated, counts, X, distances[:, column])
            shift = float(((updated - centers[run]) ** 2).sum())
            unchanged = previous[run] is not None and bool(torch.equal(previous[run], run_labels))
            centers[run], previous[run], n_iter[run] = updated, run_labels, iteration
            if unchanged or shift <= tol:
                finished.append(run)
        active = [run for run in active if run not in finished]
    labels, distances = assign_runs(X, x_sq, centers)
    inertia = distances.double().sum(0)
    return [(centers[r], labels[:, r], float(inertia[r]), n_iter[r]) for r in range(runs)]


@register("kmeans", "k-means (k-means++ or random init, Lloyd iterations, restarts) on CPU/GPU")
class KMeans(Persistable, ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means clustering on CPU or GPU.

    Parameters
    ----------
    n_clusters : number of clusters.
    init : ``"k-means++"``, ``"random"`` or an array of initial centres (n_clusters, n_features).
    n_init : restarts; the run with the lowest inertia is kept. ``"auto"`` is 1 for
        k-means++ and 10 for random init (scikit-learn's rule); forced to 1 for an array init.
    max_iter : Lloyd iterations per run.
    tol : convergence when the summed squared centre shift is at most ``tol`` times the mean
        per-feature variance of the data.
    random_state : seed for initialisation; the same seed gives the same result.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | np.ndarray = "k-means++",
        n_init: int | str = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.device = device

    def _check_params(self, n_samples: int) -> int:
        check_int("n_clusters", self.n_clusters)
        check_int("max_iter", self.max_iter)
        check_float("tol", self.tol, minimum=0.0)
        if self.n_clusters > n_samples:
            raise DataError(
                f"n_clusters={self.n_clusters} is larger than the number of samples ({n_samples})"
            )
        if isinstance(self.init, str):
            check_choice("init", self.init, ("k-means++", "random"))
        if self.n_init == "auto":
            return 1 if (not isinstance(self.init, str) or self.init == "k-means++") else 10
        n_init = check_int("n_init", self.n_init)
        return 1 if not isinstance(self.init, str) else n_init

    def _initial_centers(
        self, X: torch.Tensor, x_sq: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        if not isinstance(self.init, str):
            centers = check_tensor(self.init, device=X.device, name="init")
            if tuple(centers.shape) != (self.n_clusters, X.shape[1]):
                raise ParameterError(
                    f"init has shape {tuple(centers.shape)}, expected "
                    f"({self.n_clusters}, {X.shape[1]}) = (n_clusters, n_features)"
                )
            return centers.clone()
        if self.init == "random":
            index = torch.randperm(X.shape[0], generator=generator)[: self.n_clusters]
            return X[index.to(X.device)].clone()
        return kmeans_plusplus(X, x_sq, self.n_clusters, generator)

    def fit(self, X, y=None) -> KMeans:
        device = resolve_device(self.device)
        data = check_tensor(X, device=device)
        data = data.reshape(data.shape[0], -1)
        n_init = self._check_params(data.shape[0])
        seed = seed_everything(self.random_state)
        generator = torch_generator(seed)
        x_sq = (data * data).sum(1)
        tol = float(data.var(dim=0, unbiased=False).mean()) * self.tol
        starts = torch.stack([self._initial_centers(data, x_sq, generator)
                              for _ in range(n_init)])
        runs = lloyd(data, x_sq, starts, self.max_iter, tol)
        centers, labels, inertia, n_iter = min(runs, key=lambda run: run[2])
        self.cluster_centers_ = centers.cpu().numpy()
        self.labels_ = labels.cpu().numpy()
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = data.shape[1]
        return self

    def _validated(self, X) -> tuple[torch.Tensor, torch.Tensor]:
        check_is_fitted(self, ["cluster_centers_"])
        device = resolve_device(self.device)
        data = check_tensor(X, device=device)
        check_n_features(self, tuple(data.shape))
        data = data.reshape(len(data), -1)
        return data, torch.from_numpy(self.cluster_centers_).to(device)

    def predict(self, X) -> np.ndarray:
        data, centers = self._validated(X)
        labels, _ = assign(data, (data * data).sum(1), centers)
        return labels.cpu().numpy()

    def transform(self, X) -> np.ndarray:
        """Euclidean distance of every sample to every centre, shape (n_samples, n_clusters)."""
        data, centers = self._validated(X)
        return _squared_distances(data, (data * data).sum(1), centers).sqrt_().cpu().numpy()

    def score(self, X, y=None) -> float:
        """Opposite of the inertia of ``X`` under the fitted centres (higher is better)."""
        data, centers = self._validated(X)
        _, distances = assign(data, (data * data).sum(1), centers)
        return -float(distances.double().sum())

    def _get_state(self):
        check_is_fitted(self, ["cluster_centers_"])
        tensors = {"cluster_centers": torch.from_numpy(self.cluster_centers_),
                   "labels": torch.from_numpy(self.labels_)}
        return tensors, {"inertia_": self.inertia_, "n_iter_": self.n_iter_,
                         "n_features_in_": self.n_features_in_}

    def _set_state(self, tensors, state):
        self.cluster_centers_ = tensors["cluster_centers"].numpy()
        self.labels_ = tensors["labels"].numpy()
        for name, value in state.items():
            setattr(self, name, value)


__all__ = ["KMeans", "assign", "assign_runs", "kmeans_plusplus", "lloyd"]
