"""Every estimator passes scikit-learn's ``check_estimator`` suite.

Skipped checks, with the reason (ClustPy lists its skips the same way in ``checks.py``):
- ``check_array_api_input``: runs only when ``SCIPY_ARRAY_API=1`` is set; nolabel takes torch
  tensors directly instead of going through the array API.
"""

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from nolabel import GaussianMixture, KMeans
from nolabel.classical.minibatch_kmeans import MiniBatchKMeans

ESTIMATORS = [
    KMeans(n_clusters=3, device="cpu"),
    GaussianMixture(n_components=2, device="cpu"),
    MiniBatchKMeans(n_clusters=3, device="cpu"),
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
