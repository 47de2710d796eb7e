import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SklearnPCA

import nolabel
from nolabel import DataError, NolabelError, NotFittedError, ParameterError, load_model
from nolabel.classical.pca import PCA
from nolabel.registry import get

EXACT = ["full", "covariance_eigh"]


@pytest.fixture(scope="module")
def digits():
    return load_digits().data.astype(np.float32)


@pytest.fixture(scope="module")
def fashion():
    try:
        X = nolabel.load("fashion-mnist", split="test", download=False).flat()
    except NolabelError as exc:
        pytest.skip(f"Fashion-MNIST is not available here: {exc}")
    return np.ascontiguousarray(X[:5000], dtype=np.float32)


_SKLEARN_FITS = {}


def _sklearn(X, n_components, solver, **options):
    """scikit-learn's PCA of X in float64, fitted once per data set and settings."""
    key = (id(X), X.shape, n_components, solver, tuple(sorted(options.items())))
    if key not in _SKLEARN_FITS:
        _SKLEARN_FITS[key] = SklearnPCA(n_components, svd_solver=solver, **options).fit(
            X.astype(np.float64))
    return _SKLEARN_FITS[key]


def _pair(X, n_components, solver, **options):
    ours = PCA(n_components, svd_solver=solver, device="cpu", **options).fit(X)
    return ours, _sklearn(X, n_components, solver, **options)


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_covariance_gram_is_exact_with_or_without_a_large_offset(offset, monkeypatch):
    # Near the origin the Gram matrix is one uncentred product; far from it (mean^2/var
    # ~1e8 here) X^T X - n m m^T would cancel every digit, so the rows are centred first.
    from nolabel.classical import pca as module

    rng = np.random.default_rng(0)
    X = (rng.standard_normal((3000, 40)) * rng.uniform(0.5, 2, 40) + 0.5 + offset).astype(
        np.float32)
    blocks, original = [], module.row_blocks

    def spy(*args):
        blocks.append(args)
        return original(*args)

    monkeypatch.setattr(module, "row_blocks", spy)
    data = torch.from_numpy(X)
    gram = module.centred_gram(data, module.column_mean(data)).numpy()
    exact = X.astype(np.float64) - X.astype(np.float64).mean(0)
    exact = exact.T @ exact
    np.testing.assert_allclose(gram, exact, atol=1e-5 * np.abs(exact).max())
    assert bool(blocks) == (offset > 0)  # the centred path only where needed


@pytest.mark.parametrize("dataset, n_components", [("digits", 20), ("fashion", 50)])
@pytest.mark.parametrize("solver", EXACT)
def test_exact_solvers_match_sklearn_signs_included(request, dataset, n_components, solver):
    X = request.getfixturevalue(dataset)
    ours, theirs = _pair(X, n_components, solver)
    assert ours.svd_solver_ == solver and ours.n_components_ == theirs.n_components_
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(ours.explained_variance_ratio_,
                               theirs.explained_variance_ratio_, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(ours.singular_values_, theirs.singular_values_, rtol=1e-4)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-6, atol=1e-9)
    assert ours.noise_variance_ == pytest.approx(theirs.noise_variance_, rel=1e-4)
    # The leading components are well separated: same vectors, same signs.
    np.testing.assert_allclose(ours.components_[:10], theirs.components_[:10], atol=1e-4)
    np.testing.assert_allclose(ours.components_ @ ours.components_.T,
                               np.eye(n_components), atol=1e-10)
    largest = np.abs(ours.components_).argmax(1)
    assert (ours.components_[np.arange(n_components), largest] > 0).all()
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X.astype(np.float64)),
                               atol=1e-3 * np.sqrt(theirs.explained_variance_[0]))


