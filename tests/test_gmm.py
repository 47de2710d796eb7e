import gzip
import math
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters

from _shared_data import FCPS
from nolabel import DataError, GaussianMixture, NotFittedError, ParameterError, load_model
from nolabel.registry import get

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def digits():
    return PCA(10, random_state=0).fit_transform(load_digits().data).astype(np.float32)


@pytest.fixture(scope="module")
def hepta():
    path = FCPS / "hepta.data.gz"
    if not path.exists():
        pytest.skip(f"FCPS benchmark data not found at {path}")
    with gzip.open(path, "rt") as handle:
        return np.loadtxt(handle, dtype=np.float32)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return (centres[rng.integers(3, size=300)] + rng.normal(size=(300, 2))).astype(np.float32)


def _full_covariances(model):
    k, d = model.means_.shape
    cov = np.asarray(model.covariances_)
    if model.covariance_type == "full":
        return cov
    if model.covariance_type == "tied":
        return np.broadcast_to(cov, (k, d, d))
    if model.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return np.stack([c * np.eye(d) for c in cov])


@pytest.mark.parametrize("dataset", ["digits", "hepta"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_lower_bound_never_decreases(request, dataset, covariance_type):
    X = request.getfixturevalue(dataset)
    model = GaussianMixture(7, covariance_type=covariance_type, tol=1e-6, max_iter=60,
                            random_state=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    history = np.array(model.history_)
    assert len(history) == model.n_iter_ >= 2
    steps = np.diff(history)
    # float32 E-steps (full, tied) give the likelihood to about 1e-7 relative until EM
    # slows down; then float64 takes over.
    slack = 1e-6 if covariance_type in ("full", "tied") else 1e-9
    assert (steps >= -slack * np.abs(history[1:])).all(), steps.min()
    assert model.lower_bound_ == history[-1]


def _e_step_dtypes(monkeypatch):
    """Record the dtype of the data every in-memory E-step of a fit sees (full covariances
    take their EM steps through the pruned E-step)."""
    from nolabel.classical import gmm

    seen, e_step, pruned = [], gmm._e_step, gmm._PrunedEStep.__call__
    monkeypatch.setattr(gmm, "_e_step", lambda X, *args: seen.append(X.dtype) or e_step(
        X, *args))
    monkeypatch.setattr(gmm._PrunedEStep, "__call__", lambda self, X, *args: seen.append(
        X.dtype) or pruned(self, X, *args))
    return seen


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pruned_e_steps_skip_only_negligible_pairs(digits, monkeypatch):
    # Every EM step of a full-covariance fit against the dense E-step on the same parameters:
    # the same log-densities, and a skipped pair's true responsibility below e^-50.
    from nolabel.classical import gmm

    checks, pruned = [], gmm._PrunedEStep.__call__

    def compare(self, X, weights, means, factors):
        log_density, log_resp = pruned(self, X, weights, means, factors)
        dense_density, dense_resp = gmm._e_step(X, weights, means, factors, "full")
        skipped = torch.isinf(log_resp)
        gap = (log_density - dense_density).abs().max()
        # float32 steps round the gathered and the dense products differently (~1e-7 of a
        # distance); float64 steps agree to rounding.
        checks.append((float(gap) / (1e-4 if X.dtype == torch.float32 else 1e-9),
                       float(dense_resp[skipped].max()) if skipped.any() else -math.inf,
                       float(skipped.double().mean())))
        return log_density, log_resp

    monkeypatch.setattr(gmm._PrunedEStep, "__call__", compare)
    X = np.concatenate([digits, digits[:, ::-1] * 0.5 + 3])  # 20 clusters, well apart
    GaussianMixture(20, covariance_type="full", means_init=X[::180][:20], max_iter=40,
                    tol=1e-8, device="cpu").fit(X)
    assert len(checks) > 10
    assert max(gap for gap, _, _ in checks) < 1
    assert max(worst for _, worst, _ in checks) < -50
    assert max(share for _, _, share in checks[5:]) > 0.5  # most pairs are skipped


def test_float32_e_steps_agree_with_float64_and_are_confirmed(digits, monkeypatch):
    from nolabel.classical import gmm

    settings = dict(covariance_type="full", means_init=digits[:10], tol=1e-3, device="cpu")
    seen = _e_step_dtypes(monkeypatch)
    fast = GaussianMixture(10, **settings).fit(digits)
    # float32 while EM moves, one float64 E-step to confirm, then the labels (float64).
    assert seen[0] == torch.float32 and seen[-3:] == [torch.float32] + [torch.float64] * 2
    monkeypatch.setattr(gmm, "_FLOAT32_TYPES", ())
    exact = GaussianMixture(10, **settings).fit(digits)
    # Rounding moves the EM path a little: both stop within tol of the same likelihood.
    assert fast.converged_ and abs(fast.n_iter_ - exact.n_iter_) <= 1
    assert fast.lower_bound_ == pytest.approx(exact.lower_bound_, abs=1e-3)
    assert fast.score(digits) == pytest.approx(exact.score(digits), abs=1e-3)
    np.testing.assert_allclose(fast.means_, exact.means_, atol=1e-2 * np.abs(digits).max())
    # A float32 result that float64 does not confirm: EM goes on in float64.
    monkeypatch.setattr(gmm, "_FLOAT32_TYPES", ("full", "tied"))
    monkeypatch.setattr(gmm, "_FLOAT32_AGREEMENT", 0.0)
    seen.clear()
    checked = GaussianMixture(10, **settings).fit(digits)
    assert checked.converged_ and seen.count(torch.float64) >= 3
    assert checked.lower_bound_ == pytest.approx(exact.lower_bound_, abs=1e-3)


def test_float64_takes_over_once_em_slows_down(digits, monkeypatch):
    seen = _e_step_dtypes(monkeypatch)
    model = GaussianMixture(10, covariance_type="tied", means_init=digits[:10], tol=1e-9,
                            max_iter=100, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(digits)
    first64 = seen.index(torch.float64)
    assert 1 <= first64 < model.n_iter_ and set(seen[first64:]) == {torch.float64}
    change = abs(model.history_[first64 - 1] - model.history_[first64 - 2])
    assert change < 1e-5 * abs(model.history_[first64 - 1])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_likelihood_as_sklearn_from_the_same_start(digits, covariance_type):
    X = digits.astype(np.float64)
    means = X[:10]
    # sklearn has no "responsibilities from the nearest mean" start: hand it the same one.
    labels = ((X[:, None, :] - means[None]) ** 2).sum(2).argmin(1)
    resp = np.eye(10)[labels]
    nk, _, covariances = _estimate_gaussian_parameters(X, resp, 1e-6, covariance_type)
    precisions = (np.linalg.inv(covariances) if covariance_type in ("full", "tied")
                  else 1.0 / covariances)
    settings = dict(covariance_type=covariance_type, tol=1e-4, reg_covar=1e-6, max_iter=200)
    theirs = SklearnGaussianMixture(10, weights_init=nk / len(X), means_init=means,
                                    precisions_init=precisions, **settings).fit(X)
    ours = GaussianMixture(10, means_init=means, device="cpu", **settings).fit(digits)
    assert ours.converged_ and theirs.converged_
    # Same EM from the same start: far tighter than the 0.1 % asked for.
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=1e-6)
    assert ours.score(digits) == pytest.approx(theirs.score(X), rel=1e-6)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-4, atol=1e-6)


def test_probabilities_labels_and_tensor_round_trip(blobs):
    model = GaussianMixture(3, random_state=0, device="cpu")
    labels = model.fit_predict(blobs)
    proba = model.predict_proba(blobs)
    assert proba.shape == (300, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(model.predict(blobs), proba.argmax(1))
    np.testing.assert_array_equal(labels, proba.argmax(1))
    assert len(np.unique(labels)) == 3
    tensor_labels = model.predict(torch.from_numpy(blobs))
    assert isinstance(tensor_labels, torch.Tensor)
    np.testing.assert_array_equal(tensor_labels.numpy(), labels)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_score_samples_matches_scipy(blobs, covariance_type):
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0,
                            device="cpu").fit(blobs)
    points = blobs[:20].astype(np.float64)
    density = sum(w * multivariate_normal(m, c).pdf(points) for w, m, c in
                  zip(model.weights_, model.means_, _full_covariances(model), strict=True))
    np.testing.assert_allclose(model.score_samples(blobs[:20]), np.log(density), rtol=1e-9)
    assert model.score(blobs[:20]) == pytest.approx(np.log(density).mean(), rel=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_bic_and_aic_equal_sklearn_on_the_same_parameters(blobs, covariance_type):
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=0,
                           device="cpu").fit(blobs)
    theirs = SklearnGaussianMixture(3, covariance_type=covariance_type)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_",
                 "precisions_", "n_features_in_"):
        setattr(theirs, name, getattr(ours, name))
    X = blobs.astype(np.float64)
    assert ours._n_parameters() == theirs._n_parameters()
    assert ours.bic(blobs) == pytest.approx(theirs.bic(X), rel=1e-9)
    assert ours.aic(blobs) == pytest.approx(theirs.aic(X), rel=1e-9)
    assert ours.aic(blobs) < ours.bic(blobs)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_shape_seed_and_moments(blobs, covariance_type):
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=4,
                            device="cpu").fit(blobs)
    X, labels = model.sample(4000)
    assert X.shape == (4000, 2) and labels.shape == (4000,)
    assert (np.diff(labels) >= 0).all()
    again, again_labels = model.sample(4000)
    np.testing.assert_array_equal(X, again)
    np.testing.assert_array_equal(labels, again_labels)
    np.testing.assert_allclose(np.bincount(labels, minlength=3) / 4000, model.weights_,
                               atol=0.03)
    biggest = int(model.weights_.argmax())
    drawn = X[labels == biggest]
    np.testing.assert_allclose(drawn.mean(0), model.means_[biggest], atol=0.15)
    np.testing.assert_allclose(np.cov(drawn.T), _full_covariances(model)[biggest], atol=0.25)


