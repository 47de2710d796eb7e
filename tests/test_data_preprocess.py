"""Preprocessing invariants, the NaN policy, train/test split, and the Dataset container."""

import numpy as np
import pytest

from nolabel.data import (
    Dataset,
    binarize,
    clean,
    load,
    minmax_scale,
    standardize,
    train_test_split,
)
from nolabel.errors import DataError, ParameterError


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=3.0, scale=[1.0, 5.0, 0.1, 2.0], size=(500, 4)).astype(np.float32)
    X[:, 2] = 7.0  # a constant feature
    return X


def test_standardize(X):
    Z = standardize(X)
    assert Z.dtype == np.float32 and Z.shape == X.shape
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0)[[0, 1, 3]], 1.0, atol=1e-4)
    assert np.all(Z[:, 2] == 0.0)


def test_minmax_scale(X):
    Z = minmax_scale(X)
    assert Z.min() == 0.0 and Z.max() == 1.0 and np.isfinite(Z).all()
    np.testing.assert_array_equal(Z.min(axis=0)[[0, 1, 3]], 0.0)
    np.testing.assert_array_equal(Z.max(axis=0)[[0, 1, 3]], 1.0)
    assert np.all(Z[:, 2] == 0.0)
    images = np.arange(2 * 1 * 2 * 2, dtype=np.float32).reshape(2, 1, 2, 2)
    np.testing.assert_allclose(minmax_scale(images, per_feature=False).ravel(), np.arange(8) / 7)


def test_binarize_fixed():
    np.testing.assert_array_equal(binarize(np.array([[0.2, 0.5, 0.9]])), [[0, 0, 1]])
    np.testing.assert_array_equal(binarize(np.array([[0.2, 0.5, 0.9]]), 0.1), [[1, 1, 1]])


def test_binarize_stochastic_is_reproducible_and_unbiased():
    p = np.random.default_rng(1).random((400, 50)).astype(np.float32)
    a = binarize(p, stochastic=True, random_state=3)
    b = binarize(p, stochastic=True, random_state=3)
    c = binarize(p, stochastic=True, random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert set(np.unique(a)) == {0.0, 1.0}
    assert abs(a.mean() - p.mean()) < 0.01


def test_binarize_stochastic_needs_probabilities():
    with pytest.raises(DataError, match=r"must lie in \[0, 1\].*\[-1, 2\]"):
        binarize(np.array([[-1.0, 2.0]]), stochastic=True)


def test_transforms_accept_a_dataset():
    data = Dataset(np.array([[0.0, 2.0], [4.0, 6.0]]), np.array([0, 1]), name="toy")
    scaled = minmax_scale(data)
    assert isinstance(scaled, Dataset) and scaled.name == "toy"
    np.testing.assert_array_equal(scaled.X, [[0, 0], [1, 1]])
    np.testing.assert_array_equal(scaled.y, data.y)


def test_clean_rejects_nan_naming_row_and_column():
    X = np.ones((5, 3))
    X[3, 2] = np.nan
    with pytest.raises(DataError, match="NaN at row 3, column 2"):
        clean(X)


def test_clean_imputes_mean_and_median():
    X = np.array([[1.0, 10.0], [np.nan, 20.0], [3.0, np.inf], [8.0, 30.0]])
    np.testing.assert_allclose(clean(X, impute="mean"), [[1, 10], [4, 20], [3, 20], [8, 30]])
    np.testing.assert_allclose(clean(X, impute="median")[1:3], [[3, 20], [3, 20]])


def test_clean_all_nan_column_is_named():
    X = np.array([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(DataError, match="column 1 holds no finite value"):
        clean(X, impute="mean")


def test_clean_drop_says_how_many():
    X = np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, 4.0]])
    with pytest.warns(UserWarning, match="dropped 1 of 3 rows"):
        out = clean(X, impute="drop")
    np.testing.assert_array_equal(out, [[1, 2], [3, 4]])
    with pytest.raises(ParameterError, match="impute"):
        clean(X, impute="zero")


def test_load_drop_keeps_labels_aligned(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.array([[1.0], [np.nan], [3.0]]), y=np.array([0, 1, 2]))
    with pytest.warns(UserWarning, match="dropped 1"):
        data = load(tmp_path / "d.npz", impute="drop")
    np.testing.assert_array_equal(data.y, [0, 2])
    with pytest.raises(DataError, match=r"d\.npz has a NaN at row 1, column 0"):
        load(tmp_path / "d.npz")


def test_train_test_split():
    data = Dataset(np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10), name="toy")
    train, test = train_test_split(data, test_size=0.3, random_state=0)
    assert (train.n_samples, test.n_samples) == (7, 3)
    assert sorted(np.concatenate([train.y, test.y])) == list(range(10))
    np.testing.assert_array_equal(train.X[:, 0], train.y * 2)  # rows and labels stay paired
    again, _ = train_test_split(data, test_size=0.3, random_state=0)
    np.testing.assert_array_equal(again.y, train.y)
    assert train_test_split(data, test_size=4)[1].n_samples == 4
    with pytest.raises(ParameterError, match="test_size"):
        train_test_split(data, test_size=1.0)


def test_dataset_properties_and_validation():
    data = Dataset(np.zeros((4, 1, 2, 3)), np.array([0.0, 1.0, 1.0, 0.0]), name="d")
    assert data.X.dtype == np.float32 and data.y.dtype == np.int64
    assert (data.n_samples, data.sample_shape, data.n_features) == (4, (1, 2, 3), 6)
    assert data.flat().shape == (4, 6) and data.is_image and len(data) == 4
    with pytest.raises(DataError, match="4 samples but y has 3 labels"):
        Dataset(np.zeros((4, 2)), np.zeros(3, dtype=int))
    with pytest.raises(DataError, match=r"y\[1\] is 0.5"):
        Dataset(np.zeros((2, 2)), np.array([1.0, 0.5]))
    with pytest.raises(DataError, match="shape"):
        Dataset(np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match="empty"):
        Dataset(np.zeros((0, 2)))
    with pytest.raises(DataError, match="only 2 class names"):
        Dataset(np.zeros((2, 2)), np.array([0, 2]), classes=("a", "b"))
    named = Dataset(np.zeros((3, 2)), feature_names=["a", "b"])
    assert named.subset([0, 2]).feature_names == ("a", "b")
    with pytest.raises(DataError, match="3 feature names"):
        Dataset(np.zeros((2, 2)), feature_names=("a", "b", "c"))
    with pytest.raises(DataError, match="names are for the columns of a table"):
        Dataset(np.zeros((2, 1, 1, 2)), feature_names=("a", "b"))
