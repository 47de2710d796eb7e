"""Principal component analysis in torch (CPU or GPU), with scikit-learn's attributes.

Three solvers, all on whatever device the data lives on:

- ``"covariance_eigh"``: eigendecomposition of the covariance matrix, computed in float64
  from the Gram matrix of the data (``centred_gram``: uncentred where that loses nothing of
  float32's precision, else centred block by block), then ``eigh`` of the leading
  eigenpairs only. One pass over the data; the fastest exact solver when
  ``n_samples >> n_features``.
- ``"full"``: a singular value decomposition of the centred data in float64. For tall data
  the SVD is taken of the ``R`` factor of a QR decomposition (the same singular values and
  right vectors, without ever forming the n x d left factor).
- ``"randomized"``: Halko, Martinsson & Tropp's range finder (2011, algorithms 4.3/4.4) on the
  centred data in float32, with ``iterated_power`` power iterations normalised by LU or QR,
  then an SVD of the small projected matrix in float64. On tall data with few features
  (``n_features < 2 (2 iterated_power + 1) (n_components + n_oversamples)``) the same
  iterations run on the float64 Gram matrix, cheaper there than the products with the data,
  followed by Rayleigh-Ritz. Seeded: the same ``random_state`` gives the same components on
  the same device.

``"auto"`` follows scikit-learn's rule: ``covariance_eigh`` when ``n_features <= 1000`` and
``n_samples >= 10 * n_features``, else ``full`` for small data or a fractional
``n_components``, else ``randomized`` when fewer than 80 % of the components are asked for.

Signs follow scikit-learn's ``svd_flip(..., u_based_decision=False)``, which its ``PCA`` uses
for every solver: in every row of ``components_`` the entry of largest magnitude is positive.
So components agree with scikit-learn's, signs included.

``score_samples`` is the log-likelihood under probabilistic PCA (Tipping & Bishop 1999),
``N(mean_, W W^T + noise_variance_ I)``, evaluated in float64 from the projections and the
residual without forming the d x d covariance. Unlike scikit-learn (whose ``get_covariance``
rescales the components once more when ``whiten=True``), the model of the data does not depend
on ``whiten``: whitening only rescales what ``transform`` returns.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin

from nolabel._device import resolve_device, resolve_seed, torch_generator
from nolabel._matmul import matmul
from nolabel._validation import (
    as_output,
    check_choice,
    check_int,
    check_is_fitted,
    check_n_features,
    check_tensor,
)
from nolabel.errors import DataError, ParameterError
from nolabel.persistence import Persistable
from nolabel.registry import register

SVD_SOLVERS = ("auto", "full", "covariance_eigh", "randomized")
NORMALIZERS = ("auto", "QR", "LU", "none")
_EPS = float(np.finfo(np.float64).eps)
# Elements per row block (32 MiB in float64): bounds every (rows x width) temporary.
_BLOCK_ELEMENTS = 1 << 22
# Relative rounding error accepted in the Gram matrix of uncentred data (see centred_gram):
# about 8 x float32's epsilon, the precision of float32 data itself.
_GRAM_TOLERANCE = 1e-6


def row_blocks(n_rows: int, row_elements: int):
    """Slices of at most ``_BLOCK_ELEMENTS // row_elements`` rows (at least one)."""
    step = max(1, _BLOCK_ELEMENTS // max(1, row_elements))
    for start in range(0, n_rows, step):
        yield slice(start, min(n_rows, start + step))


def column_mean(X: torch.Tensor) -> torch.Tensor:
    """Mean of every column, accumulated in float64 (no float64 copy of X).

    On the CPU, groups of 16 rows are summed in X's dtype (rounding at most 15 ulps of the
    group, typically 1e-8 relative in float32) and the group sums in float64: a third of the
    time of numpy's float64 mean, which casts every element.
    """
    if X.device.type == "cpu":
        data = X.numpy()
        n, d = data.shape
        whole = n - n % 16
        total = data[:whole].reshape(-1, 16, d).sum(1).sum(0, dtype=np.float64)
        return torch.from_numpy((total + data[whole:].sum(0, dtype=np.float64)) / n)
    total = torch.zeros(X.shape[1], dtype=torch.float64, device=X.device)
    for rows in row_blocks(X.shape[0], X.shape[1]):
        total += X[rows].double().sum(0)
    return total / X.shape[0]


def centred_gram(X: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """``(X - mean)^T (X - mean)`` in float64.

    On the CPU, first as scikit-learn does: one symmetric rank-k product ``X^T X`` of the
    uncentred data in X's precision (BLAS ``syrk`` through numpy, half the work of a matrix
    product, no copy of X), then ``n mean mean^T`` subtracted in float64. That subtraction
    cancels: an entry's rounding error grows by ``1 + mean_j^2 / var_j``, so when that
    factor times X's machine epsilon exceeds ``_GRAM_TOLERANCE`` (data far from the origin
    relative to its spread: not pixels, not standardised features) the product is taken again
    on row blocks centred first, the exact way. Blocks' products are summed in float64.
    """
    n, d = X.shape
    if X.device.type == "cpu":  # numpy throughout: one BLAS thread pool in this loop
        data, mean64 = X.numpy(), mean.numpy()
        gram = (data.T @ data).astype(np.float64)  # numpy takes a.T @ a as syrk
        gram -= np.multiply.outer(n * mean64, mean64)
        spread, offset_sq = np.diagonal(gram), n * mean64 * mean64  # n var_j, n mean_j^2
        # eps (1 + n mean^2 / (n var)) <= tolerance, without dividing by a zero variance.
        if (np.finfo(data.dtype).eps * (spread + offset_sq) <= _GRAM_TOLERANCE * spread).all():
            return torch.from_numpy(gram)
        gram[:] = 0.0
        offset = mean64.astype(data.dtype)
        for rows in row_blocks(n, d):
            block = data[rows] - offset
            gram += block.T @ block
        return torch.from_numpy(gram)
    gram = torch.zeros(d, d, dtype=torch.float64, device=X.device)
    for rows in row_blocks(n, d):
        block = X[rows] - mean.to(X.dtype)
        gram += (block.T @ block).double()
    return gram


def flip_signs(components: torch.Tensor) -> torch.Tensor:
    """scikit-learn's ``svd_flip(u, v, u_based_decision=False)``: in every row, the entry of
    largest magnitude (the first one on ties) becomes positive."""
    largest = components.abs().argmax(dim=1)
    signs = torch.sign(components[torch.arange(len(components), device=components.device),
                                  largest])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def _lu_normalise(Y: torch.Tensor) -> torch.Tensor:
    """``P L`` of the LU decomposition ``Y = P L U`` (scipy's ``lu(permute_l=True)``): the
    same column space as ``Y``, with entries bounded by 1."""
    LU, pivots, _ = torch.linalg.lu_factor_ex(Y)
    m, r = Y.shape[0], min(Y.shape)
    L = torch.tril(LU[:, :r], diagonal=-1)
    L.diagonal().fill_(1.0)
    order = np.arange(m)
    for i, p in enumerate(pivots.cpu().numpy().astype(np.int64) - 1):
        order[i], order[p] = order[p], order[i]
    permuted = torch.empty_like(L)
    permuted[torch.from_numpy(order).to(Y.device)] = L
    return permuted


def _qr_normalise(Y: torch.Tensor) -> torch.Tensor:
    return torch.linalg.qr(Y).Q


def randomized_range(
    M: torch.Tensor, size: int, n_iter: int, normalizer: str, generator: torch.Generator
) -> torch.Tensor:
    """Orthonormal basis (M.shape[0] x size) approximating the range of ``M``: Gaussian test
    matrix, ``n_iter`` power iterations (each normalised by LU, QR or not at all), final QR."""
    Q = torch.randn(M.shape[1], size, generator=generator, dtype=torch.float32)
    Q = Q.to(device=M.device, dtype=M.dtype)
    normalise = {"LU": _lu_normalise, "QR": _qr_normalise, "none": lambda Y: Y}[normalizer]
    for _ in range(n_iter):
        Q = normalise(matmul(M, Q))
        Q = normalise(matmul(M.T, Q))
    return _qr_normalise(matmul(M, Q))


@register("pca", "principal component analysis (full SVD, covariance eigh or randomized)")
class PCA(Persistable, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Principal component analysis on CPU or GPU, with scikit-learn's parameters and attributes.

    Parameters
    ----------
    n_components : components kept: an int, a float in (0, 1) (keep the fewest components that
        explain more than this fraction of the variance; exact solvers only) or None
        (``min(n_samples, n_features)``).
    svd_solver : ``"auto"``, ``"full"``, ``"covariance_eigh"`` or ``"randomized"`` (see the
        module docstring).
    whiten : scale the outputs of ``transform`` to unit variance per component.
    iterated_power : power iterations of the randomized solver; ``"auto"`` is 7 when fewer
        than 10 % of ``min(n_samples, n_features)`` components are asked for, else 4.
    n_oversamples : extra random directions of the randomized solver.
    power_iteration_normalizer : ``"auto"`` (LU, or none for at most 2 iterations), ``"QR"``,
        ``"LU"`` or ``"none"``.
    random_state : seed of the randomized solver.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...

    Attributes
    ----------
    components_ : (n_components, n_features), orthonormal rows, sorted by explained variance.
    explained_variance_, explained_variance_ratio_, singular_values_ : per component.
    mean_ : per-feature mean. noise_variance_ : mean variance left out (probabilistic PCA).
    n_components_, n_features_in_, n_samples_ : sizes. svd_solver_ : the solver used.
    """

    def __init__(
        self,
        n_components: int | float | None = None,
        *,
        svd_solver: str = "auto",
        whiten: bool = False,
        iterated_power: int | str = "auto",
        n_oversamples: int = 10,
        power_iteration_normalizer: str = "auto",
        random_state: int | None = None,
        device: str = "auto",
    ) -> None:
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.whiten = whiten
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state
        self.device = device

    # -- parameters -----------------------------------------------------------------------

    def _check_params(self, n: int, d: int) -> tuple[int | float, str]:
        """Validated (n_components, solver); an int count or a variance fraction."""
        check_choice("svd_solver", self.svd_solver, SVD_SOLVERS)
        check_choice("power_iteration_normalizer", self.power_iteration_normalizer, NORMALIZERS)
        check_int("n_oversamples", self.n_oversamples)
        if self.iterated_power != "auto":
            check_int("iterated_power", self.iterated_power, minimum=0)
        if not isinstance(self.whiten, bool | np.bool_):
            raise ParameterError(f"whiten must be True or False, got {self.whiten!r}")
        limit = min(n, d)
        k = self.n_components
        if k is None:
            k = limit
        elif isinstance(k, float | np.floating):
            if not 0.0 < k < 1.0:
                raise ParameterError(
                    f"n_components={k} must be an int in [1, {limit}] or a float in (0, 1)")
            k = float(k)
        else:
            k = check_int("n_components", k)
            if k > limit:
                raise ParameterError(
                    f"n_components={k} must be at most min(n_samples, n_features) = "
                    f"min(n_samples={n}, n_features={d}) = {limit}"
                )
        solver = self.svd_solver
        if solver == "auto":
            if d <= 1000 and n >= 10 * d:
                solver = "covariance_eigh"
            elif max(n, d) <= 500 or isinstance(k, float):
                solver = "full"
            elif k < 0.8 * limit:
                solver = "randomized"
            else:
                solver = "full"
        if solver == "randomized" and isinstance(k, float):
            raise ParameterError(
                f"n_components={k} (a fraction of the variance) needs an exact solver "
                "('full' or 'covariance_eigh'), not svd_solver='randomized'"
            )
        return k, solver

    # -- fitting --------------------------------------------------------------------------

    def fit(self, X, y=None) -> PCA:
        device = resolve_device(self.device)
        data = check_tensor(X, device=device, allow_nd=False, min_samples=2)
        n, d = data.shape
        k, solver = self._check_params(n, d)
        mean = column_mean(data)
        if solver == "covariance_eigh":
            variances, components, total = self._fit_covariance(data, mean, k)
        elif solver == "full":
            variances, components, total = self._fit_full(data, mean)
        else:
            variances, components, total = self._fit_randomized(data, mean, k)
        ratio = variances / total if total > 0 else torch.zeros_like(variances)
        if isinstance(k, float):
            cumulative = torch.cumsum(ratio, 0)
            k = int(torch.searchsorted(cumulative, torch.tensor(
                [k], dtype=cumulative.dtype, device=cumulative.device), right=True)) + 1
            k = min(k, len(variances))
        kept = variances[:k]
        limit = min(n, d)
        noise = max(total - float(kept.sum()), 0.0) / (limit - k) if k < limit else 0.0
        components = flip_signs(components[:k])
        self.components_ = components.cpu().numpy()
        self.explained_variance_ = kept.cpu().numpy()
        self.explained_variance_ratio_ = ratio[:k].cpu().numpy()
        self.singular_values_ = (kept * (n - 1)).sqrt().cpu().numpy()
        self.mean_ = mean.cpu().numpy()
        self.noise_variance_ = float(noise)
        self.n_components_ = int(k)
        self.n_samples_ = int(n)
        self.n_features_in_ = int(d)
        self.svd_solver_ = solver
        return self

    def _fit_covariance(self, data, mean, k):
        n, d = data.shape
        covariance = centred_gram(data, mean) / (n - 1)
        total = float(torch.trace(covariance))
        if isinstance(k, int) and covariance.device.type == "cpu" and k < d // 2:
            # Only the leading k eigenpairs: the rest enter only through the trace.
            eigenvalues, eigenvectors = scipy.linalg.eigh(
                covariance.numpy(), subset_by_index=(d - k, d - 1), driver="evr")
            eigenvalues, eigenvectors = torch.from_numpy(eigenvalues), torch.from_numpy(
                eigenvectors)
        else:
            eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        variances = eigenvalues.flip(0).clamp_min(0.0)[: min(data.shape)]
        return variances, eigenvectors.flip(1).T, total

    def _fit_full(self, data, mean):
        n, d = data.shape
        centred = data.double() - mean
        if n >= d:  # X = Q R: R has X's singular values and right singular vectors
            centred = torch.linalg.qr(centred, mode="r").R
        _, singular, vt = torch.linalg.svd(centred, full_matrices=False)
        variances = singular.square() / (n - 1)
        return variances, vt, float(variances.sum())

    def _fit_randomized(self, data, mean, k):
        n, d = data.shape
        size = min(k + self.n_oversamples, n, d)
        n_iter = self.iterated_power
        if n_iter == "auto":
            n_iter = 7 if k < 0.1 * min(n, d) else 4
        normalizer = self.power_iteration_normalizer
        if normalizer == "auto":
            normalizer = "none" if n_iter <= 2 else "LU"
        generator = torch_generator(resolve_seed(self.random_state))
        if n >= d and d < 2 * (2 * n_iter + 1) * size:
            # Tall data with few features: the Gram matrix (n d^2 flops, one symmetric
            # product) costs less than the power iterations' 2 (2 n_iter + 1) products of
            # n d size flops each, and the same randomized subspace iteration run on it, in
            # float64, finds the leading right singular vectors at least as well.
            gram = centred_gram(data, mean)
            Q = randomized_range(gram, size, n_iter, normalizer, generator)
            eigenvalues, rotation = torch.linalg.eigh(Q.T @ gram @ Q)  # Rayleigh-Ritz
            order = eigenvalues.flip(0)[:k].clamp_min(0.0)
            components = (Q @ rotation.flip(1)).T
            return order / (n - 1), components[:k], float(torch.trace(gram)) / (n - 1)
        centred = data - mean.to(data.dtype)
        total = sum(float(centred[rows].double().square_().sum())
                    for rows in row_blocks(n, d)) / (n - 1)
        M = centred if n >= d else centred.T
        Q = randomized_range(M, size, n_iter, normalizer, generator)
        B = matmul(M.T, Q).T.double()  # Q^T M
        u_hat, singular, vt = torch.linalg.svd(B, full_matrices=False)
        components = vt if n >= d else (Q.double() @ u_hat).T
        variances = singular[:k].square() / (n - 1)
        return variances, components[:k], total

    # -- transforms -----------------------------------------------------------------------

    def _validated(self, X) -> torch.Tensor:
        check_is_fitted(self, ["components_"])
        data = check_tensor(X, device=resolve_device(self.device), allow_nd=False)
        check_n_features(self, tuple(data.shape))
        return data

    def _whiten_scale(self) -> np.ndarray:
        return np.maximum(np.sqrt(self.explained_variance_), _EPS)

    def transform(self, X):
        """Coordinates of ``X`` on the components, (n_samples, n_components_), float32."""
        data = self._validated(X)
        mean = torch.from_numpy(self.mean_).to(data)
        projected = matmul(data - mean, torch.from_numpy(self.components_).to(data).T)
        if self.whiten:
            projected = projected / torch.from_numpy(self._whiten_scale()).to(projected)
        return as_output(projected, X)

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        """Map component coordinates back to the data space (the projection of the data)."""
        check_is_fitted(self, ["components_"])
        data = check_tensor(X, device=resolve_device(self.device), allow_nd=False)
        if data.shape[1] != self.n_components_:
            raise DataError(
                f"X has {data.shape[1]} columns, but inverse_transform expects "
                f"{self.n_components_} (n_components_ of this PCA)"
            )
        if self.whiten:
            data = data * torch.from_numpy(self._whiten_scale()).to(data)
        restored = matmul(data, torch.from_numpy(self.components_).to(data))
        return as_output(restored + torch.from_numpy(self.mean_).to(data), X)

    # -- probabilistic PCA ----------------------------------------------------------------

    def _project(self, data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """float64 projections (n, k) and squared residual norms (n,), in row blocks."""
        mean = torch.from_numpy(self.mean_).to(data.device)
        components = torch.from_numpy(self.components_).to(data.device)
        projections, residuals = [], []
        for rows in row_blocks(data.shape[0], data.shape[1]):
            centred = data[rows].double() - mean
            projected = matmul(centred, components.T)
            residual = centred - matmul(projected, components)
            projections.append(projected)
            residuals.append(residual.square().sum(1))
        return torch.cat(projections), torch.cat(residuals)

    def _model_variances(self) -> tuple[np.ndarray, float]:
        """Variances along the components and off them, floored at eps x the largest, so a
        singular model (zero variances, noise_variance_ == 0) still gives finite scores."""
        variances = self.explained_variance_
        scale = max(float(variances.max(initial=0.0)), self.noise_variance_,
                    float(np.finfo(np.float64).tiny))
        noise = max(self.noise_variance_, _EPS * scale)
        return np.maximum(variances, noise), noise

    def score_samples(self, X):
        """Log-likelihood of every sample under probabilistic PCA (float64), as
        scikit-learn's ``PCA.score_samples``."""
        data = self._validated(X)
        projected, residual = self._project(data)
        variances, noise = self._model_variances()
        d, k = self.n_features_in_, self.n_components_
        log_det = float(np.log(variances).sum()) + (d - k) * math.log(noise)
        mahalanobis = (projected.square() / torch.from_numpy(variances).to(projected)).sum(1)
        mahalanobis += residual / noise
        return as_output(-0.5 * (mahalanobis + log_det + d * math.log(2 * math.pi)), X)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of ``X`` under probabilistic PCA."""
        return float(torch.as_tensor(self.score_samples(X)).mean())

    def reconstruction_error(self, X):
        """Squared distance of every sample to its reconstruction
        ``inverse_transform(transform(X))``, in float64 (an anomaly score)."""
        return as_output(self._project(self._validated(X))[1], X)

    def get_covariance(self) -> np.ndarray:
        """The model's data covariance ``W W^T + noise_variance_ I`` (n_features square)."""
        check_is_fitted(self, ["components_"])
        variances, noise = self._model_variances()
        components = self.components_
        covariance = (components.T * (variances - noise)) @ components
        covariance[np.diag_indices_from(covariance)] += noise
        return covariance

    @property
    def _n_features_out(self) -> int:
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # transform returns float32
        return tags

    # -- persistence ----------------------------------------------------------------------

    _ARRAYS = ("components_", "explained_variance_", "explained_variance_ratio_",
               "singular_values_", "mean_")
    _SCALARS = ("noise_variance_", "n_components_", "n_samples_", "n_features_in_",
                "svd_solver_")

    def _get_state(self):
        check_is_fitted(self, ["components_"])
        tensors = {name: torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                   for name in self._ARRAYS}
        return tensors, {name: getattr(self, name) for name in self._SCALARS}

    def _set_state(self, tensors, state):
        for name in self._ARRAYS:
            setattr(self, name, tensors[name].numpy())
        for name, value in state.items():
            setattr(self, name, value)


__all__ = ["PCA"]
