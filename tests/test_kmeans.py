import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import load_digits

from nolabel import DataError, KMeans, NotFittedError, ParameterError, load_model


@pytest.fixture(scope="module")
def digits():
    return load_digits().data.astype(np.float32)


@pytest.mark.parametrize("n_init", [1, 10])
def test_inertia_within_one_percent_of_sklearn(digits, n_init):
    ours = KMeans(10, n_init=n_init, random_state=0).fit(digits)
    theirs = SklearnKMeans(10, n_init=n_init, random_state=0).fit(digits)
    assert ours.inertia_ <= theirs.inertia_ * 1.01
    # inertia_ is the real sum of squared distances to the reported centres
    direct = ((digits - ours.cluster_centers_[ours.labels_]) ** 2).sum()
    assert ours.inertia_ == pytest.approx(direct, rel=1e-4)


def test_more_restarts_never_worse(digits):
    one = KMeans(10, n_init=1, random_state=3).fit(digits)
    many = KMeans(10, n_init=8, random_state=3).fit(digits)
    assert many.inertia_ <= one.inertia_ + 1e-6


def test_same_seed_same_result_and_labels_match_centres(digits):
    a = KMeans(10, random_state=7).fit(digits)
    b = KMeans(10, random_state=7).fit(digits)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.predict(digits), a.labels_)
    distances = a.transform(digits)
    assert distances.shape == (len(digits), 10)
    np.testing.assert_array_equal(distances.argmin(1), a.labels_)
    assert a.score(digits) == pytest.approx(-a.inertia_, rel=1e-5)


def test_random_and_array_init(digits):
    random_init = KMeans(10, init="random", n_init=3, random_state=0).fit(digits)
    assert len(np.unique(random_init.labels_)) == 10
    start = digits[:10].copy()
    from_array = KMeans(10, init=start, random_state=0).fit(digits)
    reference = SklearnKMeans(10, init=start, n_init=1).fit(digits)
    assert from_array.inertia_ == pytest.approx(reference.inertia_, rel=1e-3)


def test_empty_cluster_is_relocated():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (50, 2)), rng.normal(8, 1, (50, 2))]).astype(np.float32)
    init = np.array([[0, 0], [8, 8], [1000, 1000]], dtype=np.float32)  # third attracts nothing
    model = KMeans(3, init=init).fit(X)
    assert len(np.unique(model.labels_)) == 3
    assert np.isfinite(model.cluster_centers_).all()


def test_tensor_input_gives_same_result(digits):
    from_numpy = KMeans(10, random_state=1).fit(digits)
    from_tensor = KMeans(10, random_state=1).fit(torch.from_numpy(digits))
    np.testing.assert_array_equal(from_numpy.labels_, from_tensor.labels_)


def test_bad_input_and_parameters(digits):
    with pytest.raises(DataError, match="n_clusters=20 is larger than the number of samples"):
        KMeans(20).fit(digits[:5])
    with pytest.raises(NotFittedError, match="not fitted"):
        KMeans(3).predict(digits)
    fitted = KMeans(3, random_state=0).fit(digits)
    with pytest.raises(DataError, match="has 10 features, but KMeans is expecting 64 features"):
        fitted.predict(digits[:, :10])
    with pytest.raises(ParameterError, match="n_clusters must be >= 1"):
        KMeans(0).fit(digits)
    with pytest.raises(ParameterError, match="init must be one of"):
        KMeans(3, init="kmeans").fit(digits)
    with pytest.raises(ParameterError, match=r"init has shape \(2, 64\)"):
        KMeans(3, init=digits[:2]).fit(digits)
    bad = digits.copy()
    bad[4, 7] = np.nan
    with pytest.raises(DataError, match="NaN at row 4, column 7"):
        KMeans(3).fit(bad)
    with pytest.raises(DataError, match="1-D"):
        KMeans(3).fit(digits[:, 0])


def test_save_load_round_trip(tmp_path, digits):
    model = KMeans(10, random_state=0).fit(digits)
    path = model.save(tmp_path / "kmeans.safetensors")
    loaded = load_model(path)
    assert isinstance(loaded, KMeans)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(digits), model.predict(digits))
    assert loaded.inertia_ == model.inertia_


def _textbook_lloyd(X, centers, n_iter):
    """n_iter plain Lloyd steps in float64 numpy, then the labels of the final centres."""
    X, centers = X.astype(np.float64), centers.astype(np.float64)
    for _ in range(n_iter):
        labels = ((X[:, None, :] - centers[None]) ** 2).sum(2).argmin(1)
        centers = np.stack([X[labels == j].mean(0) if (labels == j).any() else centers[j]
                            for j in range(len(centers))])
    return centers, ((X[:, None, :] - centers[None]) ** 2).sum(2).argmin(1)


@pytest.mark.parametrize("max_iter", [1, 3, 10, 300])
def test_bounded_lloyd_equals_textbook_lloyd(digits, max_iter):
    """Skipping points by Hamerly's bounds must not change a single assignment."""
    start = digits[::180][:10].copy()
    model = KMeans(10, init=start, max_iter=max_iter, tol=0.0).fit(digits)
    centers, labels = _textbook_lloyd(digits, start, model.n_iter_)
    np.testing.assert_array_equal(model.labels_, labels)
    np.testing.assert_allclose(model.cluster_centers_, centers, atol=1e-4)
    if max_iter == 300:
        assert model.n_iter_ < 300  # converged: labels stopped changing
