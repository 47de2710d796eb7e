import numpy as np
import pytest
from sklearn.cluster import MiniBatchKMeans as SklearnMiniBatchKMeans
from sklearn.datasets import load_digits

from nolabel import DataError, KMeans, load_model
from nolabel._chunks import RowSource
from nolabel.classical.minibatch_kmeans import MiniBatchKMeans


@pytest.fixture(scope="module")
def digits():
    return load_digits().data.astype(np.float32)


def _fit(X, seed=0, **kwargs):
    params = {"batch_size": 256, "block_size": 500, "device": "cpu", **kwargs}
    return MiniBatchKMeans(10, random_state=seed, **params).fit(X)


def test_quality_matches_sklearn_minibatch_and_approaches_full_kmeans(digits):
    ours = np.median([_fit(digits, seed).inertia_ for seed in range(3)])
    theirs = np.median([SklearnMiniBatchKMeans(10, batch_size=256, random_state=seed)
                        .fit(digits).inertia_ for seed in range(3)])
    full = KMeans(10, random_state=0).fit(digits).inertia_
    assert ours <= 1.03 * theirs
    assert ours <= 1.06 * full


def test_npy_path_memmap_and_array_give_identical_results(digits, tmp_path):
    path = tmp_path / "digits.npy"
    np.save(path, digits)
    from_array = _fit(digits)
    from_path = _fit(path)
    from_memmap = _fit(np.load(path, mmap_mode="r"))
    np.testing.assert_array_equal(from_array.labels_, from_path.labels_)
    np.testing.assert_array_equal(from_array.labels_, from_memmap.labels_)
    np.testing.assert_array_equal(from_path.predict(path), from_path.labels_)
    # labels_ and inertia_ describe the final centres over the whole data
    direct = ((digits - from_path.cluster_centers_[from_path.labels_]) ** 2).sum()
    assert from_path.inertia_ == pytest.approx(direct, rel=1e-4)


def test_data_is_read_in_blocks_never_whole(digits, tmp_path, monkeypatch):
    path = tmp_path / "digits.npy"
    np.save(path, digits)
    sizes = []
    read, take = RowSource.read, RowSource.take
    monkeypatch.setattr(RowSource, "read",
                        lambda self, a, b, check=True: sizes.append(b - a) or read(self, a, b,
                                                                                   check))
    monkeypatch.setattr(RowSource, "take",
                        lambda self, rows: sizes.append(len(rows)) or take(self, rows))
    _fit(path, block_size=300, init_size=200)
    assert sizes and max(sizes) <= 300
    assert sum(sizes) > 3 * len(digits)  # several passes, all of them in blocks


def test_early_stop_waits_for_every_block_and_rows_are_checked_once(digits, tmp_path,
                                                                   monkeypatch):
    # A file sorted by cluster: stopping on the smoothed inertia of the first blocks would
    # leave centres that never saw the rest, so the rule may stop only after a full pass.
    order = np.argsort(KMeans(10, random_state=0).fit(digits).labels_, kind="stable")
    path = tmp_path / "sorted.npy"
    np.save(path, digits[order])
    checked = []
    read = RowSource.read
    monkeypatch.setattr(RowSource, "read", lambda self, a, b, check=True: (
        checked.append((a, check)) or read(self, a, b, check)))
    model = _fit(path, block_size=300, batch_size=100, max_no_improvement=1)
    blocks = -(-len(digits) // 300)
    assert model.n_steps_ >= blocks * 3  # 3 batches per block: at least one full pass
    validated = sorted(start for start, check in checked if check)
    assert validated == list(range(0, len(digits), 300))  # each block validated once


def test_bad_rows_are_named_by_their_row_in_the_whole_file(digits, tmp_path):
    bad = digits.copy()
    bad[1234, 7] = np.nan
    path = tmp_path / "bad.npy"
    np.save(path, bad)
    with pytest.raises(DataError, match="row 1234, column 7"):
        _fit(path, block_size=500)
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(DataError, match=r"truncated\.npy is truncated"):
        _fit(truncated)
    with pytest.raises(DataError, match="does not exist"):
        _fit(tmp_path / "missing.npy")


def test_partial_fit_improves_and_same_seed_same_result(digits):
    model = MiniBatchKMeans(10, random_state=0, device="cpu")
    rng = np.random.default_rng(0)
    inertias = []
    for _ in range(15):
        model.partial_fit(digits[rng.choice(len(digits), 200, replace=False)])
        inertias.append(model.score(digits))
    assert inertias[-1] > inertias[0]  # score = -inertia over all digits
    a, b = _fit(digits, seed=5), _fit(digits, seed=5)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_save_load_round_trip(digits, tmp_path):
    model = _fit(digits)
    model.save(tmp_path / "mb.safetensors")
    loaded = load_model(tmp_path / "mb.safetensors")
    assert isinstance(loaded, MiniBatchKMeans)
    np.testing.assert_array_equal(loaded.predict(digits), model.labels_)
