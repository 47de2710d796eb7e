"""Bad arrays and hyper-parameters for the estimators: classical, neural, deep clustering."""

from __future__ import annotations

import numpy as np

from bad_inputs.case import fails, succeeds
from nolabel import (
    DBSCAN,
    DEC,
    PCA,
    VAE,
    AutoEncoder,
    GaussianDensity,
    GaussianMixture,
    KernelDensity,
    KMeans,
    MiniBatchKMeans,
    VaDE,
)
from nolabel.data import Dataset, binarize, clean, train_test_split
from nolabel.errors import DataError, DataTypeError, ParameterError, TrainingError

_RNG = np.random.default_rng(0)
X = _RNG.normal(size=(20, 4)).astype(np.float32)
UNIT = _RNG.random((20, 4)).astype(np.float32)  # in [0, 1], for Bernoulli likelihoods
HUGE = X * 1e30
CONSTANT = np.full((20, 4), 0.5, dtype=np.float32)
WITH_NAN = UNIT.copy()
WITH_NAN[[3, 7], [2, 0]] = np.nan
STRINGS = [["1.0", "2.0"], ["3.0", "four"]]
OBJECTS = np.array([[1.0, "a"], [2.0, 3.0]], dtype=object)
RAGGED = [[1.0, 2.0], [3.0]]

_NEURAL = {"hidden_dims": (4,), "latent_dim": 2, "epochs": 1, "batch_size": 8,
           "random_state": 0, "device": "cpu"}
_DEEP = {"hidden_dims": (4,), "latent_dim": 2, "pretrain_epochs": 1, "epochs": 1,
         "n_init": 1, "batch_size": 8, "random_state": 0, "device": "cpu"}


def _fit(cls, data, **params):
    return lambda corpus: cls(**params).fit(data)


def _kmeans(data, **params):
    return _fit(KMeans, data, **{"n_clusters": 2, "random_state": 0, "device": "cpu", **params})


def _centres_and_inertia(model):
    return model.cluster_centers_, model.inertia_


