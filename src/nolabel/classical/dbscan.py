"""DBSCAN with scikit-learn's exact labels, from a sparse eps-neighbour graph (CPU or GPU).

The eps-neighbour pairs come from a k-d tree (``scipy.spatial.cKDTree``) for low-dimensional
data on the CPU, or from a blocked brute-force search with matrix products otherwise (GPU,
or many features); neither ever holds an n x n matrix. Whether a pair is within ``eps`` is
decided in float64 from the original coordinates, the way scikit-learn's tree decides it, so
borderline pairs fall on the same side; clusters are the connected components of the
core-core part of the graph, numbered and completed with border points by scikit-learn's rule.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, ClusterMixin

from nolabel._device import resolve_device
from nolabel._validation import (
    check_choice,
    check_float,
    check_int,
    check_is_fitted,
    check_tensor,
)
from nolabel.persistence import Persistable
from nolabel.registry import register

ALGORITHMS = ("auto", "kd_tree", "brute")
# "auto" uses the k-d tree on the CPU up to this many features, brute force beyond it.
_TREE_MAX_FEATURES = 16
# Distances per block of the brute-force search: 2^23 float32 values, 32 MB.
_BLOCK_ELEMENTS = 1 << 23
# Coordinates gathered at once when distances of candidate pairs are recomputed exactly.
_EXACT_ELEMENTS = 1 << 20
_FLOAT32_UNIT = 2.0**-24
# The tree is asked for pairs within eps * (1 + this): a superset of the exact answer,
# whatever order the tree sums squared differences in; the exact test then trims it.
_TREE_SLACK = 1e-9


@contextlib.contextmanager
def _ieee_matmul():
    """Full float32 precision in matrix products (no TF32), restoring the user's setting."""
    previous = torch.get_float32_matmul_precision()
    if previous == "highest":
        yield
        return
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


def _as_tensor(array: np.ndarray) -> torch.Tensor:
    with warnings.catch_warnings():  # read-only arrays (memmaps) are only ever read here
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


def _reference(X, data: torch.Tensor) -> torch.Tensor:
    """The samples at the precision scikit-learn sees them: float64 unless given as float32.

    ``data`` is the validated float32 copy; float64 or integer input is taken again in
    float64 (scikit-learn's tree works on float64), other float input is exact in ``data``.
    """
    n = data.shape[0]
    if isinstance(X, torch.Tensor):
        if X.is_floating_point() and X.dtype != torch.float64:
            return data
        return X.detach().reshape(n, -1).to(device=data.device, dtype=torch.float64).contiguous()
    array = np.asarray(X)
    if array.dtype in (np.float32, np.float16):
        return data
    array = np.ascontiguousarray(array.reshape(n, -1), dtype=np.float64)
    return _as_tensor(array).to(data.device)


