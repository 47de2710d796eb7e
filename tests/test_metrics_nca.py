"""Normalised clustering accuracy: hand-worked tables, genieclust's values, its properties."""

import itertools

import numpy as np
import pytest

from nolabel.errors import DataError
from nolabel.metrics import normalized_clustering_accuracy as nca


def labels_from_table(table):
    """Label vectors whose contingency table (classes by clusters) is ``table``."""
    table = np.asarray(table)
    rows, columns = np.nonzero(table)
    counts = table[rows, columns]
    return np.repeat(rows, counts), np.repeat(columns, counts)


def brute_force_nca(y_true, y_pred):
    """The definition read literally: best mean normalised recall over all injections."""
    classes, clusters = np.unique(y_true), np.unique(y_pred)
    k = classes.size
    recall = np.array([[np.mean(y_pred[y_true == c] == j) for j in clusters] for c in classes])
    padded = np.zeros((k, max(k, clusters.size)))
    padded[:, : clusters.size] = recall
    best = max(
        sum(padded[i, s[i]] for i in range(k))
        for s in itertools.permutations(range(padded.shape[1]), k)
    )
    return (best - 1.0) / (k - 1)


def test_perfect_and_renamed_partitions_score_exactly_one():
    y = np.array([0, 0, 1, 1, 1, 2, 2, 3])
    assert nca(y, y) == 1.0
    assert nca(y, np.array([7, 7, -1, -1, -1, 3, 3, 0])) == 1.0


def test_hand_worked_two_by_two_table():
    # Class 0 (11 points) mostly in cluster 1 (10), class 1 (10 points) mostly in cluster 0 (8):
    # NCA = (10/11 + 8/10 - 1) / (2 - 1).
    y_true, y_pred = labels_from_table([[1, 10], [8, 2]])
    assert nca(y_true, y_pred) == pytest.approx(10 / 11 + 8 / 10 - 1)


def test_hand_worked_three_by_three_table():
    # Recalls 20/25, 14/20 and 9/10 on the best matching: (0.8 + 0.7 + 0.9 - 1) / 2.
    y_true, y_pred = labels_from_table([[20, 3, 2], [5, 1, 14], [0, 9, 1]])
    assert nca(y_true, y_pred) == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("table", "genieclust_value"),
    [
        # Values printed by genieclust 1.3.0,
        # genieclust.compare_partitions.normalized_clustering_accuracy(np.array(table)).
        ([[1, 10], [8, 2]], 0.709090909090909),
        ([[20, 3, 2], [5, 1, 14], [0, 9, 1]], 0.7),
        ([[5, 0, 0, 1], [2, 7, 1, 0], [0, 3, 3, 3], [1, 1, 0, 8]], 0.5555555555555555),
    ],
)
def test_matches_genieclust_on_square_tables(table, genieclust_value):
    y_true, y_pred = labels_from_table(table)
    assert nca(y_true + 1, y_pred + 1) == pytest.approx(genieclust_value, abs=1e-12)


def test_more_clusters_than_classes_leaves_surplus_clusters_unmatched():
    # Class 0 is split over clusters 0 and 1; only one of them can be matched to it, so
    # its recall is 1/2 (genieclust 1.1 pads the missing rows/columns with zeros).
    y_true = [0, 0, 0, 0, 1, 1, 1, 1]
    y_pred = [0, 0, 1, 1, 2, 2, 2, 2]
    assert nca(y_true, y_pred) == pytest.approx((0.5 + 1.0 - 1) / (2 - 1))


def test_fewer_clusters_than_classes_scores_unmatched_classes_zero():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [5, 5, 5, 5, 6, 6]
    assert nca(y_true, y_pred) == pytest.approx((1.0 + 0.0 + 1.0 - 1) / (3 - 1))


def test_is_asymmetric_every_class_weighs_the_same():
    # One big class split in two, one small class on its own.
    y_true = np.array([0] * 8 + [1] * 2)
    y_pred = np.array([0] * 4 + [1] * 4 + [1] * 2)
    assert nca(y_true, y_pred) == pytest.approx((4 / 8 + 2 / 2 - 1) / 1)
    assert nca(y_pred, y_true) == pytest.approx((4 / 4 + 2 / 6 - 1) / 1)


def test_agrees_with_the_definition_by_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(200):
        k, n_clusters = rng.integers(2, 5), rng.integers(1, 6)
        y_true = rng.integers(0, k, 30)
        y_pred = np.where(rng.random(30) < 0.5, y_true, rng.integers(0, n_clusters, 30))
        if np.unique(y_true).size < 2:
            continue
        assert nca(y_true, y_pred) == pytest.approx(brute_force_nca(y_true, y_pred), abs=1e-12)


def test_invariant_to_renaming_classes_and_clusters():
    rng = np.random.default_rng(1)
    for _ in range(50):
        y_true = rng.integers(0, 4, 60)
        y_pred = np.where(rng.random(60) < 0.6, y_true, rng.integers(0, 5, 60))
        score = nca(y_true, y_pred)
        rename_true = rng.permutation(4) * 10 - 7
        rename_pred = rng.permutation(5) + 100
        assert nca(rename_true[y_true], rename_pred[y_pred]) == pytest.approx(score, abs=1e-12)


def test_equals_one_only_for_the_same_partition():
    rng = np.random.default_rng(2)
    for _ in range(300):
        y_true = rng.integers(0, 3, 8)
        y_pred = rng.integers(0, 4, 8)
        if np.unique(y_true).size < 2:
            continue
        same = len(set(zip(y_true, y_pred, strict=True))) == np.unique(y_true).size == np.unique(
            y_pred
        ).size
        assert (nca(y_true, y_pred) == pytest.approx(1.0)) == same


def test_uniform_random_assignment_scores_about_zero():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 5, 100_000)
    y_pred = rng.integers(0, 5, 100_000)
    assert abs(nca(y_true, y_pred)) < 0.01


def test_refuses_a_single_class_and_mismatched_lengths():
    with pytest.raises(DataError, match="single class"):
        nca([1, 1, 1], [0, 1, 2])
    with pytest.raises(DataError, match="labels_true has 3 labels but labels_pred has 2"):
        nca([0, 1, 1], [0, 1])
