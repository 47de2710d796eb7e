import gzip
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import gaussian_kde, multivariate_normal
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.neighbors import KernelDensity as SklearnKernelDensity

from _shared_data import FCPS
from nolabel import DataError, NotFittedError, ParameterError, load_model
from nolabel.classical.density import GaussianDensity, KernelDensity
from nolabel.registry import get

COVARIANCE_TYPES = ["full", "diag", "spherical"]


def _fcps(name):
    path = FCPS / f"{name}.data.gz"
    if not path.exists():
        pytest.skip(f"FCPS benchmark data not found at {path}")
    with gzip.open(path, "rt") as handle:
        return np.loadtxt(handle, dtype=np.float32)


@pytest.fixture(scope="module")
def digits():
    """The digits in 5 PCA dimensions (the raw pixels have constant columns)."""
    return SklearnPCA(5, random_state=0).fit_transform(load_digits().data).astype(np.float32)


@pytest.fixture(scope="module")
def engytime():
    return _fcps("engytime")  # 4096 points in 2-D, two overlapping Gaussian-like blobs


@pytest.fixture(scope="module")
def wingnut():
    return _fcps("wingnut")  # 1016 points in 2-D, two dense rectangles


def _queries(X):
    """Training points and points off them, exactly representable in float32."""
    return np.vstack([X[::5], X[1::5] + np.float32(0.37)]).astype(np.float32)


# -- kernel density -----------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["digits", "engytime", "wingnut"])
@pytest.mark.parametrize("bandwidth", ["scott", "silverman", 0.3])
def test_kde_matches_scipy_gaussian_kde(request, dataset, bandwidth):
    X = request.getfixturevalue(dataset)
    queries = _queries(X)
    model = KernelDensity(bandwidth, device="cpu").fit(X)
    reference = gaussian_kde(X.T.astype(np.float64), bw_method=bandwidth)
    expected = reference.logpdf(queries.T.astype(np.float64))
    np.testing.assert_allclose(model.score_samples(queries), expected, rtol=1e-9, atol=1e-9)
    assert model.bandwidth_ == pytest.approx(reference.factor, rel=1e-12)
    np.testing.assert_allclose(model.covariance_, reference.covariance, rtol=1e-9,
                               atol=1e-12 * np.abs(reference.covariance).max())
    assert model.score(queries) == pytest.approx(expected.mean(), rel=1e-9)


@pytest.mark.parametrize("dataset", ["digits", "engytime"])
def test_weighted_kde_matches_scipy(request, dataset):
    X = request.getfixturevalue(dataset)
    weights = np.random.default_rng(0).uniform(0.1, 3.0, len(X))
    queries = _queries(X)
    model = KernelDensity(device="cpu").fit(X, sample_weight=weights)
    expected = gaussian_kde(X.T.astype(np.float64), weights=weights).logpdf(
        queries.T.astype(np.float64))
    np.testing.assert_allclose(model.score_samples(queries), expected, rtol=1e-9, atol=1e-9)
    # Weights are normalised: scaling them changes nothing.
    scaled = KernelDensity(device="cpu").fit(X, sample_weight=weights * 7.0)
    np.testing.assert_allclose(scaled.score_samples(queries), model.score_samples(queries),
                               rtol=1e-12)


@pytest.mark.parametrize("dataset", ["digits", "engytime"])
@pytest.mark.parametrize("bandwidth", [0.3, 1.0, 2.0])
def test_identity_kde_matches_sklearn(request, dataset, bandwidth):
    X = request.getfixturevalue(dataset)
    queries = _queries(X)
    model = KernelDensity(bandwidth, covariance="identity", device="cpu").fit(X)
    expected = SklearnKernelDensity(bandwidth=bandwidth).fit(X.astype(np.float64)).score_samples(
        queries.astype(np.float64))
    np.testing.assert_allclose(model.score_samples(queries), expected, rtol=1e-9, atol=1e-8)
    assert model.bandwidth_ == bandwidth
    np.testing.assert_allclose(model.covariance_, bandwidth**2 * np.eye(X.shape[1]))


