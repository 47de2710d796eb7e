"""k-means in torch: k-means++ or random initialisation, Lloyd iterations, several restarts.

Same algorithm and stopping rule as scikit-learn's ``KMeans(algorithm="lloyd")`` (tolerance
relative to the data's mean variance, a final assignment step so that ``labels_`` match
``cluster_centers_``), on whatever device the data lives on; Lloyd's steps skip the points
that provably keep their cluster (see ``_kmeans_core``), and restarts (``n_init``) run one
after another, which measured faster than batching them (``_kmeans_core.lloyd``).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

from nolabel._device import resolve_device, resolve_seed, torch_generator
from nolabel._validation import (
    check_choice,
    check_float,
    check_int,
    check_is_fitted,
    check_n_features,
    check_tensor,
)
from nolabel.classical import _sharded
from nolabel.classical._kmeans_core import (
    assign,
    finite_inertia,
    kmeans_plusplus,
    lloyd,
    mean_variance,
    row_norms_sq,
    squared_distances,
)
from nolabel.errors import DataError, ParameterError
from nolabel.persistence import Persistable
from nolabel.registry import register
from nolabel.train import distributed


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

    # Under torchrun, fit sums statistics over processes: each process passes its own rows.
    _combines_processes = True

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
        """Cluster ``X``: an array, a tensor, or a ``.npy`` path / ``numpy.memmap`` read in
        blocks. Under ``torchrun`` every process passes its own share of the rows (or the
        same path, which is split between processes) and all end with the same centres."""
        device = resolve_device(self.device)
        distributed.setup(device)
        if _sharded.wants_shards(X):
            return self._fit_sharded(X, device)
        data = check_tensor(X, device=device)
        data = data.reshape(data.shape[0], -1)
        n_init = self._check_params(data.shape[0])
        seed = resolve_seed(self.random_state)
        generator = torch_generator(seed)
        x_sq = row_norms_sq(data)
        finite_inertia(float(x_sq.double().sum()))  # refuse overflowing data before the runs
        tol = mean_variance(data, x_sq) * self.tol
        starts = torch.stack([self._initial_centers(data, x_sq, generator)
                              for _ in range(n_init)])
        runs = lloyd(data, x_sq, starts, self.max_iter, tol)
        centers, labels, inertia, n_iter = min(runs, key=lambda run: run[2])
        finite_inertia(inertia)
        self.cluster_centers_ = centers.cpu().numpy()
        self.labels_ = labels.cpu().numpy()
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = data.shape[1]
        return self

    def _fit_sharded(self, X, device: torch.device) -> KMeans:
        shard = _sharded.Shard(X, device)
        n_init = self._check_params(shard.n_total)
        seed = resolve_seed(self.random_state)
        generator = torch_generator(seed)
        tol = _sharded.mean_variance(shard) * self.tol
        best = None
        for run in range(n_init):
            if isinstance(self.init, str):
                start = _sharded.seed_centers(shard, self.n_clusters, self.init, generator,
                                              seed + run)
            else:
                start = self._initial_centers(torch.empty(0, shard.n_features, device=device),
                                              None, generator)
            result = _sharded.lloyd(shard, start, self.max_iter, tol)
            if best is None or result[2] < best[2]:
                best = result
        centers, labels, self.inertia_, self.n_iter_ = best
        finite_inertia(self.inertia_)
        self.cluster_centers_ = centers.cpu().numpy()
        self.labels_ = labels.cpu().numpy()
        self.n_features_in_ = shard.n_features
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
        labels, _ = assign(data, row_norms_sq(data), centers)
        return labels.cpu().numpy()

    def transform(self, X) -> np.ndarray:
        """Euclidean distance of every sample to every centre, shape (n_samples, n_clusters)."""
        data, centers = self._validated(X)
        return squared_distances(data, row_norms_sq(data), centers).sqrt_().cpu().numpy()

    def score(self, X, y=None) -> float:
        """Opposite of the inertia of ``X`` under the fitted centres (higher is better)."""
        data, centers = self._validated(X)
        _, distances = assign(data, row_norms_sq(data), centers)
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


__all__ = ["KMeans"]
