"""Gaussian mixture fitted by expectation-maximisation, in torch (CPU or GPU).

The same model, parameter shapes and stopping rule as scikit-learn's ``GaussianMixture``:
the E-step evaluates log-densities through Cholesky factors of the precisions, the M-step
adds ``reg_covar`` to every covariance diagonal, and EM stops when the mean log-likelihood
changes by less than ``tol``. Unlike scikit-learn, a component that dies (no responsibility
left) or whose covariance is not positive definite does not stop the fit: it is re-seeded
or regularised, with a warning that names it.

Parameters and everything returned are float64. With full or tied covariances the
E-step's matrix product, most of the cost, is taken in float32 while EM moves fast (about
1.7 times faster on a CPU, more on a GPU), and so are the M-step's covariance products (rows
centred on their component first); the E-step's mean log-likelihood is within about 1e-7
of float64's, and the parameters' rounding costs the likelihood only to second order. Once
an iteration improves the likelihood by less than ``_FLOAT32_CHANGE`` (relative), close to
that rounding, the remaining iterations are float64, and a fit that converged in float32 is
checked by one float64 E-step: it keeps the float32 result only when the two
log-likelihoods agree within ``_FLOAT32_AGREEMENT``, else it goes on in float64. So
``lower_bound_`` and the convergence test are float64's.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning

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
from nolabel.classical import _sharded, _sharded_em
from nolabel.classical._kmeans_core import (
    assign,
    kmeans_plusplus,
    lloyd,
    mean_variance,
    row_norms_sq,
)
from nolabel.errors import DataError, ParameterError
from nolabel.persistence import Persistable
from nolabel.registry import register
from nolabel.train import distributed

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")
_EPS = float(np.finfo(np.float64).eps)
# A component holding less responsibility than this many samples has collapsed.
_MIN_MASS = 1e-6
# Elements of the (rows x n_components*n_features) block that batches all components at once:
# 2^17 doubles (1 MB) stay in cache between the matrix product and the reduction that follows.
_BLOCK_ELEMENTS = 1 << 17
# float32 E-steps (see the module docstring): the relative change of the mean log-likelihood
# below which EM goes on in float64, and the agreement a float32 fit must show with float64.
_FLOAT32_CHANGE = 1e-5
_FLOAT32_AGREEMENT = 1e-6
_FLOAT32_TYPES = ("full", "tied")  # diagonal and spherical E-steps are cheap in float64
_FLOAT32_MAX = float(torch.finfo(torch.float32).max)
# Responsibilities below this leave a component's weighted sums unchanged in float64.
_NEGLIGIBLE_RESP = 1e-20
# A pair whose log w_j N(x | j) is provably this far below its sample's log-density has a
# responsibility below e^-50 < _NEGLIGIBLE_RESP: full-covariance E-steps skip it.
_PRUNE_NATS = 50.0
# First diagonal jitter tried on a covariance that is not positive definite, relative to the
# data's mean feature variance; multiplied by 10 until the Cholesky factorisation succeeds.
_JITTER = 1e-6


def _rows_per_block(width: int) -> int:
    return max(1, _BLOCK_ELEMENTS // width)


def _weighted_covariances(X: torch.Tensor, by_component: torch.Tensor, nk: torch.Tensor,
                          means: torch.Tensor) -> torch.Tensor:
    """sum_i resp[i, k] (x_i - m_k)(x_i - m_k)^T / nk[k] for every component, (k, d, d),
    from the responsibilities laid out by component (``by_component`` = resp^T, contiguous),
    float64, from products in X's dtype (rows centred on their component first, so float32
    rounds each entry by about 1e-7 of the largest variance).

    Only the samples that carry responsibility for a component enter its sum: a sample whose
    responsibility is below 1e-20 changes that sum by less than float64 can represent, and
    such samples are typically most of them (each sample belongs to one or two components).
    """
    k, d = means.shape
    covariances = torch.empty(k, d, d, dtype=torch.float64, device=X.device)
    buffer = torch.empty_like(X)  # reused: fresh allocations this size cost page faults
    centres = means.to(X.dtype)
    for j in range(k):
        members = torch.nonzero(by_component[j] > _NEGLIGIBLE_RESP).flatten()
        scaled = torch.index_select(X, 0, members, out=buffer[:members.numel()])
        scaled.sub_(centres[j]).mul_(by_component[j, members].sqrt().to(X.dtype)[:, None])
        covariances[j] = (scaled.T @ scaled).double() / nk[j]
    return covariances


def estimate_parameters(
    X: torch.Tensor, resp: torch.Tensor, reg_covar: float, covariance_type: str,
    X32: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """M-step: responsibility mass, means and covariances (scikit-learn's formulas); with
    ``X32``, X in float32, full covariances take their products from it."""
    by_component = resp.T.contiguous()
    nk = by_component.sum(1) + 10 * _EPS
    means = (by_component @ X) / nk[:, None]
    if covariance_type == "full":
        covariances = _weighted_covariances(X if X32 is None else X32, by_component, nk, means)
        covariances.diagonal(dim1=1, dim2=2).add_(reg_covar)
    elif covariance_type == "tied":
        covariances = (X.T @ X - (nk * means.T) @ means) / nk.sum()
        covariances.diagonal().add_(reg_covar)
    else:
        covariances = (resp.T @ (X * X)) / nk[:, None] - means**2 + reg_covar
        if covariance_type == "spherical":
            covariances = covariances.mean(1)
    return nk, means, covariances


def _warn_regularised(what: str, jitter: float) -> None:
    warnings.warn(
        f"{what} is not positive definite (degenerate data or reg_covar too small); "
        f"added {jitter:.3g} to its diagonal",
        UserWarning,
        stacklevel=4,
    )


def _cholesky_regularised(cov: torch.Tensor, scale: float, what: str) -> torch.Tensor:
    factor, info = torch.linalg.cholesky_ex(cov)
    if int(info) == 0:
        return factor
    if not bool(torch.isfinite(cov).all()):  # no jitter repairs an overflow
        raise DataError(f"{what} overflowed: rescale the data first (nolabel.data.standardize)")
    eye = torch.eye(len(cov), dtype=cov.dtype, device=cov.device)
    jitter = _JITTER * scale
    while True:
        factor, info = torch.linalg.cholesky_ex(cov + jitter * eye)
        if int(info) == 0:
            cov.add_(jitter * eye)  # keep covariances_ consistent with the factor
            _warn_regularised(what, jitter)
            return factor
        jitter *= 10


def _precisions_cholesky(
    covariances: torch.Tensor, covariance_type: str, scale: float
) -> torch.Tensor:
    """Cholesky factors of the precisions; repairs (in place) covariances that are not PD."""
    if covariance_type in ("full", "tied"):
        stacked = covariances if covariance_type == "full" else covariances[None]
        factors, info = torch.linalg.cholesky_ex(stacked)
        for k in torch.nonzero(info).flatten().tolist():
            what = f"the covariance of component {k}" if covariance_type == "full" else (
                "the tied covariance")
            factors[k] = _cholesky_regularised(stacked[k], scale, what)
        eye = torch.eye(stacked.shape[-1], dtype=stacked.dtype, device=stacked.device)
        precisions = torch.linalg.solve_triangular(
            factors, eye.expand_as(factors), upper=False
        ).mT
        return precisions if covariance_type == "full" else precisions[0]
    bad = covariances <= _EPS * scale  # exact duplicates can round to a tiny positive value
    if bool(bad.any()):
        jitter = _JITTER * scale
        for position in torch.nonzero(bad).tolist():
            _warn_regularised(f"the covariance of component {position[0]}", jitter)
        covariances[bad] = jitter
    return covariances.rsqrt()


def _log_gaussian_prob(
    X: torch.Tensor, means: torch.Tensor, precisions_chol: torch.Tensor, covariance_type: str
) -> torch.Tensor:
    """log N(x | mean_k, cov_k) for every sample and component, shape (n, k), float64.

    Full and tied covariances take their products in X's dtype (float32 data: float32
    products, about 1e-7 relative); diagonal and spherical ones, cheap, in float64.
    """
    n, d = X.shape
    k = means.shape[0]
    if covariance_type in ("full", "tied"):
        factors = precisions_chol if covariance_type == "full" else precisions_chol.expand(k, d, d)
        log_det = factors.diagonal(dim1=1, dim2=2).log().sum(1)
        # ||L_j^T (x - m_j)||^2 for all j from one product with [L_1 ... L_k] per row block.
        side_by_side = factors.permute(1, 0, 2).reshape(d, k * d).to(X.dtype)
        shifted_means = torch.einsum("ja,jab->jb", means, factors).reshape(k * d).to(X.dtype)
        mahalanobis = torch.empty(n, k, dtype=torch.float64, device=X.device)
        step = _rows_per_block(k * d)
        for start in range(0, n, step):
            projected = torch.addmm(shifted_means, X[start:start + step], side_by_side, beta=-1)
            mahalanobis[start:start + step] = projected.square_().view(-1, k, d).sum(2)
    else:
        X = X.double()
        precisions = precisions_chol**2
        if covariance_type == "spherical":
            log_det = d * precisions_chol.log()
            precisions = precisions[:, None].expand(k, d)
        else:
            log_det = precisions_chol.log().sum(1)
        mahalanobis = (
            (means**2 * precisions).sum(1)
            - 2.0 * X @ (means * precisions).T
            + (X * X) @ precisions.T
        )
    return -0.5 * (d * math.log(2 * math.pi) + mahalanobis) + log_det


def _e_step(
    X: torch.Tensor, weights: torch.Tensor, means: torch.Tensor, precisions_chol: torch.Tensor,
    covariance_type: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample log-density and log-responsibilities."""
    weighted = _log_gaussian_prob(X, means, precisions_chol, covariance_type).add_(
        weights.log())
    log_density = torch.logsumexp(weighted, dim=1)
    return log_density, weighted.sub_(log_density[:, None])