def test_narrow_kernels_stay_exact_far_from_the_data(digits):
    # With h = 0.05 every kernel value underflows for the shifted queries (scikit-learn's
    # tree-based sum is then off by ~100 nats); the logsumexp stays exact.
    from scipy.special import logsumexp

    queries = _queries(digits).astype(np.float64)
    X = digits.astype(np.float64)
    h, (n, d) = 0.05, X.shape
    distances = ((queries[:, None, :] - X[None, :, :]) ** 2).sum(2)
    expected = (logsumexp(-distances / (2 * h * h), axis=1) - np.log(n)
                - d * np.log(h) - 0.5 * d * np.log(2 * np.pi))
    assert expected.min() < -100
    model = KernelDensity(h, covariance="identity", device="cpu").fit(digits)
    np.testing.assert_allclose(model.score_samples(queries), expected, rtol=1e-9)


def test_identity_kde_scott_scales_by_the_mean_standard_deviation(digits):
    n, d = digits.shape
    model = KernelDensity("scott", covariance="identity", device="cpu").fit(digits)
    h = n ** (-1 / (d + 4)) * digits.astype(np.float64).std(0, ddof=1).mean()
    assert model.bandwidth_ == pytest.approx(h, rel=1e-12)
    expected = SklearnKernelDensity(bandwidth=h).fit(digits.astype(np.float64)).score_samples(
        digits[:50].astype(np.float64))
    np.testing.assert_allclose(model.score_samples(digits[:50]), expected, rtol=1e-9)


