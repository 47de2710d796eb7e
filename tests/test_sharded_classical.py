"""KMeans and GaussianMixture on a .npy file read in blocks equal the in-memory fits."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import nolabel
from nolabel import ParameterError
from nolabel.classical import _sharded


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    X = (load_digits().data / 16.0).astype(np.float32)
    path = tmp_path_factory.mktemp("data") / "digits.npy"
    np.save(path, X)
    return X, path


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(_sharded, "_BLOCK_ELEMENTS", 64 * 100)  # 100 rows per block


def test_kmeans_on_disk_equals_in_memory_from_same_centres(digits_file, small_blocks):
    X, path = digits_file
    init = X[::180][:10]
    memory = nolabel.KMeans(10, init=init, device="cpu").fit(X)
    disk = nolabel.KMeans(10, init=init, device="cpu").fit(str(path))
    np.testing.assert_array_equal(disk.labels_, memory.labels_)
    np.testing.assert_allclose(disk.cluster_centers_, memory.cluster_centers_, atol=1e-5)
    assert disk.n_iter_ == memory.n_iter_
    assert disk.inertia_ == pytest.approx(memory.inertia_, rel=1e-6)


def test_kmeans_plusplus_on_disk_finds_as_good_a_clustering(digits_file, small_blocks):
    X, path = digits_file
    memory = nolabel.KMeans(10, n_init=3, random_state=0, device="cpu").fit(X)
    disk = nolabel.KMeans(10, n_init=3, random_state=0, device="cpu").fit(np.load(
        path, mmap_mode="r"))
    assert disk.inertia_ < 1.03 * memory.inertia_
    assert disk.labels_.shape == (len(X),) and set(disk.labels_) == set(range(10))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("float32", [False, True])
def test_gmm_on_disk_equals_in_memory_from_same_means(digits_file, small_blocks, monkeypatch,
                                                      covariance_type, float32):
    from nolabel.classical import gmm

    if not float32:  # float64 throughout: the same arithmetic, to the last digits
        monkeypatch.setattr(gmm, "_FLOAT32_TYPES", ())
    # float32 E-steps (full, tied) round alike on disk and in memory, but the in-memory
    # M-step also takes its covariance products in float32: equal to float32's precision.
    close = float32 and covariance_type in ("full", "tied")
    rtol, atol = (1e-6, 1e-4) if close else (1e-9, 1e-7)
    X, path = digits_file
    X = X[:, ::4]  # 16 features keep full covariances quick
    reduced = path.with_name(f"reduced-{covariance_type}.npy")
    np.save(reduced, X)
    settings = {"covariance_type": covariance_type, "means_init": X[::180][:10],
                "max_iter": 15, "tol": 0.0, "reg_covar": 1e-3, "device": "cpu"}
    memory = nolabel.GaussianMixture(10, **settings)
    memory_labels = memory.fit_predict(X)
    disk = nolabel.GaussianMixture(10, **settings)
    disk_labels = disk.fit_predict(reduced)
    np.testing.assert_allclose(disk.history_, memory.history_, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(disk.means_, memory.means_, atol=atol)
    np.testing.assert_allclose(disk.covariances_, memory.covariances_, atol=atol)
    np.testing.assert_allclose(disk.weights_, memory.weights_, atol=atol / 100)
    assert (disk_labels == np.asarray(memory_labels)).mean() > 0.999


def test_gmm_on_disk_with_kmeans_init_increases_likelihood(digits_file, small_blocks):
    X, path = digits_file
    gmm = nolabel.GaussianMixture(5, covariance_type="diag", random_state=0, device="cpu",
                                  reg_covar=1e-3, max_iter=30).fit(path)
    assert np.all(np.diff(gmm.history_) >= -1e-9)  # EM never lowers the likelihood
    assert gmm.score(X) == pytest.approx(gmm.lower_bound_, abs=0.05)


def test_random_responsibilities_are_refused_for_data_on_disk(digits_file):
    _, path = digits_file
    with pytest.raises(ParameterError, match="init_params='random'"):
        nolabel.GaussianMixture(3, init_params="random", device="cpu").fit(path)


def test_a_bad_row_on_disk_is_named_before_any_step(digits_file, tmp_path, small_blocks):
    X, _ = digits_file
    broken = X.copy()
    broken[1234, 7] = np.inf
    np.save(tmp_path / "broken.npy", broken)
    from nolabel import DataError

    with pytest.raises(DataError, match="row 1234"):
        nolabel.KMeans(10, init=X[:10], device="cpu").fit(tmp_path / "broken.npy")
    with pytest.raises(DataError, match="row 1234"):
        nolabel.GaussianMixture(3, device="cpu").fit(tmp_path / "broken.npy")
