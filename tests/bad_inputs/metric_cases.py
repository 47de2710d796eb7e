"""Bad label and score arrays for the metrics."""

from __future__ import annotations

import numpy as np

from bad_inputs.case import fails, succeeds
from nolabel.errors import DataError, ParameterError
from nolabel.metrics import clustering_scores, information, nmi, roc_auc

CASES = [
    fails("scores-length-mismatch", lambda c: clustering_scores([0, 1, 1], [0, 1]), DataError,
          r"y_true has 3 labels but y_pred has 2"),
    fails("scores-empty", lambda c: clustering_scores([], []), DataError, r"y_true is empty"),
    fails("scores-text-labels", lambda c: clustering_scores(["a", "b"], [0, 1]), DataError,
          r"y_true must hold integer labels, got dtype <U1"),
    fails("scores-two-d-labels", lambda c: clustering_scores([[0, 1]], [[0, 1]]), DataError,
          r"y_true must be 1-D"),
    fails("scores-fractional-labels", lambda c: clustering_scores([0, 1], [0.5, 1]), DataError,
          r"y_pred must hold integer labels, but index 0 holds"),
    succeeds("scores-single-cluster", lambda c: clustering_scores([0, 1, 1], [4, 4, 4])),
    succeeds("nmi-one-sample", lambda c: nmi([3], [7])),
    fails("auroc-one-class", lambda c: roc_auc([1, 1], [0.1, 0.2]), DataError,
          r"y_true has only one class"),
    fails("auroc-nan-score", lambda c: roc_auc([0, 1], [0.1, np.nan]), DataError,
          r"y_score has a NaN at index 1"),
    fails("auroc-non-binary", lambda c: roc_auc([0, 2], [0.1, 0.2]), DataError,
          r"y_true must be binary .* holds the value\(s\) 2"),
    succeeds("auroc-constant-scores", lambda c: roc_auc([0, 1, 0, 1], [3, 3, 3, 3])),
    fails("entropy-negative-probability", lambda c: information.entropy([-0.5, 1.5]),
          DataError, r"p must hold probabilities in \[0, 1\]; index \(0,\) is -0\.5"),
    fails("kl-shape-mismatch", lambda c: information.kl_divergence([0.5, 0.5], [0.2] * 5),
          DataError, r"shapes do not match .*p \(2,\), q \(5,\)"),
    fails("entropy-log-base-one", lambda c: information.entropy([0.5, 0.5], base=1),
          ParameterError, r"base must not be 1"),
]