@pytest.mark.parametrize("dataset", ["digits", "wingnut"])
@pytest.mark.parametrize("covariance", ["data", "identity"])
def test_cv_bandwidth_beats_the_ends_of_its_grid(request, dataset, covariance):
    X = request.getfixturevalue(dataset)
    order = np.random.default_rng(1).permutation(len(X))
    train, test = X[order[: len(X) // 2]], X[order[len(X) // 2:]]
    model = KernelDensity("cv", covariance=covariance, random_state=0, device="cpu").fit(train)
    grid, scores = model.bandwidth_grid_, model.cv_scores_
    assert len(grid) == len(scores) == 20
    best = int(np.argmax(scores))
    assert 0 < best < len(grid) - 1, scores
    assert model.bandwidth_ == grid[best]
    assert scores[best] > scores[0] and scores[best] > scores[-1]
    # The chosen bandwidth also generalises better than either end of the grid on data the
    # cross-validation never saw.
    held_out = model.score(test)
    for end in (grid[0], grid[-1]):
        other = KernelDensity(float(end), covariance=covariance, device="cpu").fit(train)
        assert held_out > other.score(test)


def test_cv_takes_a_grid_and_a_seed(digits):
    grid = [0.1, 0.3, 1.0]
    first = KernelDensity("cv", cv=3, bandwidth_grid=grid, random_state=5,
                          device="cpu").fit(digits)
    again = KernelDensity("cv", cv=3, bandwidth_grid=grid, random_state=5,
                          device="cpu").fit(digits)
    np.testing.assert_array_equal(first.bandwidth_grid_, grid)
    np.testing.assert_array_equal(first.cv_scores_, again.cv_scores_)
    assert first.bandwidth_ == 0.3


def test_kde_sampling(engytime):
    model = KernelDensity(device="cpu").fit(engytime)
    drawn = model.sample(20000, random_state=0)
    assert drawn.shape == (20000, 2)
    np.testing.assert_array_equal(drawn, model.sample(20000, random_state=0))
    assert not np.array_equal(drawn, model.sample(20000, random_state=1))
    X = engytime.astype(np.float64)
    np.testing.assert_allclose(drawn.mean(0), X.mean(0), atol=0.05)
    # A KDE's covariance is the data's (biased) covariance plus the kernel's.
    expected = np.cov(X.T, bias=True) + model.covariance_
    np.testing.assert_allclose(np.cov(drawn.T), expected, rtol=0.05, atol=0.02)


@pytest.mark.parametrize("weighted", [False, True])
def test_singular_data_covariance_is_regularised(digits, weighted):
    constant = np.hstack([digits, np.full((len(digits), 1), 3.1, dtype=np.float32)])
    collinear = np.hstack([digits, 2 * digits[:, :1]])
    weights = np.linspace(1, 2, len(digits)) if weighted else None
    for X in (constant, collinear):
        with pytest.warns(UserWarning, match="data covariance is singular"):
            model = KernelDensity(device="cpu").fit(X, sample_weight=weights)
        scores = model.score_samples(X[:50])
        assert np.isfinite(scores).all() and scores.max() < 100
        assert np.isfinite(model.sample(10, random_state=0)).all()


def test_kde_tensors_in_tensors_out(digits):
    model = KernelDensity(device="cpu").fit(torch.from_numpy(digits))
    scores = model.score_samples(torch.from_numpy(digits[:30]))
    assert isinstance(scores, torch.Tensor) and scores.dtype == torch.float64
    np.testing.assert_array_equal(scores.numpy(), model.score_samples(digits[:30]))


@pytest.mark.parametrize("bandwidth", ["silverman", "cv"])
def test_kde_save_and_load(digits, tmp_path, bandwidth):
    model = KernelDensity(bandwidth, random_state=0, device="cpu").fit(
        digits, sample_weight=np.arange(1, len(digits) + 1))
    loaded = load_model(model.save(tmp_path / "kde.safetensors"))
    assert isinstance(loaded, KernelDensity) and loaded.bandwidth == bandwidth
    assert loaded.bandwidth_ == model.bandwidth_
    np.testing.assert_array_equal(loaded.score_samples(digits), model.score_samples(digits))
    np.testing.assert_array_equal(loaded.sample(5, random_state=1), model.sample(5, random_state=1))
    if bandwidth == "cv":
        np.testing.assert_array_equal(loaded.cv_scores_, model.cv_scores_)
    assert get("kde").cls is KernelDensity


def test_kde_errors(digits):
    for bad in (dict(bandwidth="normal"), dict(bandwidth=0.0), dict(bandwidth=-1.0),
                dict(covariance="diag"), dict(bandwidth="cv", cv=1),
                dict(bandwidth="cv", bandwidth_grid=[0.1, -0.2])):
        with pytest.raises(ParameterError):
            KernelDensity(**bad, device="cpu").fit(digits)
    with pytest.raises(DataError, match="NaN"):
        KernelDensity(device="cpu").fit(np.full((10, 2), np.nan))
    with pytest.raises(DataError, match="at least 2"):
        KernelDensity(device="cpu").fit(digits[:1])
    with pytest.raises(DataError, match="sample_weight"):
        KernelDensity(device="cpu").fit(digits, sample_weight=np.ones(3))
    with pytest.raises(DataError, match="sample_weight"):
        KernelDensity(device="cpu").fit(digits, sample_weight=-np.ones(len(digits)))
    with pytest.raises(DataError, match="one sample"):
        KernelDensity(device="cpu").fit(digits, sample_weight=np.eye(len(digits))[0])
    with pytest.raises(DataError, match="constant"):
        KernelDensity(covariance="identity", device="cpu").fit(np.ones((5, 2)))
    with pytest.raises(DataError, match="at least 5"):
        KernelDensity("cv", device="cpu").fit(digits[:4, :2])
    with pytest.raises(NotFittedError):
        KernelDensity().score_samples(digits)
    model = KernelDensity(device="cpu").fit(digits)
    with pytest.raises(DataError, match="5 features"):
        model.score_samples(digits[:, :2])


# -- one Gaussian -------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaussian_is_the_maximum_likelihood_normal(digits, covariance_type):
    model = GaussianDensity(covariance_type, device="cpu").fit(digits)
    X = digits.astype(np.float64)
    np.testing.assert_allclose(model.mean_, X.mean(0), rtol=1e-10, atol=1e-10)
    mle = np.cov(X.T, bias=True)
    expected = {"full": mle + 1e-6 * np.eye(5), "diag": np.diag(np.diag(mle) + 1e-6),
                "spherical": (np.diag(mle).mean() + 1e-6) * np.eye(5)}[covariance_type]
    np.testing.assert_allclose(model.full_covariance(), expected, rtol=1e-10,
                               atol=1e-12 * np.abs(expected).max())
    queries = _queries(digits)
    logpdf = multivariate_normal(model.mean_, model.full_covariance()).logpdf(
        queries.astype(np.float64))
    np.testing.assert_allclose(model.score_samples(queries), logpdf, rtol=1e-10)
    assert model.score(queries) == pytest.approx(logpdf.mean(), rel=1e-10)
    # Maximum likelihood: moving the mean lowers the training likelihood.
    shifted = GaussianDensity(covariance_type, device="cpu").fit(digits)
    shifted.mean_ = shifted.mean_ + 0.1
    assert shifted.score(digits) < model.score(digits)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaussian_samples_have_the_fitted_moments(engytime, covariance_type):
    model = GaussianDensity(covariance_type, device="cpu").fit(engytime)
    drawn = model.sample(40000, random_state=0)
    assert drawn.shape == (40000, 2)
    np.testing.assert_array_equal(drawn, model.sample(40000, random_state=0))
    scale = np.sqrt(np.diag(model.full_covariance())).max()
    np.testing.assert_allclose(drawn.mean(0), model.mean_, atol=0.03 * scale)
    np.testing.assert_allclose(np.cov(drawn.T), model.full_covariance(), atol=0.03 * scale**2)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_degenerate_data_gives_finite_scores(digits, covariance_type):
    constant_column = np.hstack([digits, np.full((len(digits), 1), 3.1, dtype=np.float32)])
    identical = np.repeat(digits[:1], 50, axis=0)
    for X in (constant_column, identical, digits[:3]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # reg_covar alone keeps it positive definite
            model = GaussianDensity(covariance_type, device="cpu").fit(X)
        assert np.isfinite(model.score_samples(X)).all()
        assert np.isfinite(model.score_samples(X[:5] + np.float32(1.0))).all()
        assert np.isfinite(model.sample(5, random_state=0)).all()
    degenerate = [identical] if covariance_type == "spherical" else [identical, constant_column]
    for X in degenerate:
        with pytest.warns(UserWarning, match="reg_covar"):
            model = GaussianDensity(covariance_type, reg_covar=0.0, device="cpu").fit(X)
        assert np.isfinite(model.score_samples(X)).all()


def test_gaussian_tensors_in_tensors_out(digits):
    model = GaussianDensity(device="cpu").fit(torch.from_numpy(digits))
    scores = model.score_samples(torch.from_numpy(digits[:30]))
    assert isinstance(scores, torch.Tensor) and scores.dtype == torch.float64
    np.testing.assert_array_equal(scores.numpy(), model.score_samples(digits[:30]))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_gaussian_save_and_load(digits, tmp_path, covariance_type):
    model = GaussianDensity(covariance_type, reg_covar=1e-3, device="cpu").fit(digits)
    loaded = load_model(model.save(tmp_path / "gaussian.safetensors"))
    assert isinstance(loaded, GaussianDensity) and loaded.covariance_type == covariance_type
    np.testing.assert_array_equal(loaded.covariance_, model.covariance_)
    np.testing.assert_array_equal(loaded.score_samples(digits), model.score_samples(digits))
    assert get("gaussian-density").cls is GaussianDensity


def test_gaussian_errors(digits):
    for bad in (dict(covariance_type="tied"), dict(reg_covar=-1.0)):
        with pytest.raises(ParameterError):
            GaussianDensity(**bad, device="cpu").fit(digits)
    with pytest.raises(DataError, match="NaN"):
        GaussianDensity(device="cpu").fit(np.full((10, 2), np.nan))
    with pytest.raises(NotFittedError):
        GaussianDensity().score_samples(digits)
    model = GaussianDensity(device="cpu").fit(digits)
    with pytest.raises(DataError, match="5 features"):
        model.score_samples(digits[:, :2])
    with pytest.raises(ParameterError):
        model.sample(0)


def test_leave_one_out_scores_a_training_point_by_the_others():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    model = KernelDensity(0.4, covariance="identity").fit(X)
    loo = np.asarray(model.score_samples(X, leave_one_out=True))
    for i in (0, 17, 59):
        others = KernelDensity(0.4, covariance="identity").fit(np.delete(X, i, axis=0))
        assert loo[i] == pytest.approx(float(others.score_samples(X[i:i + 1])[0]), abs=1e-9)
    new = rng.normal(size=(10, 3)).astype(np.float32)  # not training points: unchanged
    np.testing.assert_array_equal(model.score_samples(new, leave_one_out=True),
                                  model.score_samples(new))
