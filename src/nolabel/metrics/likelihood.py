"""Likelihood bookkeeping for explicit-density models: log-densities, ELBO, IWAE, bits/dim.

Everything is in nats and per sample (summed over the data dimensions) unless said otherwise;
tensor in, tensor out, differentiable, so the models' losses use these same functions.

Discrete data: a model of 8-bit images as a continuous density on [0, 1] must be scored on
dequantised data ``(k + u) / 256`` with ``u ~ U(0, 1)``; its density there is then a lower
bound on the discrete likelihood after the change of variables, which :func:`bits_per_dim`
with ``bins=256`` accounts for (``+ log 256`` nats per dimension).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2.0 * math.pi)


def log_bernoulli(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``log p(x)`` under independent Bernoulli(sigmoid(logits)), summed per sample.

    ``x`` may be any value in [0, 1] (the cross-entropy of grey levels, as is customary).
    """
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def log_gaussian(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``log N(x; mean, diag(exp(logvar)))`` summed per sample (inputs broadcast; batch first)."""
    terms = (x - mean) ** 2 * torch.exp(-logvar) + logvar + LOG_2PI
    return -0.5 * terms.flatten(1).sum(1)


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """``log N(z; 0, I)`` summed over the last axis."""
    return -0.5 * (z**2 + LOG_2PI).sum(-1)


def log_diagonal_normal(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``log N(z; mean, diag(exp(logvar)))`` summed over the last axis (inputs broadcast)."""
    return -0.5 * ((z - mean) ** 2 * torch.exp(-logvar) + logvar + LOG_2PI).sum(-1)


def iwae(log_weights: torch.Tensor) -> torch.Tensor:
    """Importance-weighted bound ``log (1/k) Σ_i w_i`` from ``log w`` of shape (n, k).

    With ``log w = log p(x, z_i) − log q(z_i | x)`` and ``z_i ~ q``, this is the IWAE bound of
    Burda et al. (2016): at least the ELBO (k = 1) in expectation, rising to ``log p(x)``.
    """
    k = log_weights.shape[-1]
    return torch.logsumexp(log_weights, -1) - math.log(k)


def bits_per_dim(nll_nats: torch.Tensor | float, n_dims: int, *, bins: int | None = None):
    """Negative log-likelihood in bits per dimension.

    ``bins=256`` for a continuous density fitted to 8-bit data rescaled to [0, 1] and
    dequantised: adds ``log 256`` nats per dimension, the log-Jacobian of the rescaling.
    """
    extra = n_dims * math.log(bins) if bins else 0.0
    return (nll_nats + extra) / (n_dims * math.log(2.0))


def dequantize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """8-bit images in [0, 1] (values k/255) to ``(k + u) / 256``, ``u ~ U(0, 1)``."""
    levels = torch.round(x * 255.0)
    noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (levels + noise) / 256.0


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Dynamic binarisation: each value in [0, 1] becomes 1 with that probability."""
    noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (noise < x).to(x.dtype)