CLASSICAL = [
    fails("kmeans-k-above-n", _kmeans(X, n_clusters=30), DataError,
          r"n_clusters=30 is larger than the number of samples \(20\)"),
    fails("kmeans-one-sample", _kmeans(X[:1]), DataError,
          r"n_clusters=2 is larger than the number of samples \(1\)"),
    fails("kmeans-zero-samples", _kmeans(X[:0]), DataError, r"X has 0 samples"),
    fails("kmeans-one-d", _kmeans(X[:, 0]), DataError, r"X must be 2-D .* is 1-D"),
    fails("kmeans-strings", _kmeans(STRINGS), DataTypeError,
          r"X is not numeric: row 1, column 1 holds np\.str_\('four'\)"),
    fails("kmeans-object-array", _kmeans(OBJECTS), DataTypeError,
          r"X is not numeric: row 0, column 1 holds 'a'"),
    fails("kmeans-ragged-list", _kmeans(RAGGED), DataError,
          r"X is not a rectangular array: its rows have different lengths"),
    fails("kmeans-nan", _kmeans(WITH_NAN), DataError,
          r"X has a NaN at row 3, column 2 \(2 non-finite"),
    fails("kmeans-zero-clusters", _kmeans(X, n_clusters=0), ParameterError,
          r"n_clusters must be >= 1, got 0"),
    fails("kmeans-negative-clusters", _kmeans(X, n_clusters=-3), ParameterError,
          r"n_clusters must be >= 1, got -3"),
    fails("kmeans-fractional-clusters", _kmeans(X, n_clusters=2.5), ParameterError,
          r"n_clusters must be an integer, got 2\.5"),
    fails("kmeans-negative-tol", _kmeans(X, tol=-1.0), ParameterError, r"tol must be >= 0"),
    fails("kmeans-zero-iterations", _kmeans(X, max_iter=0), ParameterError,
          r"max_iter must be >= 1, got 0"),
    fails("kmeans-huge-values", lambda c: _centres_and_inertia(_kmeans(HUGE)(c)), DataError,
          r"X holds values so large that squared distances .* overflow float32"),
    succeeds("kmeans-constant-features",
             lambda c: _centres_and_inertia(_kmeans(CONSTANT)(c))),
    fails("minibatch-kmeans-huge-values",
          _fit(MiniBatchKMeans, HUGE, n_clusters=2, random_state=0, device="cpu"), DataError,
          r"X holds values so large that squared distances .* overflow float32"),
    fails("minibatch-kmeans-k-above-n",
          _fit(MiniBatchKMeans, X, n_clusters=21, device="cpu"), DataError,
          r"n_clusters=21 is larger than the number of samples \(20\)"),
    fails("minibatch-kmeans-zero-batch",
          _fit(MiniBatchKMeans, X, n_clusters=2, batch_size=0, device="cpu"), ParameterError,
          r"batch_size must be >= 1, got 0"),
    fails("gmm-k-above-n", _fit(GaussianMixture, X, n_components=21, device="cpu"), DataError,
          r"n_components=21 is larger than the number of samples \(20\)"),
    fails("gmm-negative-reg-covar",
          _fit(GaussianMixture, X, n_components=2, reg_covar=-1.0, device="cpu"),
          ParameterError, r"reg_covar must be >= 0"),
    fails("gmm-one-d", _fit(GaussianMixture, X[:, 0], device="cpu"), DataError,
          r"X must be 2-D .* is 1-D"),
    fails("gmm-strings", _fit(GaussianMixture, STRINGS, device="cpu"), DataTypeError,
          r"X is not numeric"),
    succeeds("gmm-huge-values", lambda c: (
        (m := GaussianMixture(2, random_state=0, device="cpu").fit(HUGE)).means_,
        m.score_samples(HUGE))),
    succeeds("gmm-constant-features", lambda c: GaussianMixture(
        2, random_state=0, device="cpu").fit(CONSTANT).predict_proba(CONSTANT)),
    fails("dbscan-zero-eps", _fit(DBSCAN, X, eps=0.0, device="cpu"), ParameterError,
          r"eps must be > 0"),
    fails("dbscan-negative-eps", _fit(DBSCAN, X, eps=-1.0, device="cpu"), ParameterError,
          r"eps must be > 0"),
    fails("dbscan-zero-min-samples", _fit(DBSCAN, X, min_samples=0, device="cpu"),
          ParameterError, r"min_samples must be >= 1, got 0"),
    fails("dbscan-zero-samples", _fit(DBSCAN, X[:0], device="cpu"), DataError,
          r"X has 0 samples"),
    fails("dbscan-object-array", _fit(DBSCAN, OBJECTS, device="cpu"), DataTypeError,
          r"X is not numeric"),
    succeeds("dbscan-one-sample", lambda c: DBSCAN(device="cpu").fit(X[:1]).labels_),
    succeeds("dbscan-huge-values", lambda c: DBSCAN(eps=3e30, device="cpu").fit(HUGE).labels_),
    fails("pca-zero-components", _fit(PCA, X, n_components=0, device="cpu"), ParameterError,
          r"n_components must be >= 1, got 0"),
    fails("pca-negative-components", _fit(PCA, X, n_components=-1, device="cpu"),
          ParameterError, r"n_components must be >= 1, got -1"),
    fails("pca-components-above-features", _fit(PCA, X, n_components=10, device="cpu"),
          ParameterError, r"n_components=10 must be at most min\(n_samples, n_features\)"),
    fails("pca-one-sample", _fit(PCA, X[:1], device="cpu"), DataError,
          r"X has 1 samples but at least 2 are needed"),
    fails("pca-one-d", _fit(PCA, X[:, 0], device="cpu"), DataError, r"X must be 2-D"),
    succeeds("pca-constant-features-whitened", lambda c: PCA(
        2, whiten=True, device="cpu").fit(CONSTANT).transform(CONSTANT)),
    succeeds("pca-huge-values", lambda c: (
        (m := PCA(2, device="cpu").fit(HUGE)).explained_variance_ratio_, m.transform(HUGE))),
    fails("kde-zero-bandwidth", _fit(KernelDensity, X, bandwidth=0.0, device="cpu"),
          ParameterError, r"bandwidth must be > 0"),
    fails("kde-negative-bandwidth", _fit(KernelDensity, X, bandwidth=-1.0, device="cpu"),
          ParameterError, r"bandwidth must be > 0"),
    fails("kde-one-sample", _fit(KernelDensity, X[:1], device="cpu"), DataError,
          r"X has 1 samples but at least 2 are needed"),
    succeeds("kde-huge-values", lambda c: KernelDensity(device="cpu").fit(HUGE).score_samples(
        HUGE)),
    succeeds("kde-constant-features", lambda c: KernelDensity(device="cpu").fit(
        CONSTANT).score_samples(CONSTANT)),
    fails("gaussian-density-zero-samples", _fit(GaussianDensity, X[:0], device="cpu"),
          DataError, r"X has 0 samples"),
    succeeds("gaussian-density-one-sample", lambda c: GaussianDensity(device="cpu").fit(
        X[:1]).score_samples(X)),
]

