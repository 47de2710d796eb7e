"""The independence model: a product of one-dimensional Gaussian kernel densities.

``MarginalDensity`` estimates every feature's density on its own and multiplies them, so its
log-density is the sum of per-feature log-densities. It sees no correlation, but in
exchange every feature gets a flexible (skewed, heavy-tailed, multimodal) density from few
samples, and it also gives each feature's tail probabilities ``P(X_j <= x_j)`` and
``P(X_j >= x_j)``: the quantities ECOD (Li et al., 2022) ranks anomalies by, here smoothed by
the kernel instead of read off the raw empirical CDF.

Each feature's kernel density is binned (Silverman 1982; ``statsmodels``'
``KDEUnivariate(fft=True)`` bins the same way): the samples are linearly binned onto a grid
spanning their range plus four bandwidths either side, with spacing at most 1/16 of
the bandwidth, convolved with the Gaussian kernel, and integrated on the grid for the CDF.
Fitting costs O(n + G) per feature and a query is one interpolation, so the
model scales to millions of rows. Beyond the grid the density and tails continue from the
grid's edge at the rate of the extreme sample's kernel, so points far outside the data
keep being ranked by how far out they are.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, DensityMixin

from nolabel._device import resolve_device, resolve_seed, torch_generator
from nolabel._validation import (
    as_output,
    check_float,
    check_int,
    check_is_fitted,
    check_n_features,
    check_tensor,
)
from nolabel.errors import ParameterError
from nolabel.persistence import Persistable
from nolabel.registry import register

BANDWIDTHS = ("silverman", "scott")
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_REACH = 4.0  # the grid reaches this many bandwidths beyond the extreme samples
_KERNEL_REACH = 12.0  # kernel cut-off, in bandwidths: exp(-72) of the peak is negligible
_MIN_GRID, _MAX_GRID = 256, 8192
_TABLES = ("log_density", "log_cdf", "log_sf")


def _bandwidths(data: torch.Tensor, rule: str | float) -> torch.Tensor:
    """Per-feature kernel standard deviations (float64).

    ``"silverman"`` is the robust rule of thumb ``0.9 min(sd, IQR / 1.34) n^(-1/5)``
    (Silverman 1986, eq. 3.31), ``"scott"`` ``1.06 sd n^(-1/5)``, a float ``c`` gives
    ``c sd``. A feature whose IQR is zero (mostly one value) falls back to its sd. A
    constant feature says nothing about its own scale: it gets the median bandwidth of the
    other features (a pixel that is always black in training is judged on the scale of the
    pixels that vary), or ``1e-6 max(1, |value|)`` when every feature is constant.
    """
    n = data.shape[0]
    sd = data.std(0, correction=1 if n > 1 else 0)
    if isinstance(rule, float):
        width = rule * sd
    else:
        quartiles = torch.quantile(data, torch.tensor([0.25, 0.75], dtype=data.dtype,
                                                      device=data.device), dim=0)
        spread = (quartiles[1] - quartiles[0]) / 1.34
        robust = torch.where(spread > 0, torch.minimum(sd, spread), sd)
        width = (0.9 * robust if rule == "silverman" else 1.06 * sd) * n ** -0.2
    positive = width[width > 0]
    if positive.numel():
        fallback = positive.quantile(0.5).expand_as(width)
    else:
        fallback = 1e-6 * data.abs().amax(0).clamp_min(1.0)
    return torch.where(width > 0, width, fallback)


def _gaussian_convolve(counts: torch.Tensor, step: float, bandwidth: float) -> torch.Tensor:
    """``sum_m counts[m] * phi((g - m) step / h) / h`` at every grid point g.

    A direct convolution with the kernel cut at ``_KERNEL_REACH`` bandwidths (about 200 taps
    at most), not an FFT: every term is non-negative, so a grid point far from all samples
    gets an exact 0 rather than FFT round-off noise around 1e-16 of the peak.
    """
    half = min(counts.shape[0] - 1, math.ceil(_KERNEL_REACH * bandwidth / step))
    offsets = torch.arange(-half, half + 1, dtype=torch.float64, device=counts.device)
    kernel = torch.exp(-0.5 * (offsets * step / bandwidth).square()) / (
        bandwidth * math.sqrt(2 * math.pi))
    return torch.nn.functional.conv1d(counts[None, None], kernel[None, None],
                                      padding=half)[0, 0]


def _feature_tables(values: torch.Tensor, bandwidth: float) -> tuple[float, float, torch.Tensor]:
    """Grid start, grid step and the (3, G) log density / log CDF / log survival tables of
    one feature's kernel density."""
    n = values.shape[0]
    low = float(values.min()) - _REACH * bandwidth
    high = float(values.max()) + _REACH * bandwidth
    size = int(min(_MAX_GRID, max(_MIN_GRID, 2 ** math.ceil(math.log2(
        (high - low) / (bandwidth / 16) + 1)))))
    step = (high - low) / (size - 1)
    position = (values - low) / step
    left = position.floor().clamp(0, size - 2)
    right_weight = position - left
    counts = torch.zeros(size, dtype=torch.float64, device=values.device)
    counts.index_add_(0, left.long(), 1.0 - right_weight)
    counts.index_add_(0, left.long() + 1, right_weight)
    density = _gaussian_convolve(counts, step, bandwidth) / n
    # Mass beyond the grid ends, exact from the samples, then trapezoids along the grid.
    below = torch.special.ndtr((low - values) / bandwidth).mean()
    above = torch.special.ndtr((values - high) / bandwidth).mean()
    pieces = 0.5 * step * (density[1:] + density[:-1])
    cdf = torch.cat([below.reshape(1), below + torch.cumsum(pieces, 0)])
    sf = torch.cat([above + torch.cumsum(pieces.flip(0), 0).flip(0), above.reshape(1)])
    tiny = torch.finfo(torch.float64).tiny
    # A grid point more than _KERNEL_REACH bandwidths from every sample (a wide gap in the
    # data) has density 0: floored at the smallest float64, it scores as the extreme it is.
    tables = torch.stack([density.clamp_min(tiny), cdf.clamp(tiny, 1.0),
                          sf.clamp(tiny, 1.0)]).log()
    return low, step, tables


