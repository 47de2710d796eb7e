"""Scores of a clustering against reference classes: ACC (Hungarian matching), NMI, ARI.

Labels are integers of any value, ``-1`` included: DBSCAN's noise label is scored as one
more cluster. The number of clusters need not equal the number of classes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from nolabel._validation import check_choice
from nolabel.metrics._labels import check_label_pair, contingency


class Contingency(NamedTuple):
    """How many samples of each class (rows) fell in each cluster (columns)."""

    matrix: np.ndarray
    classes: np.ndarray
    clusters: np.ndarray


def confusion(y_true: Any, y_pred: Any) -> Contingency:
    """Contingency matrix of classes (rows, sorted) by clusters (columns, sorted)."""
    return Contingency(*contingency(*check_label_pair(y_true, y_pred)))


def _best_matching(table: Contingency) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the one-to-one matching covering the most samples."""
    return linear_sum_assignment(table.matrix, maximize=True)


def cluster_mapping(y_true: Any, y_pred: Any) -> dict[int, int]:
    """The cluster -> class matching that :func:`cluster_accuracy` scores.

    The matching is one-to-one, so when there are more clusters than classes the surplus
    clusters are left out of the dict (their samples count as errors).
    """
    table = confusion(y_true, y_pred)
    rows, columns = _best_matching(table)
    return {
        int(table.clusters[c]): int(table.classes[r]) for r, c in zip(rows, columns, strict=True)
    }


def _accuracy(table: Contingency) -> float:
    rows, columns = _best_matching(table)
    return float(table.matrix[rows, columns].sum() / table.matrix.sum())


def cluster_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose cluster is matched to their class (ACC), in [0, 1].

    Clusters are matched to classes one-to-one so as to maximise the agreement (Hungarian
    algorithm), which makes the score blind to how clusters happen to be numbered.
    """
    return _accuracy(confusion(y_true, y_pred))


def nmi(y_true: Any, y_pred: Any, *, average_method: str = "arithmetic") -> float:
    """Normalised mutual information (scikit-learn's, arithmetic mean by default)."""
    check_choice("average_method", average_method, ("arithmetic", "geometric", "min", "max"))
    a, b = check_label_pair(y_true, y_pred)
    return float(normalized_mutual_info_score(a, b, average_method=average_method))


def ari(y_true: Any, y_pred: Any) -> float:
    """Adjusted Rand index (scikit-learn's): 1 for identical partitions, about 0 by chance."""
    a, b = check_label_pair(y_true, y_pred)
    return float(adjusted_rand_score(a, b))


def clustering_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """ACC, NMI and ARI at once: ``{"acc": ..., "nmi": ..., "ari": ...}``."""
    a, b = check_label_pair(y_true, y_pred)
    return {
        "acc": _accuracy(Contingency(*contingency(a, b))),
        "nmi": float(normalized_mutual_info_score(a, b)),
        "ari": float(adjusted_rand_score(a, b)),
    }
