"""Density estimation in torch (CPU or GPU, float64): one Gaussian, or a Gaussian kernel density.

``GaussianDensity`` is a single multivariate normal fitted by maximum likelihood. Its
log-density goes through the Cholesky factor of the covariance; ``reg_covar`` (added to the
covariance diagonal) keeps degenerate data (a constant feature, identical points, fewer
samples than features) positive definite, so every score stays finite.

``KernelDensity`` follows ``scipy.stats.gaussian_kde``: the kernel covariance is the data
covariance times ``factor**2``, with Scott's or Silverman's factor, a given one, or one chosen
by cross-validated held-out log-likelihood. ``covariance="identity"`` gives scikit-learn's
isotropic kernel instead, with ``bandwidth`` the kernel standard deviation. The log-density is
evaluated in blocks of query rows (a query x training matrix product, then a logsumexp), so
memory stays bounded, all in float64.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, DensityMixin

from nolabel._device import resolve_device, resolve_seed, torch_generator
from nolabel._validation import (
    as_output,
    check_choice,
    check_float,
    check_int,
    check_is_fitted,
    check_n_features,
    check_tensor,
)
from nolabel.classical.pca import matmul, row_blocks
from nolabel.errors import DataError, ParameterError
from nolabel.persistence import Persistable
from nolabel.registry import register

COVARIANCE_TYPES = ("full", "diag", "spherical")
KDE_BANDWIDTHS = ("scott", "silverman", "cv")
KDE_COVARIANCES = ("data", "identity")
_LOG_2PI = math.log(2 * math.pi)
# First diagonal jitter tried on a covariance that is not positive definite, relative to its
# mean diagonal; multiplied by 10 until the Cholesky factorisation succeeds.
_JITTER = 1e-6
# A data covariance whose Cholesky pivots fall below this fraction of the variances is
# treated as singular (collinear features), as one that is not positive definite.
_MIN_PIVOT = 1e-12
# Default CV grid, as multiples of Scott's bandwidth.
_GRID = (0.05, 2.0, 20)


def _cholesky(covariance: torch.Tensor, what: str, advice: str,
              min_pivot: float = 0.0) -> torch.Tensor:
    """Lower Cholesky factor; a matrix that is not positive definite gets a growing diagonal
    jitter (in place, so the stored covariance matches the factor) and a warning.

    With ``min_pivot > 0`` a matrix also counts as singular when some squared pivot
    ``L_jj**2`` (the variance of feature j left unexplained by the features before it) is
    below ``min_pivot`` times that feature's variance: collinear features.
    """
    factor, info = torch.linalg.cholesky_ex(covariance)
    if int(info) == 0 and bool(
            (factor.diagonal().square() > min_pivot * covariance.diagonal()).all()):
        return factor
    scale = float(covariance.diagonal().mean()) if len(covariance) else 1.0
    scale = scale if scale > 0 and math.isfinite(scale) else 1.0
    eye = torch.eye(len(covariance), dtype=covariance.dtype, device=covariance.device)
    jitter = _JITTER * scale
    while True:
        factor, info = torch.linalg.cholesky_ex(covariance + jitter * eye)
        if int(info) == 0:
            covariance.add_(jitter * eye)
            warnings.warn(f"{what} is singular or not positive definite ({advice}); added "
                          f"{jitter:.3g} to its diagonal", UserWarning, stacklevel=3)
            return factor
        jitter *= 10


def _whiten(X: torch.Tensor, mean: torch.Tensor, cholesky: torch.Tensor | None) -> torch.Tensor:
    """``L^{-1} (x - mean)`` for every row (float64), by triangular solves in row blocks;
    ``cholesky=None`` stands for the identity (centring only)."""
    parts = []
    for rows in row_blocks(X.shape[0], X.shape[1]):
        centred = X[rows].double() - mean
        if cholesky is not None:
            centred = torch.linalg.solve_triangular(cholesky, centred.T, upper=False).T
        parts.append(centred)
    return torch.cat(parts)


def _weighted_moments(X: torch.Tensor, weights: torch.Tensor, covariance: str | None,
                      unbiased: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Weighted mean and covariance (weights summing to 1), float64, in row blocks.

    ``covariance``: ``"full"`` (a matrix), ``"diag"`` (the variances) or None (mean only).
    ``unbiased`` divides by ``1 - sum(w**2)`` as ``numpy.cov(X.T, aweights=w)`` (n - 1 when
    unweighted), else the maximum likelihood covariance. Rows are first taken relative to
    the first row, so a constant feature has exactly zero variance, not a rounding residue.
    """
    n, d = X.shape
    offset = X[0].double()
    shift = torch.zeros(d, dtype=torch.float64, device=X.device)
    for rows in row_blocks(n, d):
        shift += weights[rows] @ (X[rows].double() - offset)
    if covariance is None:
        return offset + shift, None
    shape = (d, d) if covariance == "full" else (d,)
    result = torch.zeros(shape, dtype=torch.float64, device=X.device)
    for rows in row_blocks(n, d):
        centred = (X[rows].double() - offset) - shift
        if covariance == "full":
            result += matmul(centred.T, centred * weights[rows, None])
        else:
            result += weights[rows] @ centred.square()
    if unbiased:
        result /= 1.0 - float(weights.square().sum())
    return offset + shift, result