@pytest.mark.parametrize("dataset, n_components", [("digits", 10), ("fashion", 50)])
def test_randomized_solver_matches_sklearn(request, dataset, n_components):
    X = request.getfixturevalue(dataset)
    ours, theirs = _pair(X, n_components, "randomized", random_state=0)
    assert ours.svd_solver_ == "randomized"
    np.testing.assert_allclose(ours.explained_variance_ratio_,
                               theirs.explained_variance_ratio_, atol=1e-4)
    # Both are approximations (on Fashion-MNIST the 50th variance is ~1 % low after the
    # default 7 power iterations); the leading ones have converged.
    np.testing.assert_allclose(ours.explained_variance_[:10], theirs.explained_variance_[:10],
                               rtol=1e-4)
    exact = _sklearn(X, n_components, "full")
    np.testing.assert_allclose(ours.explained_variance_[:10], exact.explained_variance_[:10],
                               rtol=1e-4)
    np.testing.assert_allclose(ours.components_[:5], exact.components_[:5], atol=1e-3)


def test_randomized_solver_converges_with_more_power_iterations(digits):
    exact = _sklearn(digits, 20, "full")
    errors = []
    for iterated_power in (0, 1, 3, 20):
        ours = PCA(20, svd_solver="randomized", iterated_power=iterated_power,
                   n_oversamples=5, random_state=0, device="cpu").fit(digits)
        errors.append(np.abs(ours.explained_variance_ / exact.explained_variance_ - 1).max())
    assert errors[-1] < 1e-4 and errors[0] > 1e-2, errors
    assert (np.diff(errors) < 0).all(), errors


@pytest.mark.parametrize("normalizer", ["QR", "LU", "none"])
def test_every_power_iteration_normaliser_finds_the_leading_components(digits, normalizer):
    ours = PCA(5, svd_solver="randomized", power_iteration_normalizer=normalizer,
               iterated_power=4, random_state=0, device="cpu").fit(digits)
    exact = SklearnPCA(5).fit(digits.astype(np.float64))
    np.testing.assert_allclose(ours.explained_variance_, exact.explained_variance_, rtol=1e-4)
    np.testing.assert_allclose(ours.components_, exact.components_, atol=1e-3)


@pytest.mark.parametrize("oversamples, gram", [(10, True), (1, False)])
def test_randomized_on_the_gram_matrix_or_on_the_data(digits, monkeypatch, oversamples, gram):
    # 64 features: with 5 + 10 directions and 2 iterations the Gram matrix is cheaper than
    # the products with the data (64 < 2 * 5 * 15); with 5 + 1 it is not (64 >= 2 * 5 * 6).
    from nolabel.classical import pca as module

    calls, original = [], module.centred_gram
    monkeypatch.setattr(module, "centred_gram", lambda *a: calls.append(1) or original(*a))
    ours = PCA(5, svd_solver="randomized", iterated_power=2, n_oversamples=oversamples,
               random_state=0, device="cpu").fit(digits)
    assert bool(calls) == gram
    exact = _sklearn(digits, 5, "full")
    # One oversample and two iterations on the data are rough; on the Gram matrix the same
    # two iterations are powers of X^T X, and Rayleigh-Ritz sharpens them further.
    kept, rtol = (5, 1e-3) if gram else (3, 3e-2)
    np.testing.assert_allclose(ours.explained_variance_[:kept],
                               exact.explained_variance_[:kept], rtol=rtol)
    assert ours.noise_variance_ == pytest.approx(exact.noise_variance_, rel=rtol)
    if gram:
        np.testing.assert_allclose(np.abs(ours.components_ @ exact.components_.T), np.eye(5),
                                   atol=2e-2)


def test_randomized_is_seeded(digits):
    first = PCA(8, svd_solver="randomized", iterated_power=1, random_state=3,
                device="cpu").fit(digits)
    again = PCA(8, svd_solver="randomized", iterated_power=1, random_state=3,
                device="cpu").fit(digits)
    other = PCA(8, svd_solver="randomized", iterated_power=1, random_state=4,
                device="cpu").fit(digits)
    np.testing.assert_array_equal(first.components_, again.components_)
    np.testing.assert_array_equal(first.explained_variance_, again.explained_variance_)
    assert not np.array_equal(first.explained_variance_, other.explained_variance_)