class _PrunedEStep:
    """E-steps of one full-covariance fit that skip the (sample, component) pairs whose
    responsibility is provably below e^-50 (< 2e-22): the M-step ignores anything below
    1e-20, and the log-likelihood changes by less than float64's rounding.

    Every pair keeps a lower bound ``low`` on its Mahalanobis distance ||L^T (x - m)||
    (precision = L L^T). When a component moves from (m0, L0) to (m, L), no distance
    shrinks below ``s * old - t``, where s is the smallest singular value of L^T L0^-T and
    t = ||L^T (m - m0)||. So ``c_j - low^2 / 2`` (c_j: log weight + log-determinant) bounds
    log w_j N(x | j) from above; a pair is computed only when that bound is within 50 nats
    of the exact value of the sample's most promising component, which bounds the sample's
    log-density from below. Near convergence the components move little, and each sample is
    computed against one or two components instead of all of them. Per-component arrays
    are (components, samples), so that one component's samples are contiguous.
    """

    def __init__(self) -> None:
        self.low: torch.Tensor | None = None  # (k, n) float32
        self.previous: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, X, weights, means, factors):
        n, d = X.shape
        k = len(means)
        const = (weights.log() + factors.diagonal(dim1=1, dim2=2).log().sum(1)
                 - 0.5 * d * math.log(2 * math.pi))
        weighted = None
        if self.previous is not None:
            old_means, old_factors = self.previous
            ratio = torch.linalg.solve_triangular(old_factors, factors, upper=True)
            shrink = torch.linalg.svdvals(ratio)[:, -1] * (1 - 1e-6)
            shift = torch.einsum("ja,jab->jb", means - old_means, factors).norm(dim=1)
            self.low.mul_(shrink.float()[:, None]).sub_((shift * (1 + 1e-6)).float()[:, None])
            self.low.clamp_min_(0.0)
            bound = const.float()[:, None] - 0.5 * self.low.square()
            own = torch.zeros(k, n, dtype=torch.bool, device=X.device)
            own[bound.argmax(0), torch.arange(n, device=X.device)] = True
            weighted = torch.full((k, n), -math.inf, dtype=torch.float64, device=X.device)
            self._exact(X, own, means, factors, const, weighted)
            floor = weighted.max(0).values  # exact values: a lower bound on each log-density
            candidates = (bound >= (floor - _PRUNE_NATS).float()) & ~own
            if int(candidates.sum()) + n <= 0.5 * n * k:
                self._exact(X, candidates, means, factors, const, weighted)
            else:  # most pairs: one product with every component is cheaper
                weighted = None
        if weighted is None:
            log_prob = _log_gaussian_prob(X, means, factors, "full").T
            self.low = (const[:, None] - weights.log()[:, None] - log_prob).mul_(2.0).clamp_min_(
                0.0).sqrt_().float().mul_(1 - 1e-5)
            weighted = log_prob.add_(weights.log()[:, None])
        self.previous = (means, factors)
        log_density = torch.logsumexp(weighted, dim=0)
        return log_density, weighted.sub_(log_density).T

    def _exact(self, X, mask, means, factors, const, weighted) -> None:
        """log w_j N(x | j) of the pairs in ``mask`` into ``weighted``, bounds made exact."""
        buffer = torch.empty_like(X)  # gathered rows of one component at a time
        shifted = torch.einsum("ja,jab->jb", means, factors).to(X.dtype)
        for j in range(len(means)):
            rows = torch.nonzero(mask[j]).flatten()
            if not rows.numel():
                continue
            block = torch.index_select(X, 0, rows, out=buffer[:rows.numel()])
            projected = torch.addmm(shifted[j], block, factors[j].to(X.dtype), beta=-1)
            mahalanobis = projected.square_().sum(1).double()
            weighted[j].index_copy_(0, rows, const[j] - 0.5 * mahalanobis)
            self.low[j].index_copy_(0, rows, mahalanobis.sqrt().float().mul_(1 - 1e-5))