def two_sided_tail(feature_scores: dict[str, torch.Tensor]) -> torch.Tensor:
    """(n_samples,) sum over features of ``log min(1, 2 min(CDF, survival))``, from the
    per-feature scores of :meth:`MarginalDensity.feature_scores`."""
    tails = torch.minimum(feature_scores["log_cdf"], feature_scores["log_sf"]) + math.log(2)
    return tails.clamp_max(0.0).sum(1)


@register("marginal-density",
          "product of one-dimensional kernel densities (independent features), with tails")
class MarginalDensity(Persistable, DensityMixin, BaseEstimator):
    """Independent features, each with a Gaussian kernel density (float64).

    Parameters
    ----------
    bandwidth : ``"silverman"`` (default: the robust rule of thumb, which keeps
        multimodal and heavy-tailed features from being oversmoothed), ``"scott"``, or a
        positive float: the kernel standard deviation as a multiple of each feature's
        standard deviation.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...

    Attributes
    ----------
    bandwidth_ : (n_features,) kernel standard deviation of each feature.
    grid_start_, grid_step_ : (n_features,) where each feature's grid starts and its spacing.
    grid_offsets_ : (n_features + 1,) where each feature's grid lies in the flat tables.
    log_density_, log_cdf_, log_sf_ : flat tables of every feature's log density,
        ``log P(X_j <= x)`` and ``log P(X_j >= x)`` on its grid.
    minimum_, maximum_ : (n_features,) the extreme training values (for extrapolation).
    n_samples_fit_ : the number of training samples.
    """

    def __init__(self, bandwidth: str | float = "silverman", *, device: str = "auto") -> None:
        self.bandwidth = bandwidth
        self.device = device

    def _rule(self) -> str | float:
        if isinstance(self.bandwidth, str):
            if self.bandwidth not in BANDWIDTHS:
                raise ParameterError(f"bandwidth must be one of {', '.join(map(repr, BANDWIDTHS))}"
                                     f" or a positive number; got {self.bandwidth!r}")
            return self.bandwidth
        return check_float("bandwidth", self.bandwidth, minimum=0.0, strict=True)

    def fit(self, X, y=None) -> MarginalDensity:
        rule = self._rule()
        device = resolve_device(self.device)
        data = check_tensor(X, device=device, allow_nd=False).double()
        bandwidths = _bandwidths(data, rule)
        starts, steps, tables = [], [], []
        for j in range(data.shape[1]):
            start, step, table = _feature_tables(data[:, j], float(bandwidths[j]))
            starts.append(start)
            steps.append(step)
            tables.append(table)
        sizes = torch.tensor([0] + [t.shape[1] for t in tables])
        flat = torch.cat(tables, dim=1).cpu().numpy()
        self.bandwidth_ = bandwidths.cpu().numpy()
        self.grid_start_ = np.asarray(starts)
        self.grid_step_ = np.asarray(steps)
        self.grid_offsets_ = torch.cumsum(sizes, 0).numpy()
        self.log_density_, self.log_cdf_, self.log_sf_ = flat
        self.minimum_ = data.amin(0).cpu().numpy()
        self.maximum_ = data.amax(0).cpu().numpy()
        self.n_samples_fit_ = data.shape[0]
        self.n_features_in_ = data.shape[1]
        return self

    def feature_scores(self, X) -> dict[str, torch.Tensor]:
        """Per-feature ``log_density``, ``log_cdf`` and ``log_sf`` of every sample, each
        (n_samples, n_features) float64 tensors on the model's device."""
        check_is_fitted(self, ["log_density_"])
        device = resolve_device(self.device)
        data = check_tensor(X, device=device, allow_nd=False)
        check_n_features(self, tuple(data.shape))
        data = data.double()

        def tensor(values) -> torch.Tensor:
            return torch.as_tensor(np.asarray(values), device=device)

        start, step = tensor(self.grid_start_), tensor(self.grid_step_)
        offsets = tensor(self.grid_offsets_)
        sizes = offsets[1:] - offsets[:-1]
        position = (data - start) / step
        left = position.floor().clamp(torch.zeros_like(start), (sizes - 2).double())
        weight = (position - left).clamp(0.0, 1.0)
        index = left.long() + offsets[:-1]
        scores = {}
        for name in _TABLES:
            table = tensor(getattr(self, name + "_"))
            scores[name] = torch.lerp(table[index], table[index + 1], weight)
        # Beyond the grid the extreme sample's kernel dominates: continue from the grid's edge
        # at the rate that kernel falls (the other tail stays at the edge value, about 0).
        bandwidth = tensor(self.bandwidth_)
        end = start + step * (sizes - 1).double()
        for edge, extreme, tail, side in ((start, tensor(self.minimum_), "log_cdf", 1.0),
                                          (end, tensor(self.maximum_), "log_sf", -1.0)):
            beyond = side * (data - edge) < 0
            z, z_edge = side * (data - extreme) / bandwidth, side * (edge - extreme) / bandwidth
            scores["log_density"] += torch.where(
                beyond, 0.5 * (z_edge.square() - z.square()), 0.0)
            scores[tail] += torch.where(
                beyond, torch.special.log_ndtr(z) - torch.special.log_ndtr(z_edge), 0.0)
        return scores

    def score_samples(self, X):
        """Log-density of every sample (the sum of its features' log-densities), in nats."""
        result = self.feature_scores(X)["log_density"].sum(1)
        return as_output(result, X)

    def tail_log_probability(self, X):
        """``sum_j log min(1, 2 min(P(X_j <= x_j), P(X_j >= x_j)))``: the log of the product
        of every feature's two-sided tail probability, higher = more central. It is the
        density-free half of the independence model: a value beyond the range of the data
        scores low even where a multimodal density is high."""
        return as_output(two_sided_tail(self.feature_scores(X)), X)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of ``X``."""
        return float(torch.as_tensor(self.score_samples(X)).mean())

    def sample(self, n_samples: int = 1, random_state: int | None = None) -> np.ndarray:
        """Draw ``n_samples`` points, each feature independently by inverting its CDF on the
        grid (float64 numpy array); same ``random_state``, same draw."""
        check_is_fitted(self, ["log_density_"])
        check_int("n_samples", n_samples)
        generator = torch_generator(resolve_seed(random_state))
        uniform = torch.rand(n_samples, self.n_features_in_, generator=generator,
                             dtype=torch.float64)
        result = np.empty((n_samples, self.n_features_in_))
        for j in range(self.n_features_in_):
            lo, hi = self.grid_offsets_[j], self.grid_offsets_[j + 1]
            cdf = np.exp(self.log_cdf_[lo:hi])
            grid = self.grid_start_[j] + self.grid_step_[j] * np.arange(hi - lo)
            result[:, j] = np.interp(uniform[:, j].numpy(), cdf, grid)
        return result

    def _get_state(self):
        check_is_fitted(self, ["log_density_"])
        names = ("bandwidth_", "grid_start_", "grid_step_", "grid_offsets_", "log_density_",
                 "log_cdf_", "log_sf_", "minimum_", "maximum_")
        tensors = {name: torch.from_numpy(np.ascontiguousarray(getattr(self, name)))
                   for name in names}
        return tensors, {"n_features_in_": self.n_features_in_,
                         "n_samples_fit_": self.n_samples_fit_}

    def _set_state(self, tensors, state):
        for name, tensor in tensors.items():
            setattr(self, name, tensor.numpy())
        self.n_features_in_ = state["n_features_in_"]
        self.n_samples_fit_ = state["n_samples_fit_"]