def test_auto_picks_sklearns_solver(digits, fashion):
    assert PCA(5, device="cpu").fit(digits).svd_solver_ == "covariance_eigh"  # n >= 10 d
    assert PCA(5, device="cpu").fit(digits[:300]).svd_solver_ == "full"  # small
    assert PCA(5, device="cpu").fit(fashion[:600]).svd_solver_ == "randomized"
    assert PCA(0.5, device="cpu").fit(fashion[:600]).svd_solver_ == "full"
    assert PCA(500, device="cpu").fit(fashion[:600]).svd_solver_ == "full"


@pytest.mark.parametrize("solver", EXACT)
def test_variance_fraction_picks_the_same_count_as_sklearn(digits, solver):
    ours, theirs = _pair(digits, 0.9, solver)
    assert ours.n_components_ == theirs.n_components_ == 21
    assert ours.explained_variance_ratio_.sum() > 0.9
    assert ours.explained_variance_ratio_[:-1].sum() <= 0.9


@pytest.mark.parametrize("solver", EXACT)
def test_wide_data(digits, solver):
    X = digits[:40]  # 40 samples, 64 features
    ours, theirs = _pair(X, None, solver)
    assert ours.n_components_ == 40
    top = theirs.explained_variance_[:30]
    np.testing.assert_allclose(ours.explained_variance_[:30], top, rtol=1e-4)
    np.testing.assert_allclose(ours.components_[:5], theirs.components_[:5], atol=1e-4)
    ours = PCA(10, svd_solver="randomized", iterated_power=10, random_state=0,
               device="cpu").fit(X)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_[:10],
                               rtol=1e-4)


@pytest.mark.parametrize("whiten", [False, True])
def test_all_components_round_trip_to_the_identity(digits, whiten):
    model = PCA(None, whiten=whiten, device="cpu")
    Z = model.fit_transform(digits)
    assert Z.shape == (len(digits), 64) and Z.dtype == np.float32
    np.testing.assert_allclose(model.inverse_transform(Z), digits, atol=2e-4)
    np.testing.assert_allclose(model.reconstruction_error(digits), 0.0, atol=1e-8)


def test_whitened_components_have_unit_variance(digits):
    model = PCA(10, whiten=True, device="cpu")
    Z = model.fit_transform(digits).astype(np.float64)
    np.testing.assert_allclose(np.cov(Z.T), np.eye(10), atol=1e-4)
    plain = PCA(10, device="cpu").fit_transform(digits).astype(np.float64)
    np.testing.assert_allclose(plain.var(0, ddof=1), model.explained_variance_, rtol=1e-4)


def test_fit_transform_equals_fit_then_transform(digits):
    model = PCA(7, device="cpu")
    np.testing.assert_array_equal(model.fit_transform(digits), model.transform(digits))


def test_reconstruction_error_falls_with_more_components(digits):
    n = len(digits)
    errors = []
    for k in (1, 2, 5, 10, 20, 40):
        model = PCA(k, svd_solver="full", device="cpu").fit(digits)
        error = model.reconstruction_error(digits)
        direct = ((model.inverse_transform(model.transform(digits)) - digits) ** 2).sum(1)
        np.testing.assert_allclose(error, direct, rtol=1e-3, atol=1e-3)
        # On the training data the mean error is the variance left out.
        left_out = (model.noise_variance_ * (64 - k)) * (n - 1) / n
        assert error.mean() == pytest.approx(left_out, rel=1e-6)
        errors.append(error.mean())
    assert (np.diff(errors) < 0).all(), errors


@pytest.mark.parametrize("solver", EXACT)
def test_score_samples_matches_sklearn(digits, solver):
    ours, theirs = _pair(digits, 10, solver)
    queries = digits[::7] + np.float32(0.5)
    expected = theirs.score_samples(queries.astype(np.float64))
    np.testing.assert_allclose(ours.score_samples(queries), expected, rtol=1e-6)
    assert ours.score(queries) == pytest.approx(expected.mean(), rel=1e-6)
    covariance = theirs.get_covariance()
    # covariance_eigh takes its Gram matrix products in float32 (the data's precision),
    # summed in float64: agreement with scikit-learn's float64 path is about 1e-6.
    np.testing.assert_allclose(ours.get_covariance(), covariance,
                               atol=1e-5 * np.abs(covariance).max())