def _squared_distances(points: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Squared distances of the pairs (i, j) in float64, from the coordinates in ``points``.

    Up to 16 features the terms are added feature by feature in index order with one
    rounding per subtraction, square and addition: scikit-learn's ``euclidean_rdist``, so the
    results agree to the last bit with what its k-d tree compares against ``eps**2``. With
    more features scikit-learn works by brute force and matrix products, whose summation
    order is not fixed either, and the terms are summed in whatever order torch picks.
    """
    if points.device.type == "cpu":  # numpy gathers faster than torch on the CPU
        return torch.from_numpy(_squared_distances_numpy(points.numpy(), i.numpy(), j.numpy()))
    return _squared_distances_torch(points, i, j)


def _squared_distances_torch(
    points: torch.Tensor, i: torch.Tensor, j: torch.Tensor
) -> torch.Tensor:
    """:func:`_squared_distances` in torch, on the data's device (same arithmetic)."""
    d = points.shape[1]
    out = torch.empty(len(i), dtype=torch.float64, device=points.device)
    if d <= _TREE_MAX_FEATURES:
        columns = [points[:, k].double() for k in range(d)]
        for start in range(0, len(i), _EXACT_ELEMENTS):
            a, b = i[start:start + _EXACT_ELEMENTS], j[start:start + _EXACT_ELEMENTS]
            total = torch.zeros(len(a), dtype=torch.float64, device=points.device)
            for column in columns:
                term = column[a] - column[b]
                total += term.mul_(term)
            out[start:start + len(a)] = total
        return out
    rows = max(1, _EXACT_ELEMENTS // d)
    for start in range(0, len(i), rows):
        term = points[i[start:start + rows]].double() - points[j[start:start + rows]].double()
        out[start:start + len(term)] = term.mul_(term).sum(1)
    return out


def _squared_distances_numpy(coordinates: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """:func:`_squared_distances` for numpy arrays (same arithmetic)."""
    d = coordinates.shape[1]
    out = np.empty(len(i), dtype=np.float64)
    if d <= _TREE_MAX_FEATURES:
        columns = [coordinates[:, k].astype(np.float64) for k in range(d)]
        for start in range(0, len(i), _EXACT_ELEMENTS):
            a, b = i[start:start + _EXACT_ELEMENTS], j[start:start + _EXACT_ELEMENTS]
            total = np.zeros(len(a), dtype=np.float64)
            for column in columns:
                term = column[a] - column[b]
                term *= term
                total += term
            out[start:start + len(a)] = total
        return out
    rows = max(1, _EXACT_ELEMENTS // d)
    for start in range(0, len(i), rows):
        term = (coordinates[i[start:start + rows]].astype(np.float64)
                - coordinates[j[start:start + rows]])
        term *= term
        out[start:start + len(term)] = term.sum(1)
    return out


def _tree_pairs(points: torch.Tensor, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """All pairs i < j within ``eps``, found with a k-d tree (CPU)."""
    coordinates = points.cpu().numpy()
    tree = cKDTree(coordinates)
    pairs = tree.query_pairs(eps * (1.0 + _TREE_SLACK), output_type="ndarray")
    keep = _squared_distances_numpy(coordinates, pairs[:, 0], pairs[:, 1]) <= eps * eps
    return pairs[keep, 0], pairs[keep, 1]


def _centred_float32(points: torch.Tensor, rows: int) -> tuple[torch.Tensor, float]:
    """The samples minus their mean, times a power of two, in float32; and that factor.

    Centring makes the norms, and so the rounding errors of the matrix products, small; the
    power of two (an exact scaling) brings the largest coordinate near 1, so that squares
    neither overflow nor underflow in float32 whatever the units of the data.
    """
    n = points.shape[0]
    mean = points.sum(0, dtype=torch.float64) / n
    largest = max(float((points[s:s + rows].double() - mean).abs().max())
                  for s in range(0, n, rows))
    scale = 2.0 ** -float(np.floor(np.log2(largest))) if largest > 0 else 1.0
    out = torch.empty(points.shape, dtype=torch.float32, device=points.device)
    for start in range(0, n, rows):
        out[start:start + rows] = (points[start:start + rows].double() - mean) * scale
    return out, scale


def _brute_pairs(
    points: torch.Tensor, eps: float, rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs i < j within ``eps``, by blocks of rows against the rows after them.

    Squared distances ``|x|^2 - 2 x.y + |y|^2`` come from float32 matrix products on the
    data's device. Their rounding error is at most ``tol * (|x|^2 + |y|^2)`` (a worst-case
    bound for the products, the norms and the float32 cast; TF32 is switched off), so a
    pair clear of ``eps^2`` by more than that is decided at once and only the pairs inside
    that band are recomputed exactly in float64. The block is scanned once, against a
    per-row bound; the per-pair test runs on the few candidates it lets through.
    """
    n, d = points.shape
    eps2 = eps * eps
    X, scale = _centred_float32(points, rows)
    limit = min(eps2 * scale * scale, 1e38)  # eps^2 in the units of X, within float32 range
    norms = torch.cat([(X[s:s + rows] * X[s:s + rows]).sum(1) for s in range(0, n, rows)])
    largest = float(norms.max())
    tol = 2.0 * (2 * d + 16) * _FLOAT32_UNIT
    slack = 8.0 * _FLOAT32_UNIT * limit
    index_dtype = torch.int32 if n < 2**31 else torch.int64
    found_i, found_j = [], []
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        block = torch.addmm(norms[None, start:], X[start:stop], X[start:].T, alpha=-2.0)
        block.add_(norms[start:stop, None])
        reach = (norms[start:stop] + largest).mul_(tol).add_(limit + slack)
        local = torch.nonzero(block <= reach[:, None])
        local = local[local[:, 1] > local[:, 0]]  # each pair once, i < j
        value = block[local[:, 0], local[:, 1]]
        del block
        i, j = local[:, 0] + start, local[:, 1] + start
        margin = (norms[i] + norms[j]).mul_(tol).add_(slack)
        keep = value <= limit - margin
        unsure = torch.nonzero(~keep & (value <= margin.add_(limit))).flatten()
        if len(unsure):
            keep[unsure] = _squared_distances(points, i[unsure], j[unsure]) <= eps2
        found_i.append(i[keep].to(index_dtype).cpu())
        found_j.append(j[keep].to(index_dtype).cpu())
    return torch.cat(found_i).numpy(), torch.cat(found_j).numpy()


def _label(
    n: int, i: np.ndarray, j: np.ndarray, min_samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and core indices from the eps-graph's pairs i < j, by scikit-learn's rule."""
    counts = np.bincount(i, minlength=n) + np.bincount(j, minlength=n) + 1  # + the point
    core = counts >= min_samples
    core_indices = np.flatnonzero(core).astype(np.int64)
    labels = np.full(n, -1, dtype=np.int64)
    if not len(core_indices):
        return labels, core_indices
    core_i, core_j = core[i], core[j]
    both = core_i & core_j
    position = np.cumsum(core) - 1  # index among the core points
    n_core = len(core_indices)
    graph = csr_matrix(
        (np.ones(int(both.sum()), dtype=np.int8), (position[i[both]], position[j[both]])),
        shape=(n_core, n_core),
    )
    n_components, component = connected_components(graph, directed=False)
    # Number the components in the order of their smallest core index.
    _, first = np.unique(component, return_index=True)
    rank = np.empty(n_components, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(n_components)
    labels[core_indices] = rank[component]
    # A border point takes the smallest label among its core neighbours.
    to_j = core_i & ~core_j
    to_i = core_j & ~core_i
    border = np.concatenate([j[to_j], i[to_i]])
    if len(border):
        best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, border, np.concatenate([labels[i[to_j]], labels[j[to_i]]]))
        labels[border] = best[border]
    return labels, core_indices


@register("dbscan", "DBSCAN density clustering (Euclidean), scikit-learn's labels, CPU/GPU")
class DBSCAN(Persistable, ClusterMixin, BaseEstimator):
    """Density-based clustering (DBSCAN, Ester et al. 1996) with Euclidean distances.

    Gives the same ``labels_`` (same numbers, not only the same partition) and
    ``core_sample_indices_`` as ``sklearn.cluster.DBSCAN(eps, min_samples=min_samples)``.
    scikit-learn walks the samples in index order, starts a new cluster at each core sample
    not yet labelled, grows it depth-first through core samples, and a non-core sample takes
    the label of the first cluster that reaches it. That is the same as:

    - a **core sample** has at least ``min_samples`` samples (itself included) at distance
      ``<= eps``;
    - **clusters** are the connected components of the graph joining core samples at
      distance ``<= eps``, numbered 0, 1, ... in the order of their smallest core index;
    - a **border sample** (not core, with at least one core sample within ``eps``) takes the
      smallest cluster label among those core neighbours (clusters are filled one after the
      other in label order, so the first to reach it has the smallest label);
    - every other sample is noise, label ``-1``.

    ``fit`` computes it that way: it lists the pairs within ``eps`` (never an n x n matrix;
    memory grows with the number of such pairs, as scikit-learn's does), then takes
    connected components. Distances at the border of ``eps`` are decided in float64 from
    the original coordinates (float32 input as float32 values, like scikit-learn), summed
    feature by feature as scikit-learn's k-d tree does, so pairs one rounding away from
    ``eps`` fall on the same side. Beyond 15 features scikit-learn switches to float64
    matrix products, whose last bits no one else reproduces: a pair within about 1e-13
    (relative) of ``eps`` could then, in principle, be decided differently.

    When all samples are identical every sample is within ``eps`` of every other: one
    cluster (label 0) if there are at least ``min_samples`` of them, otherwise all noise.

    Parameters
    ----------
    eps : neighbourhood radius, > 0.
    min_samples : samples (the point itself included) within ``eps`` that make a core sample.
    algorithm : ``"auto"`` (k-d tree on the CPU with at most 16 features, brute force
        otherwise), ``"kd_tree"`` (always on the CPU) or ``"brute"`` (matrix products on
        ``device``). All give the same labels.
    chunk_size : rows per block in the brute-force search; ``None`` keeps each block of
        distances near 2^23 values (32 MB).
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...

    Attributes
    ----------
    labels_ : int64 array (n_samples,), cluster of every sample, ``-1`` for noise.
    core_sample_indices_ : sorted int64 array of the core samples' indices.
    components_ : the core samples, (n_core, n_features): float32 for float32 (or float16)
        input, float64 otherwise.
    n_features_in_ : features seen in ``fit``.
    """

    def __init__(
        self,
        eps: float = 0.5,
        min_samples: int = 5,
        *,
        algorithm: str = "auto",
        chunk_size: int | None = None,
        device: str = "auto",
    ) -> None:
        self.eps = eps
        self.min_samples = min_samples
        self.algorithm = algorithm
        self.chunk_size = chunk_size
        self.device = device

    def _check_params(self) -> tuple[float, int]:
        eps = check_float("eps", self.eps, minimum=0.0, strict=True)
        min_samples = check_int("min_samples", self.min_samples)
        check_choice("algorithm", self.algorithm, ALGORITHMS)
        if self.chunk_size is not None:
            check_int("chunk_size", self.chunk_size)
        return eps, min_samples

    def fit(self, X, y=None) -> DBSCAN:
        eps, min_samples = self._check_params()
        device = resolve_device(self.device)
        data = check_tensor(X, device=device)
        data = data.reshape(data.shape[0], -1)
        points = _reference(X, data)
        del data
        n, d = points.shape
        algorithm = self.algorithm
        if algorithm == "auto":
            use_tree = device.type == "cpu" and d <= _TREE_MAX_FEATURES
            algorithm = "kd_tree" if use_tree else "brute"
        if algorithm == "kd_tree":
            i, j = _tree_pairs(points, eps)
        else:
            rows = self.chunk_size or max(1, _BLOCK_ELEMENTS // n)
            with _ieee_matmul():
                i, j = _brute_pairs(points, eps, rows)
        self.labels_, self.core_sample_indices_ = _label(n, i, j, min_samples)
        core = torch.from_numpy(self.core_sample_indices_).to(points.device)
        self.components_ = points[core].cpu().numpy()
        self.n_features_in_ = d
        return self

    def _get_state(self):
        check_is_fitted(self, ["labels_"])
        tensors = {"labels": torch.from_numpy(self.labels_),
                   "core_sample_indices": torch.from_numpy(self.core_sample_indices_),
                   "components": torch.from_numpy(np.ascontiguousarray(self.components_))}
        return tensors, {"n_features_in_": self.n_features_in_}

    def _set_state(self, tensors, state):
        self.labels_ = tensors["labels"].numpy()
        self.core_sample_indices_ = tensors["core_sample_indices"].numpy()
        self.components_ = tensors["components"].numpy()
        for name, value in state.items():
            setattr(self, name, value)


__all__ = ["DBSCAN"]