@register("gmm", "Gaussian mixture by EM (full/tied/diag/spherical covariances) on CPU/GPU")
class GaussianMixture(Persistable, DensityMixin, BaseEstimator):
    """Gaussian mixture model fitted by EM, with scikit-learn's parameters and attributes.

    Parameters
    ----------
    n_components : number of mixture components.
    covariance_type : ``"full"`` (one matrix per component), ``"tied"`` (one shared matrix),
        ``"diag"`` (one diagonal per component) or ``"spherical"`` (one variance each).
    tol : EM stops when the mean log-likelihood changes by less than this.
    reg_covar : added to the covariance diagonals, keeping them positive definite.
    max_iter : EM iterations per initialisation.
    n_init : initialisations; the one with the highest final log-likelihood is kept.
    init_params : initial responsibilities: ``"kmeans"`` (k-means++ then Lloyd),
        ``"k-means++"`` (nearest k-means++ centre), ``"random"`` or ``"random_from_data"``.
    means_init : initial means (n_components, n_features); responsibilities then come from
        the nearest mean.
    random_state : seed for initialisation and ``sample``.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...
    verbose : 1 reports each initialisation, 2 each iteration.
    """

    # Under torchrun, fit sums statistics over processes: each process passes its own rows.
    _combines_processes = True

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        means_init=None,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.means_init = means_init
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _check_params(self, n: int, d: int, device: torch.device) -> torch.Tensor | None:
        check_int("n_components", self.n_components)
        check_choice("covariance_type", self.covariance_type, COVARIANCE_TYPES)
        check_float("tol", self.tol, minimum=0.0)
        check_float("reg_covar", self.reg_covar, minimum=0.0)
        check_int("max_iter", self.max_iter)
        check_int("n_init", self.n_init)
        check_choice("init_params", self.init_params, INIT_PARAMS)
        check_int("verbose", self.verbose, minimum=0)
        if self.n_components > n:
            raise DataError(
                f"n_components={self.n_components} is larger than the number of samples ({n})"
            )
        if self.means_init is None:
            return None
        means = check_tensor(self.means_init, device=device, name="means_init").double()
        if tuple(means.shape) != (self.n_components, d):
            raise ParameterError(
                f"means_init has shape {tuple(means.shape)}, expected "
                f"({self.n_components}, {d}) = (n_components, n_features)"
            )
        return means

    # -- initialisation -------------------------------------------------------------------

    def _initial_resp(
        self, X: torch.Tensor, generator: torch.Generator, means: torch.Tensor | None
    ) -> torch.Tensor:
        n, k = X.shape[0], self.n_components
        x_sq = row_norms_sq(X)
        if means is not None or self.init_params in ("kmeans", "k-means++"):
            if means is None:
                means = kmeans_plusplus(X, x_sq, k, generator)
                if self.init_params == "kmeans":
                    tol = mean_variance(X, x_sq) * 1e-4
                    means = lloyd(X, x_sq, means[None], 300, tol)[0][0]
            labels, _ = assign(X, x_sq, means)
            return torch.nn.functional.one_hot(labels, k).to(X.dtype)
        if self.init_params == "random":
            resp = torch.rand(n, k, generator=generator, dtype=X.dtype).to(X.device)
            return resp / resp.sum(1, keepdim=True)
        resp = torch.zeros(n, k, dtype=X.dtype, device=X.device)
        chosen = torch.randperm(n, generator=generator)[:k].to(X.device)
        resp[chosen, torch.arange(k, device=X.device)] = 1.0
        return resp

    # -- EM -------------------------------------------------------------------------------

    def _m_step(self, X: torch.Tensor, resp: torch.Tensor, log_density: torch.Tensor,
                scale: float, X32: torch.Tensor | None = None):
        nk, means, covariances = estimate_parameters(
            X, resp, self.reg_covar, self.covariance_type, X32)
        weights = nk / X.shape[0]
        collapsed = torch.nonzero(nk < _MIN_MASS).flatten()
        if collapsed.numel():
            weights = self._reseed(X, nk, means, covariances, collapsed, log_density)
        return weights, means, covariances, _precisions_cholesky(
            covariances, self.covariance_type, scale)

    def _reseed(self, X, nk, means, covariances, collapsed, log_density) -> torch.Tensor:
        """Move collapsed components onto the least likely samples, with the data's spread."""
        worst = torch.topk(log_density, k=int(collapsed.numel()), largest=False).indices
        variance = X.var(dim=0, unbiased=False) + self.reg_covar
        for component, sample in zip(collapsed.tolist(), worst.tolist(), strict=True):
            warnings.warn(
                f"Gaussian mixture component {component} collapsed (responsibility mass "
                f"{float(nk[component]):.3g}); re-seeded on sample {sample}, the least likely",
                UserWarning,
                stacklevel=5,
            )
            means[component] = X[sample]
            nk[component] = 1.0
            if self.covariance_type == "full":
                covariances[component] = torch.diag(variance)
            elif self.covariance_type == "diag":
                covariances[component] = variance
            elif self.covariance_type == "spherical":
                covariances[component] = variance.mean()
        return nk / nk.sum()

    def _run(self, X, X32, generator, means_init, scale):
        """One initialisation's EM on float64 data ``X``; ``X32``, its float32 copy, serves
        the E-steps until they need float64 (None: float64 throughout)."""
        resp = self._initial_resp(X, generator, means_init)
        nk, means, covariances = estimate_parameters(
            X, resp, self.reg_covar, self.covariance_type)
        weights = nk / X.shape[0]
        if means_init is not None:
            means = means_init.clone()
        precisions_chol = _precisions_cholesky(covariances, self.covariance_type, scale)

        pruned = _PrunedEStep() if self.covariance_type == "full" else None

        def step(params, exact):
            data = X if exact else X32
            if pruned is not None:
                log_density, log_resp = pruned(data, params[0], params[1], params[3])
            else:
                log_density, log_resp = _e_step(data, *params[:2], params[3],
                                                self.covariance_type)
            return (self._m_step(X, log_resp.exp(), log_density, scale, None if exact else X32),
                    float(log_density.mean()))

        def confirm(params):  # the float64 mean log-likelihood of these parameters
            return float(_e_step(X, *params[:2], params[3], self.covariance_type)[0].mean())

        return self._iterate((weights, means, covariances, precisions_chol), step,
                             confirm if X32 is not None else None)

    def _iterate(self, params, step, confirm=None):
        """EM steps ``(params, exact) -> (params, mean log-likelihood before the step)`` until
        the likelihood changes by less than ``tol``; returns the run's outcome.

        With ``confirm`` (the float64 likelihood of some parameters), steps start inexact
        (float32 E-steps) and turn exact once the likelihood changes by less than
        ``_FLOAT32_CHANGE`` relative, or when an inexact convergence is not confirmed.
        """
        history: list[float] = []
        lower_bound, converged, n_iter = -math.inf, False, 0
        exact = confirm is None
        for n_iter in range(1, self.max_iter + 1):
            previous_params = params
            params, current = step(params, exact)
            previous, lower_bound = lower_bound, current
            done = abs(current - previous) < self.tol
            if not exact and done:  # confirmed in float64, or EM goes on in float64
                lower_bound = confirm(previous_params)
                if abs(lower_bound - current) > _FLOAT32_AGREEMENT * abs(lower_bound):
                    done, exact = False, True
            elif not exact and abs(current - previous) < _FLOAT32_CHANGE * abs(current):
                exact = True
            history.append(lower_bound)
            if self.verbose >= 2:
                print(f"  iteration {n_iter}: mean log-likelihood {lower_bound:.6f}")
            if done:
                converged = True
                break
        return params, lower_bound, converged, n_iter, history

    def fit(self, X, y=None) -> GaussianMixture:
        self.fit_predict(X, y)
        return self

    def fit_predict(self, X, y=None):
        """Fit, then return the component of highest responsibility for every sample."""
        device = resolve_device(self.device)
        distributed.setup(device)
        if _sharded.wants_shards(X):
            return self._fit_sharded(X, device)
        data = check_tensor(X, device=device, allow_nd=False).double()
        means_init = self._check_params(*data.shape, device)
        generator = torch_generator(resolve_seed(self.random_state))
        scale = float(data.var(dim=0, unbiased=False).mean()) or 1.0
        # EM runs on centred data: second moments minus squared means then lose no precision.
        offset = data.mean(0)
        centred = data - offset
        if means_init is not None:
            means_init = means_init - offset
        # float32 products only where their squares stay far inside float32's range (data
        # scaled like 1e30 would overflow the covariance sums; it runs in float64).
        fits32 = float(centred.abs().max()) ** 2 * len(centred) < 1e-3 * _FLOAT32_MAX
        centred32 = (centred.float() if self.covariance_type in _FLOAT32_TYPES and fits32
                     else None)
        best = None
        for init in range(self.n_init):
            run = self._run(centred, centred32, generator, means_init, scale)
            if self.verbose:
                print(f"initialisation {init}: mean log-likelihood {run[1]:.6f}, "
                      f"converged={run[2]} after {run[3]} iterations")
            if best is None or run[1] > best[1]:
                best = run
        self._finish(best, offset)
        self.n_features_in_ = data.shape[1]
        _, log_resp = _e_step(data, *self._parameters(device), self.covariance_type)
        return as_output(log_resp.argmax(1), X)

    def _finish(self, best, offset: torch.Tensor) -> None:
        """Keep the best initialisation's parameters (moved back from centred data)."""
        (weights, means, *rest), self.lower_bound_, self.converged_, self.n_iter_, \
            self.history_ = best
        params = (weights, means + offset, *rest)
        if not self.converged_:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._store(*params)

    # -- data on disk or split across processes ---------------------------------------------

    def _fit_sharded(self, X, device: torch.device):
        """EM over blocks of a ``.npy`` file / memmap, or over every process's share of the
        rows; returns the labels of this process's rows."""
        shard = _sharded.Shard(X, device)
        means_init = self._check_params(shard.n_total, shard.n_features, device)
        if self.init_params == "random" and means_init is None:
            raise ParameterError(
                "init_params='random' needs every row's responsibilities in memory; use "
                "'kmeans', 'k-means++' or 'random_from_data' for data on disk or split "
                "across processes"
            )
        seed = resolve_seed(self.random_state)
        generator = torch_generator(seed)
        offset, variance = _sharded.moments(shard)
        scale = float(variance.mean()) or 1.0
        best = None
        for init in range(self.n_init):
            sample = shard.sample(_sharded.SEEDING_SAMPLE, seed + init).double() - offset
            start = (means_init - offset if means_init is not None
                     else self._sharded_start(shard, generator, seed + init, offset, sample))
            run = self._run_sharded(shard, offset, start, means_init is not None, sample,
                                    variance + self.reg_covar, scale)
            if self.verbose:
                print(f"initialisation {init}: mean log-likelihood {run[1]:.6f}, "
                      f"converged={run[2]} after {run[3]} iterations")
            if best is None or run[1] > best[1]:
                best = run
        self._finish(best, offset)
        self.n_features_in_ = shard.n_features
        params = self._parameters(device)
        labels = torch.empty(shard.n_local, dtype=torch.long, device=device)  # see _sharded
        done = 0
        for block in shard.blocks(torch.float64):
            labels[done:done + len(block)] = _e_step(
                block, *params, self.covariance_type)[1].argmax(1)
            done += len(block)
        return labels.cpu().numpy()

    def _sharded_start(self, shard, generator, seed, offset, sample) -> torch.Tensor:
        k = self.n_components
        if self.init_params == "random_from_data":
            return sample[torch.randperm(len(sample), generator=generator)[:k]].clone()
        centers = _sharded.seed_centers(shard, k, "k-means++", generator, seed)
        if self.init_params == "kmeans":
            tol = _sharded.mean_variance(shard) * 1e-4
            centers = _sharded.lloyd(shard, centers, 300, tol)[0]
        return centers.double() - offset

    def _run_sharded(self, shard, offset, start, keep_start_means, sample, variance, scale):
        stats = _sharded_em.hard_statistics(shard, offset, start, self.covariance_type)
        weights, means, covariances = stats.parameters(shard.n_total, self.reg_covar)
        if keep_start_means:
            means = start.clone()
        precisions_chol = _precisions_cholesky(covariances, self.covariance_type, scale)

        def step(params, exact):
            stats = _sharded_em.em_pass(shard, offset, (params[0], params[1], params[3]),
                                        self.covariance_type, _e_step, exact)
            weights, means, covariances = stats.parameters(shard.n_total, self.reg_covar)
            weights = _sharded_em.reseed_collapsed(stats, weights, means, covariances, sample,
                                                   variance)
            precisions_chol = _precisions_cholesky(covariances, self.covariance_type, scale)
            return ((weights, means, covariances, precisions_chol),
                    _sharded_em.log_likelihood_mean(stats, shard.n_total))

        def confirm(params):
            stats = _sharded_em.em_pass(shard, offset, (params[0], params[1], params[3]),
                                        self.covariance_type, _e_step)
            return _sharded_em.log_likelihood_mean(stats, shard.n_total)

        return self._iterate((weights, means, covariances, precisions_chol), step,
                             confirm if self.covariance_type in _FLOAT32_TYPES else None)

    def _store(self, weights, means, covariances, precisions_chol) -> None:
        self.weights_ = weights.cpu().numpy()
        self.means_ = means.cpu().numpy()
        self.covariances_ = covariances.cpu().numpy()
        self.precisions_cholesky_ = precisions_chol.cpu().numpy()
        if self.covariance_type in ("full", "tied"):
            self.precisions_ = self.precisions_cholesky_ @ np.swapaxes(
                self.precisions_cholesky_, -1, -2)
        else:
            self.precisions_ = self.precisions_cholesky_**2

    # -- inference ------------------------------------------------------------------------

    def _parameters(self, device: torch.device) -> tuple[torch.Tensor, ...]:
        return tuple(torch.from_numpy(np.asarray(value)).to(device) for value in (
            self.weights_, self.means_, self.precisions_cholesky_))

    def _validated(self, X) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        check_is_fitted(self, ["means_"])
        device = resolve_device(self.device)
        data = check_tensor(X, device=device, allow_nd=False)
        check_n_features(self, tuple(data.shape))
        return data.double(), self._parameters(device)

    def _estimate(self, X) -> tuple[torch.Tensor, torch.Tensor]:
        data, params = self._validated(X)
        return _e_step(data, *params, self.covariance_type)

    def predict(self, X):
        """Most responsible component of every sample."""
        return as_output(self._estimate(X)[1].argmax(1), X)

    def predict_proba(self, X):
        """Posterior probability of every component for every sample, shape (n, k)."""
        return as_output(self._estimate(X)[1].exp(), X)

    def score_samples(self, X):
        """Log-density of every sample under the mixture, in nats."""
        return as_output(self._estimate(X)[0], X)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of ``X``."""
        return float(self._estimate(X)[0].mean())

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` points; returns (X, component labels), sorted by component."""
        check_is_fitted(self, ["means_"])
        check_int("n_samples", n_samples)
        generator = torch_generator(resolve_seed(self.random_state))
        weights = torch.from_numpy(self.weights_)
        labels = torch.multinomial(weights, n_samples, replacement=True, generator=generator)
        labels = labels.sort().values
        noise = torch.randn(n_samples, self.means_.shape[1], generator=generator,
                            dtype=torch.float64)
        covariances = torch.from_numpy(np.asarray(self.covariances_))
        if self.covariance_type == "full":
            noise = (torch.linalg.cholesky(covariances)[labels] @ noise[:, :, None])[:, :, 0]
        elif self.covariance_type == "tied":
            noise = noise @ torch.linalg.cholesky(covariances).T
        elif self.covariance_type == "diag":
            noise = noise * covariances[labels].sqrt()
        else:
            noise = noise * covariances[labels].sqrt()[:, None]
        X = torch.from_numpy(self.means_)[labels] + noise
        return X.numpy(), labels.numpy()

    def _n_parameters(self) -> int:
        """Number of free parameters of the model."""
        k, d = self.means_.shape
        covariance = {"full": k * d * (d + 1) / 2, "tied": d * (d + 1) / 2,
                      "diag": k * d, "spherical": k}[self.covariance_type]
        return int(covariance + k * d + k - 1)

    def bic(self, X) -> float:
        """Bayesian information criterion of ``X`` (lower is better)."""
        n = len(X)
        return -2 * self.score(X) * n + self._n_parameters() * math.log(n)

    def aic(self, X) -> float:
        """Akaike information criterion of ``X`` (lower is better)."""
        return -2 * self.score(X) * len(X) + 2 * self._n_parameters()

    # -- persistence ----------------------------------------------------------------------

    _ARRAYS = ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_")

    def _get_state(self):
        check_is_fitted(self, ["means_"])
        tensors = {name: torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                   for name in self._ARRAYS}
        return tensors, {"converged_": self.converged_, "n_iter_": self.n_iter_,
                         "lower_bound_": self.lower_bound_, "history_": self.history_,
                         "n_features_in_": self.n_features_in_}

    def _set_state(self, tensors, state):
        for name in self._ARRAYS:
            setattr(self, name, tensors[name].numpy())
        for name, value in state.items():
            setattr(self, name, value)


__all__ = ["GaussianMixture"]
