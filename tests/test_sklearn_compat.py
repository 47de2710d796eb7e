"""Every estimator passes scikit-learn's ``check_estimator`` suite.

Skipped checks, with the reason (ClustPy lists its skips the same way in ``checks.py``):
- ``check_array_api_input``: runs only when ``SCIPY_ARRAY_API=1`` is set; nolabel takes torch
  tensors directly instead of going through the array API.
- Checks that need pandas skip themselves when it is not installed (it is not a dependency).
"""

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from nolabel import (
    DBSCAN,
    PCA,
    GaussianDensity,
    GaussianMixture,
    KernelDensity,
    KMeans,
    MiniBatchKMeans,
)

ESTIMATORS = [
    KMeans(n_clusters=3, device="cpu"),
    GaussianMixture(n_components=2, device="cpu"),
    DBSCAN(device="cpu"),
    MiniBatchKMeans(n_clusters=3, device="cpu"),
    PCA(n_components=2, device="cpu"),
    GaussianDensity(device="cpu"),
    KernelDensity(device="cpu"),
]

SKIPPED = {
    "check_array_api_input": "needs SCIPY_ARRAY_API=1; nolabel takes torch tensors directly",
}


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_check(estimator, check):
    name = getattr(check, "func", check).__name__
    if name in SKIPPED:
        pytest.skip(SKIPPED[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
