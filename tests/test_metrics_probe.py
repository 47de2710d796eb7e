"""Linear and k-NN probes on digits: accuracy floors, balanced reproducible subsets, inputs."""

import dataclasses

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from nolabel.errors import DataError, ParameterError
from nolabel.metrics import ProbeResult, balanced_subset, knn_probe, linear_probe, probe


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny fits: threads only add overhead, and spin badly on a loaded machine.
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    # 1257 train / 540 test; measured (random_state 0..5): linear 0.972 with all labels and
    # 0.88-0.90 with 100, k-NN 0.970 and 0.83-0.85. The floors below leave a wide margin.
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _split(digits):
    X_train, X_test, y_train, y_test = digits
    return X_train, y_train, X_test, y_test


def test_linear_probe_floors_and_fewer_labels_score_lower(digits):
    full = linear_probe(*_split(digits))
    assert full.n_labels == 1257 and full.accuracies == (full.mean_accuracy,)
    assert full.std_accuracy == 0.0
    assert full.mean_accuracy > 0.95
    few = linear_probe(*_split(digits), n_labels=100, n_subsets=3)
    assert few.method == "linear" and few.n_labels == 100 and len(few.accuracies) == 3
    assert few.mean_accuracy > 0.8
    assert few.mean_accuracy < full.mean_accuracy
    assert few.std_accuracy == pytest.approx(np.std(few.accuracies))


def test_knn_probe_floors(digits):
    assert knn_probe(*_split(digits)).mean_accuracy > 0.95
    few = knn_probe(*_split(digits), n_labels=100, n_subsets=3)
    assert few.method == "knn" and few.mean_accuracy > 0.75


def test_probe_driver_returns_one_row_per_method_and_budget(digits):
    rows = probe(*_split(digits), label_budgets=(50, None), n_subsets=2)
    assert all(isinstance(r, ProbeResult) for r in rows)
    assert [(r.method, r.n_labels, len(r.accuracies)) for r in rows] == [
        ("linear", 50, 2),
        ("linear", 1257, 1),
        ("knn", 50, 2),
        ("knn", 1257, 1),
    ]
    # A budget beyond the training set means all labels.
    (row,) = probe(*_split(digits), label_budgets=(5000,), methods="knn")
    assert row.n_labels == 1257 and row.accuracies == (rows[-1].mean_accuracy,)
    assert dataclasses.asdict(row)["method"] == "knn"
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.method = "linear"


def test_same_seed_same_result_different_seed_different_subsets(digits):
    first = linear_probe(*_split(digits), n_labels=60, n_subsets=3, random_state=1)
    again = linear_probe(*_split(digits), n_labels=60, n_subsets=3, random_state=1)
    other = linear_probe(*_split(digits), n_labels=60, n_subsets=3, random_state=2)
    assert first == again
    assert first.accuracies != other.accuracies
    # The subsets of one call differ from each other too.
    assert len(set(first.accuracies)) > 1


def test_random_features_score_near_chance(digits):
    X_train, y_train, X_test, y_test = _split(digits)
    rng = np.random.default_rng(0)
    noise_train = rng.normal(size=X_train.shape)
    noise_test = rng.normal(size=X_test.shape)
    for row in probe(noise_train, y_train, noise_test, y_test, label_budgets=(100, None)):
        assert row.mean_accuracy < 0.3, row


def test_tensors_give_the_same_result(digits):
    X_train, y_train, X_test, y_test = _split(digits)
    as_tensor = [torch.from_numpy(a) for a in (X_train, y_train, X_test, y_test)]
    assert knn_probe(*as_tensor, n_labels=100) == knn_probe(
        X_train, y_train, X_test, y_test, n_labels=100
    )


def test_constant_columns_are_handled(digits):
    # Digits has pixel columns that are always 0; a 100-label subset has even more.
    X_train, y_train, X_test, y_test = _split(digits)
    assert (X_train.std(axis=0) == 0).any()
    result = linear_probe(X_train, y_train, X_test, y_test, n_labels=20, n_subsets=2)
    assert all(np.isfinite(result.accuracies))


# --- the subset drawing helper ---


@pytest.mark.parametrize("n_labels", [10, 37, 100, 999])
def test_subsets_are_class_balanced(n_labels):
    labels = np.repeat(np.arange(10), 100)
    np.random.default_rng(0).shuffle(labels)
    for seed in range(5):
        subset = balanced_subset(labels, n_labels, random_state=seed)
        assert subset.size == n_labels == np.unique(subset).size
        counts = np.bincount(labels[subset], minlength=10)
        assert counts.max() - counts.min() <= 1


