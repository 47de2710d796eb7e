import gzip

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN as SklearnDBSCAN
from sklearn.datasets import load_digits, make_blobs
from sklearn.preprocessing import StandardScaler

from _shared_data import FCPS
from nolabel import DataError, ParameterError, load_model, registry
from nolabel.classical import dbscan
from nolabel.classical.dbscan import DBSCAN

FCPS_SETS = ["atom", "chainlink", "engytime", "hepta", "lsun", "target", "tetra",
             "twodiamonds", "wingnut"]


def assert_same_as_sklearn(X, eps, min_samples, **kwargs):
    ours = DBSCAN(eps=eps, min_samples=min_samples, device="cpu", **kwargs).fit(X)
    theirs = SklearnDBSCAN(eps=eps, min_samples=min_samples).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours.core_sample_indices_, theirs.core_sample_indices_)
    assert ours.labels_.dtype == np.int64 and ours.core_sample_indices_.dtype == np.int64
    return ours


def load_fcps(name):
    if not FCPS.is_dir():
        pytest.skip(f"benchmark data not found at {FCPS} (see shared/datasets/README.md)")
    with gzip.open(FCPS / f"{name}.data.gz", "rt") as handle:
        return np.loadtxt(handle)


@pytest.mark.parametrize("name", FCPS_SETS)
@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_identical_to_sklearn_on_fcps(name, algorithm):
    X = load_fcps(name)
    # eps: median distance to the 9th neighbour, so about half the points are core.
    distances, _ = cKDTree(X).query(X, 10)
    eps = float(np.median(distances[:, -1]))
    ours = assert_same_as_sklearn(X, eps, 10, algorithm=algorithm)
    assert ours.labels_.max() >= 0 and (ours.labels_ == -1).any()
    # eps equal to a distance between two samples: pairs exactly at eps must agree too
    eps = float(distances[len(X) // 2, 5])
    assert_same_as_sklearn(X, eps, 5, algorithm=algorithm)


@pytest.fixture(scope="module")
def digits():
    return load_digits().data


@pytest.mark.parametrize(("scaled", "eps", "min_samples"), [(False, 20.0, 5), (True, 4.0, 5)])
def test_identical_to_sklearn_on_digits(digits, scaled, eps, min_samples):
    X = StandardScaler().fit_transform(digits) if scaled else digits
    ours = assert_same_as_sklearn(X, eps, min_samples)
    assert ours.labels_.max() >= 9  # several clusters...
    assert 50 < (ours.labels_ == -1).sum() < len(X) // 2  # ...and noise
    # float32 input: distances are those of the float32 values, as scikit-learn's
    assert_same_as_sklearn(X.astype(np.float32), eps, min_samples)


def test_digits_raw_integers_exact_ties(digits):
    # Integer pixels: many squared distances are exactly eps^2 = 400.
    X = digits.astype(np.int64)
    norms = (X * X).sum(1)
    squared = norms[:, None] + norms[None, :] - 2 * X @ X.T
    assert (squared == 400).sum() > 50
    for algorithm in ("brute", "kd_tree"):
        assert_same_as_sklearn(X, 20.0, 5, algorithm=algorithm)


def test_pairs_a_rounding_away_from_eps_agree():
    # Pairs whose squared distance is eps^2 give or take one rounding: summed over features
    # in index order (scikit-learn's k-d tree) they are within eps, in reverse order not,
    # or the other way round. Ten far-away points make scikit-learn use its k-d tree.
    rng = np.random.default_rng(0)
    far = np.arange(10.0)[:, None] * 100.0 + 50.0 * np.ones((1, 3))
    outcomes = set()
    for _ in range(300):
        a = rng.normal(size=3)
        step = rng.normal(size=3)
        b = a + step / np.linalg.norm(step)
        forward = backward = 0.0
        for value, reverse in zip(a - b, (a - b)[::-1], strict=True):
            forward, backward = forward + value * value, backward + reverse * reverse
        if (forward <= 1.0) == (backward <= 1.0):
            continue
        outcomes.add(bool(forward <= 1.0))
        X = np.vstack([a, b, far])
        for algorithm in ("kd_tree", "brute"):
            ours = assert_same_as_sklearn(X, 1.0, 2, algorithm=algorithm)
            assert (ours.labels_[0] == 0) == (forward <= 1.0)
    assert outcomes == {True, False}


@pytest.mark.parametrize("eps", [1.0, np.sqrt(2.0), 2.0, np.sqrt(5.0)])
def test_lattice_with_distances_exactly_eps(eps):
    rng = np.random.default_rng(0)
    grid = np.stack(np.meshgrid(np.arange(25), np.arange(25)), -1).reshape(-1, 2) * 0.1
    X = grid[rng.random(len(grid)) < 0.7] + 3.7  # 0.1 steps: distances rounded either way
    for min_samples in (3, 5, 7):
        for algorithm in ("kd_tree", "brute"):
            assert_same_as_sklearn(X, eps * 0.1, min_samples, algorithm=algorithm)


@pytest.mark.parametrize("seed", range(6))
def test_border_point_reachable_from_two_clusters(seed):
    # Two clusters and one non-core point (13) within eps=10 of a core point of each.
    values = np.array([0.0, 1.0, 2.0, 3.0, 23.0, 24.0, 25.0, 26.0, 13.0, 100.0])
    X = values[np.random.default_rng(seed).permutation(len(values))][:, None]
    ours = assert_same_as_sklearn(X, 10.0, 4)
    border = int(np.flatnonzero(X[:, 0] == 13.0)[0])
    core_neighbours = ours.labels_[np.abs(X[:, 0] - 13.0) <= 10.0]
    assert border not in ours.core_sample_indices_
    assert set(core_neighbours) == {0, 1}  # really reachable from both clusters
    assert ours.labels_[border] == 0  # the smallest label, whatever the index order
    assert ours.labels_[X[:, 0] == 100.0] == -1


def test_border_takes_smallest_label_not_nearest_index():
    # Cluster 0 starts at index 0, but its core point next to the border has a large index;
    # cluster 1's core point next to the border has a small one. scikit-learn fills cluster
    # 0 first, so the border point gets 0.
    X = np.array([[0.0], [24.0], [23.0], [25.0], [26.0], [1.0], [2.0], [3.0], [13.0]])
    ours = assert_same_as_sklearn(X, 10.0, 4)
    assert ours.labels_[8] == 0 and ours.labels_[2] == 1 and ours.labels_[7] == 0


def test_random_blobs_many_borders():
    X, _ = make_blobs(600, centers=6, cluster_std=1.5, random_state=3)
    for min_samples in (4, 8, 15):
        ours = assert_same_as_sklearn(X, 0.6, min_samples)
    border = np.setdiff1d(np.flatnonzero(ours.labels_ >= 0), ours.core_sample_indices_)
    assert len(border) > 10


def test_brute_force_in_small_blocks_equals_tree():
    X, _ = make_blobs(500, n_features=5, centers=4, random_state=0)
    tree = DBSCAN(eps=1.2, min_samples=6, algorithm="kd_tree", device="cpu").fit(X)
    for chunk_size in (1, 7, 64):
        brute = DBSCAN(eps=1.2, min_samples=6, algorithm="brute", chunk_size=chunk_size,
                       device="cpu").fit(X)
        np.testing.assert_array_equal(brute.labels_, tree.labels_)
        np.testing.assert_array_equal(brute.core_sample_indices_, tree.core_sample_indices_)
    assert tree.labels_.max() >= 3


@pytest.mark.parametrize("unit", [1e-25, 1e25])
def test_brute_force_in_any_units(unit):
    # float32 squares of 1e25 overflow and of 1e-25 underflow: the search must rescale.
    X, _ = make_blobs(300, n_features=20, centers=3, random_state=5)
    reference = SklearnDBSCAN(eps=4.0, min_samples=5).fit(X)
    ours = DBSCAN(eps=4.0 * unit, min_samples=5, algorithm="brute", device="cpu").fit(X * unit)
    np.testing.assert_array_equal(ours.labels_, reference.labels_)
    assert reference.labels_.max() >= 2


def test_input_is_not_modified():
    X, _ = make_blobs(200, n_features=3, random_state=1)
    before = X.copy()
    for algorithm in ("kd_tree", "brute"):
        DBSCAN(eps=0.8, algorithm=algorithm, device="cpu").fit(X)
        np.testing.assert_array_equal(X, before)


def test_tensor_input_and_attributes():
    X, _ = make_blobs(300, n_features=3, centers=3, random_state=2)
    reference = DBSCAN(eps=0.9, min_samples=5, device="cpu").fit(X)
    from_double = DBSCAN(eps=0.9, min_samples=5, device="cpu").fit(torch.from_numpy(X))
    np.testing.assert_array_equal(from_double.labels_, reference.labels_)
    X32 = X.astype(np.float32)
    from_float = DBSCAN(eps=0.9, min_samples=5, device="cpu").fit(torch.from_numpy(X32))
    np.testing.assert_array_equal(from_float.labels_, SklearnDBSCAN(eps=0.9).fit(X32).labels_)
    labels = DBSCAN(eps=0.9, min_samples=5, device="cpu").fit_predict(torch.from_numpy(X))
    np.testing.assert_array_equal(labels, reference.labels_)
    np.testing.assert_array_equal(reference.components_, X[reference.core_sample_indices_])
    assert reference.n_features_in_ == 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("n_features", [3, 20])
def test_cuda_gives_the_same_labels(n_features):
    X, _ = make_blobs(3000, n_features=n_features, centers=5, random_state=0)
    eps = 0.8 if n_features == 3 else 4.0
    for data in (X, torch.from_numpy(X).cuda(), torch.from_numpy(X.astype(np.float32)).cuda()):
        ours = DBSCAN(eps=eps, min_samples=8, device="cuda").fit(data)
        theirs = SklearnDBSCAN(eps=eps, min_samples=8).fit(data.cpu().numpy()
                                                           if torch.is_tensor(data) else data)
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)
        np.testing.assert_array_equal(ours.core_sample_indices_, theirs.core_sample_indices_)
        assert ours.labels_.max() >= 2


@pytest.mark.parametrize("n_features", [3, 40])
def test_torch_distances_match_numpy(n_features):
    # The exact re-check runs in torch on a GPU: same arithmetic as the numpy one (CPU).
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        points = torch.from_numpy(rng.normal(size=(50, n_features)).astype(dtype))
        i, j = torch.from_numpy(rng.integers(50, size=(2, 400)))
        on_torch = dbscan._squared_distances_torch(points, i, j).numpy()
        on_numpy = dbscan._squared_distances_numpy(points.numpy(), i.numpy(), j.numpy())
        if n_features <= 16:
            np.testing.assert_array_equal(on_torch, on_numpy)
        else:
            np.testing.assert_allclose(on_torch, on_numpy, rtol=1e-13)
        exact = ((points.numpy()[i].astype(np.float64) - points.numpy()[j]) ** 2).sum(1)
        np.testing.assert_allclose(on_numpy, exact, rtol=1e-13)


def test_brute_force_with_the_gpu_arithmetic(monkeypatch):
    # On a GPU the band of uncertain pairs is re-checked by the torch code: run it here.
    monkeypatch.setattr(dbscan, "_squared_distances", dbscan._squared_distances_torch)
    X = StandardScaler().fit_transform(load_digits().data)
    assert_same_as_sklearn(X, 4.0, 5, algorithm="brute", chunk_size=100)
    lattice = np.stack(np.meshgrid(np.arange(20), np.arange(20)), -1).reshape(-1, 2) * 0.1
    assert_same_as_sklearn(lattice, 0.1, 5, algorithm="brute")


def test_parameter_and_data_errors():
    X = np.zeros((10, 2))
    with pytest.raises(ParameterError, match="eps must be > 0"):
        DBSCAN(eps=0.0).fit(X)
    with pytest.raises(ParameterError, match="eps must be > 0"):
        DBSCAN(eps=-1.0).fit(X)
    with pytest.raises(ParameterError, match="eps must be finite"):
        DBSCAN(eps=float("nan")).fit(X)
    with pytest.raises(ParameterError, match="eps must be finite"):
        DBSCAN(eps=float("inf")).fit(X)
    with pytest.raises(ParameterError, match="eps must be a number"):
        DBSCAN(eps="0.5").fit(X)
    with pytest.raises(ParameterError, match="min_samples must be >= 1"):
        DBSCAN(min_samples=0).fit(X)
    with pytest.raises(ParameterError, match="min_samples must be an integer"):
        DBSCAN(min_samples=2.5).fit(X)
    with pytest.raises(ParameterError, match="algorithm must be one of"):
        DBSCAN(algorithm="ball_tree").fit(X)
    with pytest.raises(ParameterError, match="chunk_size must be >= 1"):
        DBSCAN(chunk_size=0).fit(X)
    X[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN at row 3, column 1"):
        DBSCAN().fit(X)


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_identical_points_and_single_point(algorithm):
    same = np.full((6, 3), 2.5)
    enough = DBSCAN(eps=0.1, min_samples=6, algorithm=algorithm, device="cpu").fit(same)
    np.testing.assert_array_equal(enough.labels_, np.zeros(6))
    np.testing.assert_array_equal(enough.core_sample_indices_, np.arange(6))
    too_few = DBSCAN(eps=0.1, min_samples=7, algorithm=algorithm, device="cpu").fit(same)
    np.testing.assert_array_equal(too_few.labels_, -np.ones(6))
    assert too_few.core_sample_indices_.shape == (0,) and too_few.components_.shape == (0, 3)
    for min_samples in (6, 7):
        assert_same_as_sklearn(same, 0.1, min_samples, algorithm=algorithm)
    one = np.array([[1.0, 2.0]])
    single = DBSCAN(eps=0.5, min_samples=1, algorithm=algorithm, device="cpu").fit(one)
    np.testing.assert_array_equal(single.labels_, [0])
    alone = DBSCAN(eps=0.5, min_samples=2, algorithm=algorithm, device="cpu").fit(one)
    np.testing.assert_array_equal(alone.labels_, [-1])


def test_save_and_load_round_trip(tmp_path):
    X, _ = make_blobs(200, n_features=2, centers=3, random_state=4)
    model = DBSCAN(eps=0.7, min_samples=4, chunk_size=50, device="cpu").fit(X)
    loaded = load_model(model.save(tmp_path / "dbscan.safetensors"))
    assert isinstance(loaded, DBSCAN) and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.labels_, model.labels_)
    np.testing.assert_array_equal(loaded.core_sample_indices_, model.core_sample_indices_)
    np.testing.assert_array_equal(loaded.components_, model.components_)
    assert loaded.n_features_in_ == 2
    assert registry.get("dbscan").cls is DBSCAN