def test_save_and_load_give_identical_probabilities(blobs, tmp_path):
    model = GaussianMixture(3, covariance_type="diag", means_init=blobs[:3], random_state=0,
                            device="cpu").fit(blobs)
    loaded = load_model(model.save(tmp_path / "gmm.safetensors"))
    assert isinstance(loaded, GaussianMixture) and loaded.covariance_type == "diag"
    np.testing.assert_array_equal(loaded.predict_proba(blobs), model.predict_proba(blobs))
    assert loaded.history_ == model.history_ and loaded.converged_ == model.converged_
    assert get("gmm").cls is GaussianMixture


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_initialisation_fits_and_restarts_keep_the_best(blobs, init_params):
    one = GaussianMixture(3, init_params=init_params, random_state=1, max_iter=300,
                          device="cpu").fit(blobs)
    many = GaussianMixture(3, init_params=init_params, n_init=3, random_state=1,
                           max_iter=300, device="cpu").fit(blobs)
    assert np.isfinite(one.lower_bound_)
    assert many.lower_bound_ >= one.lower_bound_


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_collapsed_component_is_reseeded_with_a_warning(blobs, covariance_type):
    means = np.array([[0.0, 0.0], [6.0, 0.0], [1e4, 1e4]])  # nothing is near component 2
    model = GaussianMixture(3, covariance_type=covariance_type, means_init=means,
                            device="cpu")
    with pytest.warns(UserWarning, match="component 2 collapsed"):
        model.fit(blobs)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.isfinite(getattr(model, name)).all(), name
    assert np.isfinite(model.history_).all()
    assert np.abs(model.means_).max() < 100
    assert np.isfinite(model.score_samples(blobs)).all()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_singular_covariance_is_regularised_with_a_warning(blobs, covariance_type):
    duplicates = np.repeat(blobs[:1] + 20.0, 40, axis=0)
    X = np.vstack([blobs, duplicates])
    means = np.vstack([blobs[:2], duplicates[:1]])
    model = GaussianMixture(3, covariance_type=covariance_type, reg_covar=0.0,
                            means_init=means, max_iter=20, device="cpu")
    if covariance_type == "tied":  # the shared covariance stays positive definite
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            model.fit(X)
    else:
        with pytest.warns(UserWarning, match="component 2 is not positive definite"):
            model.fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.isfinite(getattr(model, name)).all(), name
    assert np.isfinite(model.predict_proba(X)).all()


def test_not_converged_warns():
    X = load_digits().data[:200]
    with pytest.warns(ConvergenceWarning):
        model = GaussianMixture(5, covariance_type="diag", max_iter=1, random_state=0,
                                device="cpu").fit(X)
    assert not model.converged_ and model.n_iter_ == 1


def test_bad_input_raises_clear_errors(blobs):
    with pytest.raises(DataError, match=r"n_components=5 .* number of samples \(4\)"):
        GaussianMixture(5, device="cpu").fit(blobs[:4])
    for bad in (dict(covariance_type="banana"), dict(n_components=0), dict(tol=-1.0),
                dict(reg_covar=-1e-6), dict(max_iter=0), dict(n_init=0),
                dict(init_params="kmeans+++"), dict(means_init=np.zeros((2, 2)))):
        with pytest.raises(ParameterError):
            GaussianMixture(**{"n_components": 3, **bad}, device="cpu").fit(blobs)
    with pytest.raises(NotFittedError):
        GaussianMixture(3).predict(blobs)
    model = GaussianMixture(3, random_state=0, device="cpu").fit(blobs)
    with pytest.raises(DataError, match="3 features"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(DataError, match="NaN"):
        model.fit(np.full((10, 2), np.nan))
