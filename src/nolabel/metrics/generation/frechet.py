"""Fréchet distance between two sets of feature vectors, each summarised by a Gaussian.

``FD = ||mu1 - mu2||² + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^{1/2})`` (Dowson & Landau 1982), the
formula of FID (Heusel et al. 2017) on whatever features are given.

The trace of the square root is found without forming ``(S1 S2)^{1/2}``: ``S1 S2`` has the same
eigenvalues as the symmetric positive semi-definite ``S1^{1/2} S2 S1^{1/2}``, so the trace is the
sum of the square roots of that matrix's eigenvalues (``eigh`` in float64). Unlike
``scipy.linalg.sqrtm`` of the non-symmetric product, this never gives complex or NaN values,
including for the singular covariances of fewer samples than features.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nolabel.errors import DataError
from nolabel.metrics.generation._features import check_feature_pair


def _psd_eigenvalues(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of a symmetric PSD matrix, rounding-level negatives set to 0."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return np.clip(values, 0.0, None), vectors


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((S1 S2)^{1/2})`` for symmetric positive semi-definite ``S1``, ``S2``."""
    values, vectors = _psd_eigenvalues(sigma1)
    root = (vectors * np.sqrt(values)) @ vectors.T
    inner, _ = _psd_eigenvalues(root @ sigma2 @ root)
    return float(np.sqrt(inner).sum())


def _check_covariance(sigma: Any, dim: int, name: str) -> np.ndarray:
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if sigma.shape != (dim, dim):
        raise DataError(f"{name} must be a ({dim}, {dim}) covariance matrix, got {sigma.shape}")
    if not np.isfinite(sigma).all():
        raise DataError(f"{name} holds non-finite values")
    scale = max(float(np.abs(sigma).max()), np.finfo(np.float64).tiny)
    if np.abs(sigma - sigma.T).max() > 1e-8 * scale:
        raise DataError(f"{name} is not symmetric, so it is not a covariance matrix")
    if np.linalg.eigvalsh(sigma).min() < -1e-8 * scale:
        raise DataError(f"{name} has a negative eigenvalue, so it is not a covariance matrix")
    return sigma


def frechet_distance_from_stats(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Means are vectors of length d, covariances (d, d) symmetric positive semi-definite
    matrices. Computed in float64; rounding-level negatives are returned as 0.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise DataError(
            f"mu1 and mu2 must be vectors of one length, got {mu1.shape} and {mu2.shape}"
        )
    if not (np.isfinite(mu1).all() and np.isfinite(mu2).all()):
        raise DataError("mu1 and mu2 must be finite")
    sigma1 = _check_covariance(sigma1, mu1.size, "sigma1")
    sigma2 = _check_covariance(sigma2, mu1.size, "sigma2")
    difference = mu1 - mu2
    value = (difference @ difference + np.trace(sigma1) + np.trace(sigma2)
             - 2.0 * trace_sqrt_product(sigma1, sigma2))
    return max(float(value), 0.0)


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (divided by n - 1, as FID implementations do)."""
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """Fréchet distance between the Gaussians fitted to two feature sets of shape (n, d).

    Arrays or tensors; each set needs at least two samples. The value depends on the number
    of samples (it is biased upwards for small sets), so compare sets of equal size.
    """
    a, b = check_feature_pair(features_a, features_b, ("features_a", "features_b"))
    return frechet_distance_from_stats(*feature_stats(a), *feature_stats(b))
