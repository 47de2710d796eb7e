"""Every estimator, classical and neural, runs scikit-learn's ``check_estimator`` suite.

The neural ones run with tiny networks and one or two epochs. A check that cannot apply to
a model is listed below with the reason and marked as an expected failure (xfail), so it
still runs and a check that starts passing is reported (ClustPy lists its skips the same
way in ``checks.py``):

- ``check_array_api_input``: runs only when ``SCIPY_ARRAY_API=1`` is set; nolabel takes torch
  tensors directly instead of going through the array API.
- Image models (ConvAutoEncoder, DCGAN, PixelCNN, PixelRNN) take images (n, c, h, w); the
  checks that fit them on 2-D tables of 1 to 10 columns meet the image-shape error first.
- Models of data in [0, 1] (GAN: a sigmoid generator; InfoGAN and CatGAN: on vectors, a
  sigmoid generator too) refuse the checks' unbounded random tables, naming the range.
- VAE's and VaDE's ``score_samples`` are Monte-Carlo estimates (importance weighting):
  each sample's noise depends on its place in the batch, so a reordered or smaller batch
  changes the score at the estimator's noise level (``n_importance`` sets it).
- Checks that need pandas skip themselves when it is not installed (it is not a dependency).
"""

import warnings

from sklearn.utils.estimator_checks import parametrize_with_checks

from nolabel import (
    DBSCAN,
    PCA,
    GaussianDensity,
    GaussianMixture,
    ImageKernelDensity,
    KernelDensity,
    KMeans,
    ManifoldMixture,
    MarginalDensity,
    MarginalDetector,
    MiniBatchKMeans,
    registry,
)
from nolabel.models.base import NeuralEstimator

TINY = {"hidden_dims": (8,), "latent_dim": 2, "channels": (4,), "generator_dims": (8,),
        "discriminator_dims": (8,), "pretrain_epochs": 3, "epochs": 2, "batch_size": 16,
        "n_clusters": 2, "n_neighbors": 5, "n_init": 1, "update_interval": 2, "n_layers": 1,
        "n_importance": 2, "random_state": 0, "device": "cpu"}


def _tiny(name: str):
    entry = registry.get(name)
    settings = {k: v for k, v in TINY.items() if k in entry.defaults}
    if "hidden_channels" in entry.defaults:  # PixelCNN/RNN: one width for every layer
        settings["hidden_channels"] = 4
    return entry.cls(**settings)


NEURAL = [entry.name for entry in registry.entries() if issubclass(entry.cls, NeuralEstimator)]

ESTIMATORS = [
    KMeans(n_clusters=3, device="cpu"),
    GaussianMixture(n_components=2, device="cpu"),
    DBSCAN(device="cpu"),
    MiniBatchKMeans(n_clusters=3, device="cpu"),
    ManifoldMixture(n_clusters=3, n_neighbors=5, n_init=1, random_state=0, device="cpu"),
    PCA(n_components=2, device="cpu"),
    GaussianDensity(device="cpu"),
    KernelDensity(device="cpu"),
    MarginalDensity(device="cpu"),
    MarginalDetector(device="cpu"),
    ImageKernelDensity(device="cpu"),
    *(_tiny(name) for name in NEURAL),
]

ALWAYS = {"check_array_api_input": "needs SCIPY_ARRAY_API=1; nolabel takes torch tensors "
                                   "directly"}

# Checks that fit on a random 2-D table (or on 1-feature / 1-sample tables).
_FITS_A_TABLE = (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_estimators_dtypes",
    "check_estimators_fit_returns_self", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_1feature",
    "check_fit2d_predict1d", "check_fit_check_is_fitted", "check_fit_idempotent",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_n_features_in", "check_n_features_in_after_fitting", "check_pipeline_consistency",
    "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
)
_IMAGES_ONLY = {
    check: "takes images (n, channels, height, width); the check fits a 2-D table"
    for check in (*_FITS_A_TABLE, "check_complex_data", "check_dtype_object",
                  "check_estimators_empty_data_messages", "check_estimators_nan_inf",
                  "check_fit2d_1sample", "check_fit_score_takes_y",
                  "check_transformer_data_not_an_array", "check_transformer_general",
                  "check_transformer_preserve_dtypes")
}
_UNIT_INTERVAL = {
    check: "models data in [0, 1] (a sigmoid generator); the check's table lies outside"
    for check in (*_FITS_A_TABLE, "check_clustering", "check_transformer_data_not_an_array",
                  "check_transformer_general", "check_transformer_preserve_dtypes")
}
_MONTE_CARLO = {
    check: "score_samples is an importance-weighted Monte-Carlo estimate: a sample's noise "
           "depends on its place in the batch"
    for check in ("check_methods_sample_order_invariance", "check_methods_subset_invariance")
}
# Its input checks come before the image test, so the empty, complex and one-sample tables
# are refused with the common messages and those checks pass.
_IMAGE_KDE = {check: reason for check, reason in _IMAGES_ONLY.items()
              if check not in ("check_complex_data", "check_estimators_empty_data_messages",
                               "check_fit2d_1sample")}
EXPECTED = {
    "ConvAutoEncoder": _IMAGES_ONLY, "DCGAN": _IMAGES_ONLY, "ImageKernelDensity": _IMAGE_KDE,
    "PixelCNN": _IMAGES_ONLY, "PixelRNN": _IMAGES_ONLY, "GAN": _UNIT_INTERVAL,
    "InfoGAN": _UNIT_INTERVAL, "CatGAN": _UNIT_INTERVAL, "VAE": _MONTE_CARLO, "VaDE": _MONTE_CARLO,
}


def expected_failures(estimator) -> dict[str, str]:
    return {**ALWAYS, **EXPECTED.get(type(estimator).__name__, {})}


def test_every_registered_estimator_is_checked():
    checked = {type(estimator) for estimator in ESTIMATORS}
    assert {entry.cls for entry in registry.entries()} <= checked


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_check(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
