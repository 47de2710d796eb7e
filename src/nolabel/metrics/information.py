"""Information theory on numpy arrays and torch tensors alike.

Each function returns the kind it was given (a tensor if any input is a tensor), and the
torch path is differentiable so losses can call it. Values are in nats unless ``base`` says
otherwise (``base=2`` gives bits). Probabilities are checked (finite, in [0, 1], summing to
1 along the distribution axis) unless ``validate=False``, which skips the checks, and the
host round-trip they cost, inside training loops.

Conventions: ``0 · log 0 = 0``, so zero-probability outcomes add nothing; and where
``q == 0`` but ``p > 0`` the cross-entropy and the KL divergence are ``+inf``, because
``q`` then calls impossible an outcome that ``p`` says can happen.
"""

from __future__ import annotations

import math
from typing import Any

from sklearn.metrics import mutual_info_score

from nolabel.errors import DataError
from nolabel.metrics import _array_ops as ops
from nolabel.metrics._array_ops import Array
from nolabel.metrics._labels import check_label_pair


def self_information(p: Any, base: float = math.e, *, validate: bool = True) -> Array:
    """Surprise ``-log p`` of an outcome of probability ``p``, elementwise (+inf at 0)."""
    (p,) = ops.as_float_arrays(p=p)
    log_base = ops.log_of_base(base)
    if validate:
        ops.check_probabilities(p, "p")
    return -ops.log(p) / log_base


def entropy(p: Any, axis: int = -1, base: float = math.e, *, validate: bool = True) -> Array:
    """Shannon entropy ``-Σ p log p`` of the distributions laid along ``axis``."""
    (p,) = ops.as_float_arrays(p=p)
    log_base = ops.log_of_base(base)
    axis = ops.check_axis(p, axis, "p")
    if validate:
        ops.check_probabilities(p, "p", (axis,))
    # 0.0 - x rather than -x, so a certain outcome reports 0.0 and not -0.0.
    return (0.0 - ops.total(ops.xlogy(p, p), axis)) / log_base


def _checked_pair(p: Any, q: Any, axis: int, validate: bool) -> tuple[Array, Array, int]:
    p, q = ops.as_float_arrays(p=p, q=q)
    axis = ops.check_axis(p, axis, "p")
    if validate:
        ops.check_broadcastable(p=p, q=q)
        ops.check_axis(q, axis, "q")
        if p.shape[axis] != q.shape[axis]:  # broadcasting may repeat whole distributions only
            raise DataError(
                f"p and q must give probabilities of the same outcomes along axis {axis}, but p "
                f"has {p.shape[axis]} and q has {q.shape[axis]}"
            )
        ops.check_probabilities(p, "p", (axis,))
        ops.check_probabilities(q, "q", (axis,))
    return p, q, axis


def cross_entropy(
    p: Any, q: Any, axis: int = -1, base: float = math.e, *, validate: bool = True
) -> Array:
    """Cross-entropy ``-Σ p log q``: the cost of coding samples of ``p`` with a code for ``q``.

    Equals ``entropy(p) + kl_divergence(p, q)``; +inf where ``q == 0`` but ``p > 0``.
    """
    log_base = ops.log_of_base(base)
    p, q, axis = _checked_pair(p, q, axis, validate)
    return (0.0 - ops.total(ops.xlogy(p, q), axis)) / log_base


def kl_divergence(
    p: Any, q: Any, axis: int = -1, base: float = math.e, *, validate: bool = True
) -> Array:
    """Kullback-Leibler divergence ``KL(p || q) = Σ p log(p / q)``, >= 0, 0 only when p = q.

    It is +inf where ``q == 0`` but ``p > 0`` (``p`` puts mass where ``q`` has none).
    """
    log_base = ops.log_of_base(base)
    p, q, axis = _checked_pair(p, q, axis, validate)
    return ops.total(ops.relative_entropy(p, q), axis) / log_base


def mutual_information(joint: Any, base: float = math.e, *, validate: bool = True) -> Array:
    """Mutual information ``I(X; Y)`` of a joint probability table ``p(x, y)``.

    The table is the last two axes of ``joint`` (rows: values of X, columns: values of Y);
    leading axes are a batch of tables. Computed as ``KL(p(x, y) || p(x) p(y))``.
    """
    (joint,) = ops.as_float_arrays(joint=joint)
    log_base = ops.log_of_base(base)
    if validate:
        if joint.ndim < 2:
            raise DataError(
                f"joint must be a table of p(x, y) with at least 2 axes, got shape "
                f"{tuple(joint.shape)}"
            )
        ops.check_probabilities(joint, "joint", (-2, -1))
    independent = ops.total(joint, -1)[..., :, None] * ops.total(joint, -2)[..., None, :]
    information = ops.total(ops.relative_entropy(joint, independent), (-2, -1)) / log_base
    # The exact value is >= 0; rounding alone could make it a hair negative.
    return ops.clip_below_zero(information)


def mutual_information_labels(a: Any, b: Any, base: float = math.e) -> float:
    """Mutual information between two labelings of the same samples (nats by default).

    scikit-learn's ``mutual_info_score(a, b)``, converted to ``base``; for labels, which
    have no gradient, there is no reason for a version of our own.
    """
    log_base = ops.log_of_base(base)
    a, b = check_label_pair(a, b, names=("a", "b"))
    return float(mutual_info_score(a, b)) / log_base


def gaussian_kl(mu: Any, logvar: Any, *, validate: bool = True) -> Array:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` in closed form, summed over the last axis.

    This is the VAE's regulariser; a batch of shape ``(n, d)`` gives ``n`` values.
    """
    mu, logvar = ops.as_float_arrays(mu=mu, logvar=logvar)
    if validate:
        _check_gaussians(mu=mu, logvar=logvar)
    return 0.5 * ops.total(ops.exp(logvar) + mu**2 - 1.0 - logvar, -1)


def gaussian_kl_pair(
    mu1: Any, logvar1: Any, mu2: Any, logvar2: Any, *, validate: bool = True
) -> Array:
    """``KL(N(mu1, diag(exp(logvar1))) || N(mu2, diag(exp(logvar2))))``, summed over the last axis.

    Inputs broadcast, so ``(n, 1, d)`` posteriors against ``(1, k, d)`` mixture components
    give an ``(n, k)`` table.
    """
    mu1, logvar1, mu2, logvar2 = ops.as_float_arrays(
        mu1=mu1, logvar1=logvar1, mu2=mu2, logvar2=logvar2
    )
    if validate:
        _check_gaussians(mu1=mu1, logvar1=logvar1, mu2=mu2, logvar2=logvar2)
    # Variance ratios as exp of differences, so huge or tiny variances do not overflow.
    terms = (
        logvar2 - logvar1 + ops.exp(logvar1 - logvar2) + (mu1 - mu2) ** 2 * ops.exp(-logvar2) - 1.0
    )
    return 0.5 * ops.total(terms, -1)


def _check_gaussians(**parameters: Array) -> None:
    for name, value in parameters.items():
        ops.check_axis(value, -1, name)
        ops.check_finite(value, name)
    ops.check_broadcastable(**parameters)


__all__ = [
    "cross_entropy",
    "entropy",
    "gaussian_kl",
    "gaussian_kl_pair",
    "kl_divergence",
    "mutual_information",
    "mutual_information_labels",
    "self_information",
]