def test_score_samples_is_the_gaussian_log_density(digits):
    from scipy.stats import multivariate_normal

    model = PCA(12, svd_solver="full", device="cpu").fit(digits)
    queries = digits[::9] + np.float32(0.25)
    expected = multivariate_normal(model.mean_, model.get_covariance()).logpdf(
        queries.astype(np.float64))
    np.testing.assert_allclose(model.score_samples(queries), expected, rtol=1e-9)
    # Whitening rescales the outputs only, not the model of the data.
    whitened = PCA(12, whiten=True, svd_solver="full", device="cpu").fit(digits)
    np.testing.assert_allclose(whitened.score_samples(queries), expected, rtol=1e-9)


def test_degenerate_models_still_score_finitely(digits):
    # digits has constant pixels: zero variances with every component kept.
    model = PCA(None, device="cpu").fit(digits)
    assert model.noise_variance_ == 0.0 and model.explained_variance_.min() < 1e-6
    assert np.isfinite(model.score_samples(digits[:20])).all()
    wide = PCA(None, device="cpu").fit(digits[:30])  # rank < n_features, no noise left
    assert np.isfinite(wide.score_samples(digits[:5])).all()


def test_tensors_in_tensors_out(digits):
    tensor = torch.from_numpy(digits)
    model = PCA(6, device="cpu").fit(tensor)
    reference = PCA(6, device="cpu").fit(digits)
    np.testing.assert_array_equal(model.components_, reference.components_)
    for method in ("transform", "score_samples", "reconstruction_error"):
        out = getattr(model, method)(tensor)
        assert isinstance(out, torch.Tensor), method
        np.testing.assert_array_equal(out.numpy(), getattr(reference, method)(digits))
    back = model.inverse_transform(model.transform(tensor))
    assert isinstance(back, torch.Tensor) and back.shape == tensor.shape


def test_save_and_load(digits, tmp_path):
    model = PCA(12, whiten=True, svd_solver="randomized", random_state=0,
                device="cpu").fit(digits)
    loaded = load_model(model.save(tmp_path / "pca.safetensors"))
    assert isinstance(loaded, PCA) and loaded.whiten and loaded.svd_solver_ == "randomized"
    for name in ("components_", "explained_variance_", "explained_variance_ratio_",
                 "singular_values_", "mean_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    assert loaded.noise_variance_ == model.noise_variance_
    assert loaded.n_components_ == 12 and loaded.n_samples_ == len(digits)
    np.testing.assert_array_equal(loaded.transform(digits), model.transform(digits))
    # float64 products by torch's BLAS (MKL) may round the last bit differently from one
    # call to the next (its kernels depend on the buffers' alignment).
    np.testing.assert_allclose(loaded.score_samples(digits), model.score_samples(digits),
                               rtol=1e-13)
    assert get("pca").cls is PCA


def test_errors(digits):
    with pytest.raises(ParameterError, match=r"n_components=65 .*n_features=64"):
        PCA(65, device="cpu").fit(digits)
    with pytest.raises(ParameterError, match=r"n_components=11 .*n_samples=10"):
        PCA(11, device="cpu").fit(digits[:10])
    with pytest.raises(ParameterError, match="randomized"):
        PCA(0.5, svd_solver="randomized", device="cpu").fit(digits)
    for bad in (dict(n_components=0), dict(n_components=1.5), dict(n_components="all"),
                dict(svd_solver="arpack"), dict(iterated_power=-1), dict(n_oversamples=0),
                dict(power_iteration_normalizer="qr"), dict(whiten="yes")):
        with pytest.raises(ParameterError):
            PCA(**{"n_components": 3, **bad}, device="cpu").fit(digits)
    with pytest.raises(DataError, match="NaN"):
        PCA(2, device="cpu").fit(np.full((10, 3), np.nan))
    with pytest.raises(DataError, match="at least 2"):
        PCA(1, device="cpu").fit(digits[:1])
    with pytest.raises(NotFittedError):
        PCA(2).transform(digits)
    model = PCA(3, device="cpu").fit(digits)
    with pytest.raises(DataError, match="64 features"):
        model.transform(digits[:, :10])
    with pytest.raises(DataError, match="expects 3"):
        model.inverse_transform(np.zeros((2, 4)))
