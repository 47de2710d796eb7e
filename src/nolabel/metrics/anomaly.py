"""Scores of an anomaly detector against known anomalies: ROC AUC and average precision.

Both are scikit-learn's ``roc_auc_score`` and ``average_precision_score``; what this module
adds is the checking of their inputs (tensors accepted, errors that name the argument and the
bad value). Labels are binary (``1``/``True`` = positive); a higher score means "more
positive". nolabel's estimators score the other way round (``score_samples`` is higher for
MORE NORMAL samples), which :func:`anomaly_scores` takes care of.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from nolabel.errors import DataError, ParameterError
from nolabel.metrics._labels import as_flat_array


def _check_binary(y_true: Any, name: str) -> np.ndarray:
    """``y_true`` as a boolean array (True = positive), or a DataError naming bad values."""
    array = as_flat_array(y_true, name)
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind not in "iuf":
        raise DataError(f"{name} must hold binary labels (0/1 or bool), got dtype {array.dtype}")
    values = np.unique(array)
    bad = values[~np.isin(values, (0, 1))]
    if bad.size:
        shown = ", ".join(repr(v.item()) for v in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise DataError(
            f"{name} must be binary (0/1 or bool; 1 = positive) but holds the value(s) {shown}"
        )
    return array == 1


def _check_scores(y_score: Any, name: str) -> np.ndarray:
    array = as_flat_array(y_score, name)
    if array.dtype.kind not in "iufb":
        raise DataError(f"{name} must hold numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        index = int(np.argmin(finite))
        value = array[index]
        kind = "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")
        raise DataError(
            f"{name} has a {kind} at index {index} ({int((~finite).sum())} non-finite "
            "values in all); every sample needs a finite score"
        )
    return array


def _check_pair(
    y_true: Any, y_score: Any, names: tuple[str, str], need_both: bool
) -> tuple[np.ndarray, np.ndarray]:
    positive = _check_binary(y_true, names[0])
    score = _check_scores(y_score, names[1])
    if positive.size != score.size:
        raise DataError(
            f"{names[0]} has {positive.size} labels but {names[1]} has {score.size} scores; "
            "they must describe the same samples"
        )
    n_positive = int(positive.sum())
    if n_positive == 0 or (need_both and n_positive == positive.size):
        only = 1 if n_positive else 0
        raise DataError(
            f"{names[0]} has only one class (every label is {only}); the score needs both "
            "positives (1) and negatives (0)"
        )
    return positive, score


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve: ``sklearn.metrics.roc_auc_score`` on checked inputs.

    Parameters
    ----------
    y_true : array-like or tensor of shape (n_samples,)
        Binary labels, 0/1 or bool; 1 is the positive class.
    y_score : array-like or tensor of shape (n_samples,)
        Finite scores, higher = more likely positive. Ties count one half.

    Returns
    -------
    float
        1 for a perfect ranking, 0.5 for a random one, 0 for a reversed one.
    """
    positive, score = _check_pair(y_true, y_score, ("y_true", "y_score"), need_both=True)
    return float(roc_auc_score(positive, score))


def average_precision(y_true: Any, y_score: Any) -> float:
    """Average precision: ``sklearn.metrics.average_precision_score`` on checked inputs.

    ``sum_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds, highest first, where
    tied scores enter together. Needs at least one positive; all-positive labels give 1.
    """
    positive, score = _check_pair(y_true, y_score, ("y_true", "y_score"), need_both=False)
    return float(average_precision_score(positive, score))


def anomaly_scores(is_anomaly: Any, normality: Any) -> dict[str, float]:
    """AUROC and average precision of detecting anomalies by low normality.

    ``normality`` follows nolabel's ``score_samples`` convention, higher = MORE NORMAL, so it
    is negated before scoring: anomalies are the positives. Returns
    ``{"auroc": ..., "average_precision": ...}``.
    """
    positive, score = _check_pair(is_anomaly, normality, ("is_anomaly", "normality"), True)
    return {
        "auroc": float(roc_auc_score(positive, -score)),
        "average_precision": float(average_precision_score(positive, -score)),
    }


def one_class_split(y: Any, normal_class: Any) -> np.ndarray:
    """Boolean ``is_anomaly`` array for a one-class benchmark: ``y != normal_class``.

    Raises a ParameterError when ``normal_class`` never occurs in ``y``.
    """
    array = as_flat_array(y, "y")
    is_anomaly = np.asarray(array != normal_class, dtype=bool)
    if is_anomaly.shape != array.shape:
        raise ParameterError(f"normal_class must be a single label, got {normal_class!r}")
    if is_anomaly.all():
        present = np.unique(array)
        shown = ", ".join(repr(v.item()) for v in present[:10])
        raise ParameterError(
            f"normal_class {normal_class!r} never occurs in y (labels present: {shown}"
            f"{', ...' if present.size > 10 else ''})"
        )
    return is_anomaly