def test_small_classes_are_taken_whole_and_the_others_fill_in():
    labels = np.r_[np.zeros(3, int), np.ones(50, int), np.full(50, 2), np.full(8, 3)]
    subset = balanced_subset(labels, 40, random_state=0)
    counts = np.bincount(labels[subset])
    assert subset.size == 40
    assert counts[0] == 3 and counts[3] == 8
    assert sorted(counts[1:3]) == [14, 15]


def test_subsets_are_reproducible_and_seed_dependent():
    labels = np.repeat(np.arange(4), 50)
    a = balanced_subset(labels, 20, random_state=3)
    np.testing.assert_array_equal(a, balanced_subset(labels, 20, random_state=3))
    assert not np.array_equal(a, balanced_subset(labels, 20, random_state=4))
    np.testing.assert_array_equal(balanced_subset(labels, 500), np.arange(200))


def test_subset_budget_below_the_class_count_is_refused():
    with pytest.raises(ParameterError, match=r"n_labels asks for 3 labels but .* 4 classes"):
        balanced_subset(np.repeat(np.arange(4), 5), 3)


# --- input checks ---


def test_features_must_be_2d(digits):
    X_train, y_train, X_test, y_test = _split(digits)
    images = X_train.reshape(-1, 8, 8)
    with pytest.raises(DataError, match=r"train_features must be 2-D.*reshape to \(n_samples"):
        linear_probe(images, y_train, X_test, y_test)
    with pytest.raises(DataError, match="test_features must be 2-D"):
        knn_probe(X_train, y_train, X_test[:, 0], y_test)


def test_label_and_feature_counts_must_match(digits):
    X_train, y_train, X_test, y_test = _split(digits)
    with pytest.raises(DataError, match="train_labels has 99 labels but train_features has 100"):
        linear_probe(X_train[:100], y_train[:99], X_test, y_test)
    with pytest.raises(DataError, match="test_labels has 539 labels but test_features has 540"):
        probe(X_train, y_train, X_test, y_test[:-1])
    with pytest.raises(DataError, match="test_features has 63 columns but train_features has 64"):
        knn_probe(X_train, y_train, X_test[:, :63], y_test)
    with pytest.raises(DataError, match="train_labels must be 1-D"):
        knn_probe(X_train, y_train[:, None], X_test, y_test)


def test_non_finite_features_are_located(digits):
    X_train, y_train, X_test, y_test = _split(digits)
    X_test = X_test.copy()
    X_test[7, 12] = np.nan
    with pytest.raises(DataError, match="test_features has a NaN at row 7, column 12"):
        probe(X_train, y_train, X_test, y_test)


def test_a_single_training_class_is_refused(digits):
    X_train, _, X_test, y_test = _split(digits)
    with pytest.raises(DataError, match="train_labels holds a single class"):
        linear_probe(X_train, np.zeros(len(X_train), int), X_test, y_test)


def test_bad_parameters_are_named(digits):
    data = _split(digits)
    with pytest.raises(ParameterError, match=r"label_budgets asks for 5 labels but .*10 classes"):
        probe(*data, label_budgets=(100, 5))
    with pytest.raises(ParameterError, match="label_budgets must be >= 1"):
        probe(*data, label_budgets=(0,))
    with pytest.raises(ParameterError, match="label_budgets is empty"):
        probe(*data, label_budgets=())
    with pytest.raises(ParameterError, match="n_labels asks for 9 labels"):
        linear_probe(*data, n_labels=9)
    with pytest.raises(ParameterError, match="n_subsets must be >= 1"):
        probe(*data, n_subsets=0)
    with pytest.raises(ParameterError, match="n_subsets must be an integer"):
        knn_probe(*data, n_subsets=2.5)
    with pytest.raises(ParameterError, match="methods must be one of 'linear', 'knn'"):
        probe(*data, methods=("linear", "svm"))
    with pytest.raises(ParameterError, match="methods is empty"):
        probe(*data, methods=())
    with pytest.raises(ParameterError, match="k must be >= 1"):
        knn_probe(*data, k=0)
    with pytest.raises(ParameterError, match="C must be > 0"):
        linear_probe(*data, C=0.0)
    with pytest.raises(ParameterError, match="max_iter must be >= 1"):
        linear_probe(*data, max_iter=0)
    with pytest.raises(ParameterError, match="random_state must be >= 0"):
        probe(*data, random_state=-1)