def _generator(random_state) -> torch.Generator:
    return torch_generator(resolve_seed(random_state))


# -- one Gaussian -------------------------------------------------------------------------


@register("gaussian-density", "a single multivariate Gaussian fitted by maximum likelihood")
class GaussianDensity(Persistable, DensityMixin, BaseEstimator):
    """One multivariate normal distribution, fitted by maximum likelihood (float64).

    Parameters
    ----------
    covariance_type : ``"full"`` (a d x d matrix), ``"diag"`` (per-feature variances) or
        ``"spherical"`` (one variance shared by all features).
    reg_covar : added to the covariance diagonal. It keeps degenerate data (constant
        features, identical points, n_samples <= n_features) positive definite, so scores
        stay finite; with ``reg_covar=0`` such data gets the smallest sufficient jitter
        (1e-6 x the mean variance, times 10 until it works) and a ``UserWarning``.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...

    Attributes
    ----------
    mean_ : (n_features,). covariance_ : (n_features, n_features) for ``"full"``,
        (n_features,) for ``"diag"``, a 0-d array for ``"spherical"``; maximum likelihood
        (divided by n_samples) plus ``reg_covar``.
    precision_cholesky_ : ``L^{-T}`` for ``"full"`` (so ``precision = P P^T``), else
        ``covariance_ ** -0.5``.
    """

    def __init__(self, covariance_type: str = "full", *, reg_covar: float = 1e-6,
                 device: str = "auto") -> None:
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.device = device

    def fit(self, X, y=None) -> GaussianDensity:
        check_choice("covariance_type", self.covariance_type, COVARIANCE_TYPES)
        check_float("reg_covar", self.reg_covar, minimum=0.0)
        device = resolve_device(self.device)
        data = check_tensor(X, device=device, allow_nd=False)
        n, d = data.shape
        uniform = torch.full((n,), 1.0 / n, dtype=torch.float64, device=device)
        kind = "full" if self.covariance_type == "full" else "diag"
        mean, covariance = _weighted_moments(data, uniform, kind, unbiased=False)
        if self.covariance_type == "full":
            covariance.diagonal().add_(self.reg_covar)
            factor = _cholesky(covariance, "the covariance",
                               "degenerate data with reg_covar too small")
            eye = torch.eye(d, dtype=torch.float64, device=device)
            precision_cholesky = torch.linalg.solve_triangular(factor, eye, upper=False).T
        else:
            covariance = covariance + self.reg_covar
            if self.covariance_type == "spherical":
                covariance = covariance.mean()
            bad = covariance <= 0
            if bool(bad.any()):
                positive = covariance[~bad]
                scale = float(positive.mean()) if positive.numel() else 1.0
                covariance = torch.where(bad, torch.full_like(covariance, _JITTER * scale),
                                         covariance)
                warnings.warn(
                    f"the covariance has {int(bad.sum())} zero variance(s) (degenerate data "
                    f"with reg_covar=0); set them to {_JITTER * scale:.3g}",
                    UserWarning, stacklevel=2)
            precision_cholesky = covariance.rsqrt()
        self.mean_ = mean.cpu().numpy()
        self.covariance_ = covariance.cpu().numpy()
        self.precision_cholesky_ = precision_cholesky.cpu().numpy()
        self.n_features_in_ = d
        return self

    def score_samples(self, X):
        """Log-density of every sample, in nats (float64)."""
        check_is_fitted(self, ["mean_"])
        device = resolve_device(self.device)
        data = check_tensor(X, device=device, allow_nd=False)
        check_n_features(self, tuple(data.shape))
        mean = torch.from_numpy(self.mean_).to(device)
        precision = torch.from_numpy(np.asarray(self.precision_cholesky_)).to(device)
        d = self.n_features_in_
        if self.covariance_type == "full":
            log_det = float(precision.diagonal().log().sum())  # = -0.5 log det(covariance)
        elif self.covariance_type == "diag":
            log_det = float(precision.log().sum())
        else:
            log_det = d * float(precision.log())
        parts = []
        for rows in row_blocks(data.shape[0], d):
            centred = data[rows].double() - mean
            scaled = matmul(centred, precision) if self.covariance_type == "full" else (
                centred * precision)
            parts.append(scaled.square().sum(1))
        mahalanobis = torch.cat(parts)
        return as_output(-0.5 * (d * _LOG_2PI + mahalanobis) + log_det, X)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of ``X``."""
        return float(torch.as_tensor(self.score_samples(X)).mean())

    def full_covariance(self) -> np.ndarray:
        """``covariance_`` as a (n_features, n_features) matrix, whatever its type."""
        check_is_fitted(self, ["mean_"])
        covariance = np.asarray(self.covariance_)
        if self.covariance_type == "full":
            return covariance.copy()
        return np.diag(np.broadcast_to(covariance, (self.n_features_in_,)).astype(np.float64))

    def sample(self, n_samples: int = 1, random_state: int | None = None) -> np.ndarray:
        """Draw ``n_samples`` points (float64 numpy array); same ``random_state``, same draw."""
        check_is_fitted(self, ["mean_"])
        check_int("n_samples", n_samples)
        noise = torch.randn(n_samples, self.n_features_in_, generator=_generator(random_state),
                            dtype=torch.float64).numpy()
        covariance = np.asarray(self.covariance_)
        if self.covariance_type == "full":
            noise = noise @ np.linalg.cholesky(covariance).T
        else:
            noise = noise * np.sqrt(covariance)
        return self.mean_ + noise

    def _get_state(self):
        check_is_fitted(self, ["mean_"])
        tensors = {name: torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                   for name in ("mean_", "covariance_", "precision_cholesky_")}
        return tensors, {"n_features_in_": self.n_features_in_}

    def _set_state(self, tensors, state):
        for name, tensor in tensors.items():
            setattr(self, name, tensor.numpy())
        self.n_features_in_ = state["n_features_in_"]


# -- kernel density -----------------------------------------------------------------------


def _check_weights(sample_weight, n: int, device: torch.device) -> torch.Tensor:
    """Normalised float64 weights (summing to 1); uniform when ``sample_weight`` is None."""
    if sample_weight is None:
        return torch.full((n,), 1.0 / n, dtype=torch.float64, device=device)
    if isinstance(sample_weight, torch.Tensor):
        weights = sample_weight.detach().to(device=device, dtype=torch.float64)
    else:
        try:
            weights = torch.from_numpy(np.asarray(sample_weight, dtype=np.float64)).to(device)
        except (TypeError, ValueError) as exc:
            raise DataError(f"sample_weight is not numeric: {exc}") from None
    if tuple(weights.shape) != (n,):
        raise DataError(
            f"sample_weight has shape {tuple(weights.shape)}, expected ({n},) = (n_samples,)")
    if not bool(torch.isfinite(weights).all()) or bool((weights < 0).any()):
        raise DataError("sample_weight must be finite and non-negative")
    total = float(weights.sum())
    if total <= 0:
        raise DataError("sample_weight sums to zero: at least one sample needs a positive weight")
    return weights / total


# Squared distances below this fraction of the points' squared norms are rounding: the query
# is that point (for leave-one-out scoring).
_SAME_POINT = 1e-9


def log_kernel_sums(queries: torch.Tensor, points: torch.Tensor, log_weights: torch.Tensor,
                    bandwidths: list[float], leave_one_out: bool = False) -> torch.Tensor:
    """``logsumexp_i(log w_i - |q - p_i|^2 / (2 h^2))`` for every query and every ``h``.

    Returns (len(bandwidths), n_queries), float64. Queries go in row blocks, each one query x
    points matrix product; the squared distances of a block serve every bandwidth.

    ``leave_one_out``: a query that is one of the points (to rounding) leaves that point
    out, and the other weights are renormalised: the density the other points give it.
    """
    result = torch.empty(len(bandwidths), queries.shape[0], dtype=torch.float64,
                         device=queries.device)
    point_norms = points.square().sum(1)
    for rows in row_blocks(queries.shape[0], points.shape[0]):
        block = queries[rows]
        block_norms = block.square().sum(1)
        distances = matmul(block, points.T).mul_(-2.0)
        distances += block_norms[:, None]
        distances += point_norms[None, :]
        distances.clamp_min_(0.0)
        renormalise = 0.0
        if leave_one_out:
            renormalise = torch.zeros(len(block), dtype=torch.float64, device=queries.device)
            nearest = distances.argmin(1)
            same = distances.gather(1, nearest[:, None])[:, 0] <= _SAME_POINT * (
                block_norms + point_norms[nearest])
            which = torch.nonzero(same)[:, 0]
            distances[which, nearest[which]] = math.inf
            left = (-log_weights[nearest[which]].exp()).log1p()  # log(1 - w_i)
            renormalise[which] = -left
        for index, bandwidth in enumerate(bandwidths):
            logits = distances * (-0.5 / bandwidth**2) + log_weights
            result[index, rows] = torch.logsumexp(logits, dim=1) + renormalise
    return result


@register("kde", "Gaussian kernel density (scipy gaussian_kde bandwidths, or chosen by CV)")
class KernelDensity(Persistable, DensityMixin, BaseEstimator):
    """Gaussian kernel density estimate, compatible with ``scipy.stats.gaussian_kde``.

    Parameters
    ----------
    bandwidth : with ``covariance="data"`` the kernel covariance is the (weighted, unbiased)
        data covariance times ``factor**2``, where the factor is Scott's
        ``n_eff ** (-1 / (d + 4))`` (``"scott"``), Silverman's
        ``(n_eff * (d + 2) / 4) ** (-1 / (d + 4))`` (``"silverman"``), the given positive
        float (as ``gaussian_kde``'s scalar ``bw_method``), or ``"cv"``: the value of
        ``bandwidth_grid`` with the best ``cv``-fold cross-validated held-out
        log-likelihood. ``n_eff = 1 / sum(w**2)`` for weights normalised to sum 1 (n when
        unweighted), as scipy.
        With ``covariance="identity"`` the kernel is isotropic, ``h**2 I``, as
        ``sklearn.neighbors.KernelDensity``'s Gaussian kernel: a float ``bandwidth`` is ``h``,
        and ``"scott"``/``"silverman"`` give ``h`` = their factor x the mean per-feature
        standard deviation of the data (scikit-learn uses the bare factor, which assumes
        standardised data).
    covariance : ``"data"`` (scipy's kernel shape) or ``"identity"`` (isotropic).
    cv : folds for ``bandwidth="cv"`` (at least 2).
    bandwidth_grid : candidate bandwidths for ``"cv"`` (factors, or ``h`` for
        ``covariance="identity"``); None is 20 values log-spaced from 0.05 to 2 times the
        Scott bandwidth. Cross-validation costs about ``len(grid)`` kernel evaluations of
        all pairs of samples.
    random_state : seed of the CV folds.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...

    Attributes
    ----------
    bandwidth_ : the factor used (covariance="data") or the kernel standard deviation ``h``
        (covariance="identity").
    covariance_ : the kernel covariance (n_features square), as ``gaussian_kde.covariance``.
    mean_ : the weighted data mean. weights_ : the normalised sample weights.
    reference_cholesky_ : ``L``, the Cholesky factor of the data covariance (the identity for
        ``covariance="identity"``); ``covariance_ = bandwidth_**2 L L^T``.
    points_ : the training points in whitened coordinates ``L^{-1} (x - mean_)``.
    cv_scores_ : mean held-out log-likelihood per grid value (``"cv"`` only), with
        ``bandwidth_grid_`` the grid used.

    Notes
    -----
    ``score`` is the mean log-likelihood (scikit-learn's ``KernelDensity.score`` is the sum).
    ``fit(X, sample_weight=w)`` follows scipy's weighted KDE: weights are normalised, so
    scaling them changes nothing, and they are reliability weights (a weight of 2 is not the
    same as a repeated row when the bandwidth comes from the data). A singular data
    covariance (a constant feature, fewer samples than features) is regularised with a
    small diagonal jitter and a warning, where scipy raises: consider PCA first, or
    ``covariance="identity"``.
    """

    def __init__(
        self,
        bandwidth: str | float = "scott",
        *,
        covariance: str = "data",
        cv: int = 5,
        bandwidth_grid=None,
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        self.bandwidth = bandwidth
        self.covariance = covariance
        self.cv = cv
        self.bandwidth_grid = bandwidth_grid
        self.random_state = random_state
        self.device = device

    def _check_params(self) -> None:
        check_choice("covariance", self.covariance, KDE_COVARIANCES)
        if isinstance(self.bandwidth, str):
            check_choice("bandwidth", self.bandwidth, KDE_BANDWIDTHS)
        else:
            check_float("bandwidth", self.bandwidth, minimum=0.0, strict=True)
        if self.bandwidth == "cv":
            check_int("cv", self.cv, minimum=2)

    def _grid(self, reference: float) -> list[float]:
        if self.bandwidth_grid is None:
            low, high, count = _GRID
            return (reference * np.geomspace(low, high, count)).tolist()
        grid = np.asarray(self.bandwidth_grid, dtype=np.float64).reshape(-1)
        if grid.size == 0 or not np.isfinite(grid).all() or (grid <= 0).any():
            raise ParameterError(
                f"bandwidth_grid must hold positive finite numbers, got {self.bandwidth_grid!r}")
        return grid.tolist()

    def fit(self, X, y=None, sample_weight=None) -> KernelDensity:
        self._check_params()
        device = resolve_device(self.device)
        data = check_tensor(X, device=device, allow_nd=False, min_samples=2)
        n, d = data.shape
        weights = _check_weights(sample_weight, n, device)
        n_eff = 1.0 / float(weights.square().sum())
        identity = self.covariance == "identity"
        # A fixed isotropic kernel needs no covariance of the data.
        needs_covariance = not identity or isinstance(self.bandwidth, str)
        if needs_covariance and n_eff - 1.0 <= 1e-12 * n_eff:
            raise DataError("sample_weight puts all the weight on one sample: the data "
                            "covariance (and so the bandwidth) is undefined")
        mean, covariance = _weighted_moments(data, weights,
                                             "full" if needs_covariance else None)
        eye = torch.eye(d, dtype=torch.float64, device=device)
        if identity:
            reference, scale = eye, 1.0
            if covariance is not None:
                scale = float(covariance.diagonal().clamp_min(0.0).sqrt().mean())
                if not scale > 0:
                    raise DataError(
                        "every feature is constant, so a Scott, Silverman or CV bandwidth "
                        "would be 0: give bandwidth a positive float")
        else:
            reference = _cholesky(covariance, "the data covariance",
                                  "a constant or collinear feature, or n_samples <= n_features",
                                  min_pivot=_MIN_PIVOT)
            scale = 1.0
        points = _whiten(data, mean, None if identity else reference)
        scott = n_eff ** (-1.0 / (d + 4))
        if self.bandwidth == "cv":
            grid = self._grid(scott * scale)
            scores = self._cross_validate(points, weights, grid)
            bandwidth = grid[int(np.argmax(scores))]
            self.bandwidth_grid_ = np.asarray(grid)
            self.cv_scores_ = scores - float(reference.diagonal().log().sum())
        elif self.bandwidth == "scott":
            bandwidth = scott * scale
        elif self.bandwidth == "silverman":
            bandwidth = (n_eff * (d + 2) / 4.0) ** (-1.0 / (d + 4)) * scale
        else:
            bandwidth = float(self.bandwidth)
        self.bandwidth_ = float(bandwidth)
        self.mean_ = mean.cpu().numpy()
        self.weights_ = weights.cpu().numpy()
        self.covariance_ = (reference @ reference.T * bandwidth**2).cpu().numpy()
        self.reference_cholesky_ = reference.cpu().numpy()
        self.points_ = points.cpu().numpy()
        self.n_features_in_ = d
        return self

    def _cross_validate(self, points: torch.Tensor, weights: torch.Tensor,
                        grid: list[float]) -> np.ndarray:
        """Held-out log-likelihood (in the whitened space) for every bandwidth in ``grid``,
        averaged over all samples (each held out once), weighted by ``weights``."""
        n, d = points.shape
        if n < self.cv:
            raise DataError(f"bandwidth='cv' with cv={self.cv} folds needs at least {self.cv} "
                            f"samples, got {n}")
        order = torch.randperm(n, generator=_generator(self.random_state)).to(points.device)
        folds = torch.tensor_split(order, self.cv)
        total = torch.zeros(len(grid), dtype=torch.float64, device=points.device)
        log_norms = torch.tensor([d * math.log(h) + 0.5 * d * _LOG_2PI for h in grid],
                                 dtype=torch.float64, device=points.device)
        for fold in folds:
            keep = torch.ones(n, dtype=torch.bool, device=points.device)
            keep[fold] = False
            train_weights = weights[keep]
            mass = float(train_weights.sum())
            if mass <= 0:
                raise DataError("a CV fold has no training weight left; lower cv")
            sums = log_kernel_sums(points[fold], points[keep],
                                   (train_weights / mass).log(), grid)
            total += ((sums - log_norms[:, None]) * weights[fold][None, :]).sum(1)
        return total.cpu().numpy()

    def score_samples(self, X, *, leave_one_out: bool = False):
        """Log-density of every sample, in nats (float64).

        ``leave_one_out=True`` scores a sample that is one of the training points by the
        density of the other points: scoring the training data itself, each point's own
        kernel otherwise dominates wherever the bandwidth is small next to the gaps between
        points, and every point scores about the same.
        """
        check_is_fitted(self, ["points_"])
        device = resolve_device(self.device)
        data = check_tensor(X, device=device, allow_nd=False)
        check_n_features(self, tuple(data.shape))
        reference = torch.from_numpy(self.reference_cholesky_).to(device)
        identity = self.covariance == "identity"
        queries = _whiten(data, torch.from_numpy(self.mean_).to(device),
                          None if identity else reference)
        weights = torch.from_numpy(self.weights_).to(device)
        d, h = self.n_features_in_, self.bandwidth_
        sums = log_kernel_sums(queries, torch.from_numpy(self.points_).to(device),
                               weights.log(), [h], leave_one_out)[0]
        log_norm = d * math.log(h) + 0.5 * d * _LOG_2PI + float(reference.diagonal().log().sum())
        return as_output(sums - log_norm, X)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of ``X`` (scikit-learn's KernelDensity returns the sum)."""
        return float(torch.as_tensor(self.score_samples(X)).mean())

    def sample(self, n_samples: int = 1, random_state: int | None = None) -> np.ndarray:
        """Draw ``n_samples`` points (float64): a training point picked by weight plus kernel
        noise. The same ``random_state`` gives the same draw."""
        check_is_fitted(self, ["points_"])
        check_int("n_samples", n_samples)
        generator = _generator(random_state)
        chosen = torch.multinomial(torch.from_numpy(self.weights_), n_samples,
                                   replacement=True, generator=generator).numpy()
        noise = torch.randn(n_samples, self.n_features_in_, generator=generator,
                            dtype=torch.float64).numpy()
        whitened = self.points_[chosen] + self.bandwidth_ * noise
        return self.mean_ + whitened @ self.reference_cholesky_.T

    _ARRAYS = ("mean_", "weights_", "covariance_", "reference_cholesky_", "points_")

    def _get_state(self):
        check_is_fitted(self, ["points_"])
        tensors = {name: torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                   for name in self._ARRAYS}
        state = {"bandwidth_": self.bandwidth_, "n_features_in_": self.n_features_in_}
        if hasattr(self, "cv_scores_"):
            tensors["cv_scores_"] = torch.from_numpy(self.cv_scores_)
            tensors["bandwidth_grid_"] = torch.from_numpy(self.bandwidth_grid_)
        return tensors, state

    def _set_state(self, tensors, state):
        for name, tensor in tensors.items():
            setattr(self, name, tensor.numpy())
        for name, value in state.items():
            setattr(self, name, value)


__all__ = ["GaussianDensity", "KernelDensity"]
