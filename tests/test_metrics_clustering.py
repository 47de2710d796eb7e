"""Clustering scores: ACC under the best matching, the mapping behind it, NMI, ARI, inputs."""

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from nolabel.errors import DataError, ParameterError
from nolabel.metrics import (
    ari,
    cluster_accuracy,
    cluster_mapping,
    clustering_scores,
    confusion,
    nmi,
)


def test_permuted_perfect_labelling_scores_exactly_one():
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([2, 2, 0, 0, 1, 1, 1])
    assert cluster_accuracy(y_true, y_pred) == 1.0
    assert clustering_scores(y_true, y_pred) == {"acc": 1.0, "nmi": 1.0, "ari": 1.0}


def test_hand_worked_case_with_two_errors():
    # Cluster 7 is mostly class 0, cluster 3 mostly class 1; one stray point in each.
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [7, 7, 3, 3, 3, 7]
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    assert cluster_mapping(y_true, y_pred) == {7: 0, 3: 1}


def test_more_clusters_than_classes_counts_surplus_clusters_as_wrong():
    y_true = [0, 0, 0, 0, 1, 1, 1, 1]
    y_pred = [0, 0, 1, 1, 2, 2, 2, 2]
    # Only one of clusters 0 and 1 can be matched to class 0.
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(6 / 8)
    mapping = cluster_mapping(y_true, y_pred)
    assert mapping[2] == 1
    assert len(mapping) == 2 and sorted(mapping.values()) == [0, 1]


def test_fewer_clusters_than_classes():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [5, 5, 5, 5, 6, 6]
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(4 / 6)


def test_noise_label_is_scored_as_its_own_cluster():
    y_true = [0, 0, 0, 1, 1, 1, 2, 2]
    y_pred = [-1, -1, -1, 4, 4, 4, 0, 0]
    assert cluster_accuracy(y_true, y_pred) == 1.0
    assert cluster_mapping(y_true, y_pred) == {-1: 0, 4: 1, 0: 2}


def test_mapping_relabels_predictions_to_the_reported_accuracy():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, size=200)
    y_pred = rng.integers(-1, 6, size=200)
    mapping = cluster_mapping(y_true, y_pred)
    relabelled = np.array([mapping.get(int(c), -999) for c in y_pred])
    assert np.mean(relabelled == y_true) == pytest.approx(cluster_accuracy(y_true, y_pred))
    assert len(set(mapping.values())) == len(mapping)  # one-to-one


def test_confusion_counts_with_sorted_row_and_column_labels():
    table = confusion([1, 1, 0, 2], [5, -1, 5, 5])
    np.testing.assert_array_equal(table.classes, [0, 1, 2])
    np.testing.assert_array_equal(table.clusters, [-1, 5])
    np.testing.assert_array_equal(table.matrix, [[0, 1], [1, 1], [0, 1]])
    matrix, classes, clusters = table  # unpacks like a tuple
    assert matrix.sum() == 4 and classes is table.classes and clusters is table.clusters


@pytest.mark.parametrize("seed", [0, 1])
def test_nmi_and_ari_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 5, size=300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(-1, 7, size=300))
    assert nmi(y_true, y_pred) == pytest.approx(normalized_mutual_info_score(y_true, y_pred))
    assert ari(y_true, y_pred) == pytest.approx(adjusted_rand_score(y_true, y_pred))
    assert nmi(y_true, y_pred, average_method="geometric") == pytest.approx(
        normalized_mutual_info_score(y_true, y_pred, average_method="geometric")
    )
    scores = clustering_scores(y_true, y_pred)
    assert scores["nmi"] == pytest.approx(nmi(y_true, y_pred))
    assert scores["ari"] == pytest.approx(ari(y_true, y_pred))
    assert scores["acc"] == pytest.approx(cluster_accuracy(y_true, y_pred))


def test_accepts_tensors_and_whole_floats():
    y_true = torch.tensor([0, 0, 1, 1])
    y_pred = np.array([1.0, 1.0, 0.0, 0.0])
    assert cluster_accuracy(y_true, y_pred) == 1.0


@pytest.mark.parametrize(
    ("y_true", "y_pred", "named"),
    [
        ([0, 1, 1], [0, 1], "y_pred has 2"),
        ([], [], "y_true is empty"),
        ([[0, 1], [1, 0]], [0, 1], "y_true must be 1-D"),
        ([0, 1, 1], [0.0, 0.5, 1.0], "y_pred must hold integer labels, but index 1"),
        ([0, 1, float("nan")], [0, 1, 1], "y_true must hold integer labels"),
        (["a", "b"], [0, 1], "y_true must hold integer labels"),
    ],
)
def test_bad_labels_raise_data_error_naming_the_argument(y_true, y_pred, named):
    for score in (cluster_accuracy, cluster_mapping, nmi, ari, clustering_scores, confusion):
        with pytest.raises(DataError, match=named):
            score(y_true, y_pred)


def test_unknown_nmi_average_is_a_parameter_error():
    with pytest.raises(ParameterError, match="average_method"):
        nmi([0, 1], [0, 1], average_method="median")
