"""EM for Gaussian mixtures over row blocks and processes (see ``_sharded``).

The E-step runs on each block of each process's rows; what the M-step needs of the data is
its sufficient statistics (responsibility mass, weighted sums, weighted second moments),
summed over blocks and then over processes with one ``all_reduce``. Rows are centred on the
global mean first, so second moments lose no precision.
"""

from __future__ import annotations

import math
import warnings

import torch

from nolabel.classical._kmeans_core import assign, row_norms_sq
from nolabel.classical._sharded import Shard

_EPS = float(torch.finfo(torch.float64).eps)
_MIN_MASS = 1e-6


class Statistics:
    """Sufficient statistics of one pass: mass, sums and second moments per component."""

    def __init__(self, k: int, d: int, covariance_type: str, device: torch.device) -> None:
        self.k, self.d, self.covariance_type = k, d, covariance_type
        second = {"full": (k, d, d), "tied": (d, d)}.get(covariance_type, (k, d))
        zeros = lambda *shape: torch.zeros(*shape, dtype=torch.float64, device=device)  # noqa: E731
        self.nk, self.sums, self.second = zeros(k), zeros(k, d), zeros(*second)
        self.log_likelihood = zeros(1)

    def add(self, X: torch.Tensor, resp: torch.Tensor) -> None:
        self.nk += resp.sum(0)
        self.sums += resp.T @ X
        if self.covariance_type == "full":
            for j in range(self.k):
                weighted = X * resp[:, j:j + 1]
                self.second[j] += weighted.T @ X
        elif self.covariance_type == "tied":
            self.second += X.T @ X
        else:
            self.second += resp.T @ X.square()

    def total(self, shard: Shard) -> None:
        parts = [self.nk, self.sums, self.second, self.log_likelihood]
        packed = shard.total(torch.cat([p.flatten() for p in parts]), "an EM step")
        offset = 0
        for part in parts:
            part.copy_(packed[offset:offset + part.numel()].view_as(part))
            offset += part.numel()

    def parameters(self, n_total: int, reg_covar: float):
        """M-step: weights, means, covariances (scikit-learn's formulas)."""
        nk = self.nk + 10 * _EPS
        means = self.sums / nk[:, None]
        if self.covariance_type == "full":
            covariances = self.second / nk[:, None, None] - means[:, :, None] * means[:, None, :]
            covariances.diagonal(dim1=1, dim2=2).add_(reg_covar)
        elif self.covariance_type == "tied":
            covariances = (self.second - (nk * means.T) @ means) / nk.sum()
            covariances.diagonal().add_(reg_covar)
        else:
            covariances = self.second / nk[:, None] - means.square() + reg_covar
            if self.covariance_type == "spherical":
                covariances = covariances.mean(1)
        return nk / n_total, means, covariances


def hard_statistics(shard: Shard, offset: torch.Tensor, means: torch.Tensor,
                    covariance_type: str) -> Statistics:
    """Statistics of responsibilities that put every row on its nearest mean."""
    k, d = means.shape
    stats = Statistics(k, d, covariance_type, shard.device)
    for block in shard.blocks(torch.float64):
        block = block - offset
        labels, _ = assign(block, row_norms_sq(block), means)
        stats.add(block, torch.nn.functional.one_hot(labels, k).to(block.dtype))
    stats.total(shard)
    return stats


def em_pass(shard: Shard, offset: torch.Tensor, params, covariance_type: str,
            e_step, exact: bool = True) -> Statistics:
    """E-step on every block; statistics and total log-likelihood over all processes.
    ``exact`` False takes the E-step's products in float32, as ``GaussianMixture`` does in
    memory (the statistics stay float64)."""
    weights, means, precisions_chol = params
    stats = Statistics(*means.shape, covariance_type, shard.device)
    for block in shard.blocks(torch.float64):
        block = block - offset
        log_density, log_resp = e_step(block if exact else block.float(), weights, means,
                                       precisions_chol, covariance_type)
        stats.log_likelihood += log_density.sum()
        stats.add(block, log_resp.exp())
    stats.total(shard)
    return stats


def reseed_collapsed(stats: Statistics, weights, means, covariances, sample, variance):
    """Put components without mass on sample rows with the data's spread (same everywhere)."""
    collapsed = torch.nonzero(stats.nk < _MIN_MASS).flatten().tolist()
    if not collapsed:
        return weights
    covariance_type = stats.covariance_type
    for position, component in enumerate(collapsed):
        warnings.warn(f"Gaussian mixture component {component} collapsed; re-seeded on a "
                      "sample row", UserWarning, stacklevel=4)
        means[component] = sample[position % len(sample)]
        if covariance_type == "full":
            covariances[component] = torch.diag(variance)
        elif covariance_type == "diag":
            covariances[component] = variance
        elif covariance_type == "spherical":
            covariances[component] = variance.mean()
        weights[component] = 1.0 / len(sample)
    return weights / weights.sum()


def log_likelihood_mean(stats: Statistics, n_total: int) -> float:
    value = float(stats.log_likelihood[0]) / n_total
    return value if math.isfinite(value) else -math.inf
