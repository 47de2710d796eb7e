"""Anomaly scores: ROC AUC and average precision equal scikit-learn's, ties included; inputs."""

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from nolabel.errors import DataError, ParameterError
from nolabel.metrics import anomaly_scores, average_precision, one_class_split, roc_auc


def _random_case(seed: int, n: int, decimals: int | None):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < rng.uniform(0.05, 0.6)
    y[:2] = [True, False]  # both classes always present
    score = rng.normal(size=n) + y * rng.uniform(0, 2)
    if decimals is not None:
        score = np.round(score, decimals)  # many ties
    return y, score


@pytest.mark.parametrize("decimals", [None, 1, 0])
@pytest.mark.parametrize("seed", range(3))
def test_equal_to_sklearn_with_and_without_ties(seed, decimals):
    y, score = _random_case(seed, n=50 + 97 * seed, decimals=decimals)
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert average_precision(y, score) == pytest.approx(
        average_precision_score(y, score), abs=1e-12
    )


def test_all_scores_tied_give_chance_auc_and_the_positive_rate():
    y = np.array([0, 1, 0, 0, 1, 0, 0, 0])
    score = np.full(8, 3.0)
    assert roc_auc(y, score) == 0.5
    assert average_precision(y, score) == pytest.approx(2 / 8)
    assert average_precision(y, score) == pytest.approx(average_precision_score(y, score))


def test_perfect_and_reversed_rankings():
    y = np.array([0, 0, 0, 1, 1])
    score = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert roc_auc(y, score) == 1.0
    assert average_precision(y, score) == 1.0
    assert roc_auc(y, -score) == 0.0


def test_hand_worked_average_precision():
    # Ranked: 1 (P=1, R=1/2), 0, 1 (P=2/3, R=1): AP = 1/2 * 1 + 1/2 * 2/3.
    y = [1, 0, 1, 0]
    score = [4.0, 3.0, 2.0, 1.0]
    assert average_precision(y, score) == pytest.approx(0.5 + 1 / 3)
    assert roc_auc(y, score) == pytest.approx(3 / 4)


def test_lists_bools_ints_and_integer_scores_are_accepted():
    y = [True, False, True, False]
    assert roc_auc(y, [3, 1, 2, 0]) == 1.0
    assert roc_auc(np.array(y, dtype=int), np.array([3, 1, 2, 0])) == 1.0
    assert roc_auc(np.array(y, dtype=float), [3.0, 1.0, 2.0, 0.0]) == 1.0


def test_torch_tensors_are_accepted():
    y, score = _random_case(3, n=200, decimals=1)
    expected_auc = roc_auc_score(y, score)
    expected_ap = average_precision_score(y, score)
    y_t, score_t = torch.from_numpy(y), torch.from_numpy(score).float()
    assert roc_auc(y_t, score_t) == pytest.approx(expected_auc, abs=1e-12)
    assert average_precision(y_t.long(), score_t) == pytest.approx(expected_ap, abs=1e-12)
    assert isinstance(roc_auc(y_t, score_t), float)


def test_anomaly_scores_negate_normality():
    rng = np.random.default_rng(0)
    is_anomaly = np.r_[np.zeros(100, bool), np.ones(20, bool)]
    # Normal samples are MORE normal: higher normality.
    normality = np.r_[rng.normal(2.0, 1.0, 100), rng.normal(-2.0, 1.0, 20)]
    scores = anomaly_scores(is_anomaly, normality)
    assert set(scores) == {"auroc", "average_precision"}
    assert all(type(v) is float for v in scores.values())
    assert scores["auroc"] > 0.95
    assert scores["auroc"] == pytest.approx(roc_auc_score(is_anomaly, -normality), abs=1e-12)
    assert scores["average_precision"] == pytest.approx(
        average_precision_score(is_anomaly, -normality), abs=1e-12
    )
    assert anomaly_scores(is_anomaly, torch.from_numpy(-normality))["auroc"] < 0.05


def test_one_class_split():
    y = np.array([3, 1, 3, 0, 3])
    np.testing.assert_array_equal(one_class_split(y, 3), [False, True, False, True, False])
    assert one_class_split(torch.tensor([0, 1, 1]), 1).dtype == bool
    with pytest.raises(ParameterError, match=r"normal_class 7 never occurs in y .*0, 1, 3"):
        one_class_split(y, 7)


def test_length_mismatch_names_both_lengths():
    with pytest.raises(DataError, match="y_true has 4 labels but y_score has 3 scores"):
        roc_auc([0, 1, 0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="is_anomaly has 2 labels but normality has 3"):
        anomaly_scores([0, 1], [0.1, 0.2, 0.3])


def test_single_class_is_refused():
    with pytest.raises(DataError, match=r"y_true has only one class \(every label is 0\)"):
        roc_auc([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match=r"y_true has only one class \(every label is 1\)"):
        roc_auc([True, True], [0.1, 0.2])
    with pytest.raises(DataError, match="y_true has only one class"):
        average_precision([0, 0], [0.1, 0.2])
    # All positives is well defined for average precision, as in scikit-learn.
    assert average_precision([1, 1], [0.1, 0.2]) == 1.0


def test_non_binary_labels_are_named():
    with pytest.raises(DataError, match=r"y_true must be binary .* value\(s\) 2, 5"):
        roc_auc([0, 1, 2, 5], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(DataError, match=r"value\(s\) 0\.5"):
        average_precision([0.0, 1.0, 0.5], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="value\\(s\\) nan"):
        roc_auc([0.0, 1.0, np.nan], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="y_true must hold binary labels"):
        roc_auc(["a", "b"], [0.1, 0.2])


@pytest.mark.parametrize(("bad", "kind"), [(np.nan, "NaN"), (np.inf, r"\+inf"), (-np.inf, "-inf")])
def test_non_finite_scores_name_the_index(bad, kind):
    score = np.array([0.1, 0.2, 0.3, 0.4])
    score[2] = bad
    with pytest.raises(DataError, match=f"y_score has a {kind} at index 2"):
        roc_auc([0, 1, 0, 1], score)
    with pytest.raises(DataError, match=f"normality has a {kind} at index 2"):
        anomaly_scores([0, 1, 0, 1], score)


def test_shape_and_emptiness_are_checked():
    with pytest.raises(DataError, match=r"y_score must be 1-D .* shape \(2, 2\)"):
        roc_auc([0, 1], [[0.1, 0.2], [0.3, 0.4]])
    with pytest.raises(DataError, match="y_true is empty"):
        roc_auc([], [])
    with pytest.raises(DataError, match="y_score must hold numbers"):
        roc_auc([0, 1], ["x", "y"])
