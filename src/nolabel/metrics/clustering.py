"""Scores of a clustering against reference classes: ACC (Hungarian matching), NMI, ARI, NCA.

Labels are integers of any value, ``-1`` included: DBSCAN's noise label is scored as one
more cluster. The number of clusters need not equal the number of classes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from nolabel._validation import check_choice
from nolabel.errors import DataError
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


def normalized_clustering_accuracy(labels_true: Any, labels_pred: Any) -> float:
    """Normalised clustering accuracy (NCA) of a clustering against reference classes.

    The headline score of the clustering-benchmarks framework, as genieclust's
    ``compare_partitions.normalized_clustering_accuracy`` defines it (Gagolewski, Journal of
    Classification 42, 2025, 2-30). With ``c[i, j]`` the number of samples of class ``i``
    put in cluster ``j``, ``r[i]`` the size of class ``i`` and ``K`` the number of classes::

        NCA = max_s (1/K) sum_i (c[i, s(i)] / r[i] - 1/K) / (1 - 1/K)
            = (max_s sum_i c[i, s(i)] / r[i] - 1) / (K - 1)

    over one-to-one matchings ``s`` of classes to clusters: the mean recall of the classes
    under the best matching, rescaled so that 1 means identical partitions (up to renaming)
    and 0 the recall 1/K that a uniformly random assignment gets on average. It can be
    negative, and it is asymmetric: every class weighs the same whatever its size, so
    ``labels_true`` must be the reference.

    The matching maximises the summed recalls (Hungarian algorithm). When there are more
    clusters than classes, the surplus clusters stay unmatched and their points count as
    misclassified; with fewer clusters, the unmatched classes score 0. This is genieclust
    1.1's rule (missing columns taken as zeros, ``K`` = the number of classes); genieclust
    1.3 refuses such non-square tables instead. ``K`` counts the distinct labels present in
    ``labels_true`` (genieclust counts every integer from the smallest label to the largest,
    which differs only when the labels skip values). At least two classes are required.
    """
    a, b = check_label_pair(labels_true, labels_pred, names=("labels_true", "labels_pred"))
    counts, classes, _ = contingency(a, b)
    if classes.size < 2:
        raise DataError(
            f"labels_true holds a single class ({classes[0]}); the normalised clustering "
            "accuracy needs at least two reference classes"
        )
    recall = counts / counts.sum(axis=1, keepdims=True)
    rows, columns = linear_sum_assignment(recall, maximize=True)
    return float((recall[rows, columns].sum() - 1.0) / (classes.size - 1))