NEURAL = [
    fails("autoencoder-one-sample", _fit(AutoEncoder, UNIT[:1], **_NEURAL), DataError,
          r"X has 1 samples but at least 2 are needed"),
    fails("autoencoder-zero-samples", _fit(AutoEncoder, UNIT[:0], **_NEURAL), DataError,
          r"X has 0 samples"),
    fails("autoencoder-one-d", _fit(AutoEncoder, UNIT[:, 0], **_NEURAL), DataError,
          r"X must be 2-D"),
    fails("autoencoder-strings", _fit(AutoEncoder, STRINGS, **_NEURAL), DataTypeError,
          r"X is not numeric: row 1, column 1"),
    fails("autoencoder-object-array", _fit(AutoEncoder, OBJECTS, **_NEURAL), DataTypeError,
          r"X is not numeric: row 0, column 1"),
    fails("autoencoder-nan", _fit(AutoEncoder, WITH_NAN, **_NEURAL), DataError,
          r"X has a NaN at row 3, column 2 \(2 non-finite"),
    fails("autoencoder-negative-epochs", _fit(AutoEncoder, UNIT, **{**_NEURAL, "epochs": -1}),
          ParameterError, r"epochs must be >= 1, got -1"),
    fails("autoencoder-zero-lr", _fit(AutoEncoder, UNIT, **_NEURAL, lr=0.0), ParameterError,
          r"lr must be > 0"),
    fails("autoencoder-zero-width", _fit(AutoEncoder, UNIT, **{**_NEURAL, "hidden_dims": (0,)}),
          ParameterError, r"hidden_dims\[0\] must be >= 1, got 0"),
    fails("autoencoder-huge-values", _fit(AutoEncoder, HUGE, **_NEURAL), TrainingError,
          r"loss became NaN or infinite in epoch 1"),
    succeeds("autoencoder-constant-features",
             lambda c: AutoEncoder(**_NEURAL).fit(CONSTANT).transform(CONSTANT)),
    fails("vae-bernoulli-huge-values", _fit(VAE, HUGE, likelihood="bernoulli", **_NEURAL),
          DataError, r"likelihood='bernoulli' needs X in \[0, 1\] but X spans"),
    fails("vae-huge-values", _fit(VAE, HUGE, **_NEURAL), TrainingError,
          r"became NaN or infinite in epoch 1.*standardise tables"),
    fails("vae-zero-epochs", _fit(VAE, UNIT, **{**_NEURAL, "epochs": 0}), ParameterError,
          r"epochs must be >= 1, got 0"),
    fails("vae-zero-latent", _fit(VAE, UNIT, **{**_NEURAL, "latent_dim": 0}), ParameterError,
          r"latent_dim must be >= 1, got 0"),
    fails("vae-negative-batch", _fit(VAE, UNIT, **{**_NEURAL, "batch_size": -8}),
          ParameterError, r"batch_size must be >= 1, got -8"),
    fails("vae-one-sample", _fit(VAE, UNIT[:1], **_NEURAL), DataError,
          r"X has 1 samples but at least 2 are needed"),
    fails("vae-object-array", _fit(VAE, OBJECTS, **_NEURAL), DataTypeError, r"X is not numeric"),
    succeeds("vae-constant-features",
             lambda c: VAE(**_NEURAL).fit(CONSTANT).score_samples(CONSTANT)),
]

DEEP_CLUSTERING = [
    fails("dec-k-above-n", _fit(DEC, UNIT, n_clusters=30, **_DEEP), DataError,
          r"n_clusters=30 is larger than the number of samples \(20\)"),
    fails("dec-one-sample", _fit(DEC, UNIT[:1], n_clusters=2, **_DEEP), DataError,
          r"X has 1 samples but at least 2 are needed"),
    fails("dec-nan", _fit(DEC, WITH_NAN, n_clusters=2, **_DEEP), DataError,
          r"X has a NaN at row 3, column 2 \(2 non-finite"),
    fails("dec-huge-values", _fit(DEC, HUGE, n_clusters=2, **_DEEP), TrainingError,
          r"loss became NaN or infinite"),
    fails("dec-negative-alpha", _fit(DEC, UNIT, n_clusters=2, alpha=-1.0, **_DEEP),
          ParameterError, r"alpha must be > 0"),
    succeeds("dec-constant-features", lambda c: (
        (m := DEC(2, **_DEEP).fit(CONSTANT)).labels_, m.predict_proba(CONSTANT))),
    fails("vade-k-above-n", _fit(VaDE, UNIT, n_clusters=30, **_DEEP), DataError,
          r"n_clusters=30 is larger than the number of samples \(20\)"),
    fails("vade-strings", _fit(VaDE, STRINGS, n_clusters=2, **_DEEP), DataTypeError,
          r"X is not numeric"),
    fails("vade-zero-pretrain", _fit(VaDE, UNIT, n_clusters=2, **{**_DEEP, "pretrain_epochs": -1}),
          ParameterError, r"pretrain_epochs must be >= "),
    succeeds("vade-constant-features", lambda c: (
        (m := VaDE(2, **_DEEP).fit(CONSTANT)).labels_, m.predict_proba(CONSTANT))),
]

PREPROCESSING = [
    fails("dataset-three-d", lambda c: Dataset(np.zeros((2, 3, 4))), DataError,
          r"X must be \(n, features\) or images .* got shape \(2, 3, 4\)"),
    fails("clean-ragged-list", lambda c: clean(RAGGED, impute="mean"), DataError,
          r"X is not a rectangular array"),
    fails("binarize-text-threshold", lambda c: binarize(UNIT, threshold="half"),
          ParameterError, r"threshold must be a number, got 'half'"),
    fails("binarize-stochastic-out-of-range", lambda c: binarize(X, stochastic=True),
          DataError, r"X must lie in \[0, 1\]"),
    fails("split-zero-test-size", lambda c: train_test_split(Dataset(X), 0), ParameterError,
          r"test_size=0 leaves 0 test"),
]

CASES = CLASSICAL + NEURAL + DEEP_CLUSTERING + PREPROCESSING
