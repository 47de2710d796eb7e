"""Improved precision and recall of generated samples (Kynkäänniemi et al., NeurIPS 2019).

Each set's manifold is the union of balls around its points, each ball reaching the point's
k-th nearest neighbour within the set. Precision is the fraction of generated samples inside
the real manifold (are samples realistic?); recall the fraction of real samples inside the
generated manifold (is the data's variety covered?). A point is inside when its distance to
some ball centre is at most that ball's radius.

Distances are computed in row blocks against the whole other set, so memory grows with one
block times the set size (10,000 x 10,000 features stay well under a gigabyte).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from nolabel._validation import check_int
from nolabel.errors import DataError
from nolabel.metrics.generation._features import check_feature_pair

# Squared distances held at once (float64): 64 MB.
_BLOCK_ELEMENTS = 1 << 23


class PrecisionRecall(NamedTuple):
    precision: float
    recall: float


def _blocks(n_rows: int, n_columns: int):
    step = max(1, _BLOCK_ELEMENTS // max(n_columns, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _squared_distances(rows: np.ndarray, others: np.ndarray, other_norms: np.ndarray) -> np.ndarray:
    distances = (rows * rows).sum(axis=1)[:, None] + other_norms[None, :] - 2.0 * rows @ others.T
    return np.maximum(distances, 0.0, out=distances)


def kth_neighbour_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each point to its k-th nearest other point of the same set."""
    norms = (features * features).sum(axis=1)
    radii = np.empty(len(features))
    for block in _blocks(len(features), len(features)):
        distances = _squared_distances(features[block], features, norms)
        # Position 0 of the sorted row is the point itself (distance 0), so k is the k-th other.
        radii[block] = np.partition(distances, k, axis=1)[:, k]
    return radii


def precision_recall(real_features: Any, fake_features: Any, k: int = 3) -> PrecisionRecall:
    """Kynkäänniemi et al.'s precision and recall of ``fake_features`` against ``real_features``.

    Both are (n, d) feature arrays (from the same network), each with more than ``k`` rows;
    ``k=3`` is the paper's choice. Returns ``(precision, recall)``, each in [0, 1].
    """
    k = check_int("k", k)
    real, fake = check_feature_pair(real_features, fake_features,
                                    ("real_features", "fake_features"), min_samples=1)
    for name, array in (("real_features", real), ("fake_features", fake)):
        if len(array) <= k:
            raise DataError(f"{name} has {len(array)} samples; k={k} needs more than {k}")
    # Distances do not change under a shift; centring keeps the expanded form accurate.
    centre = real.mean(axis=0)
    real, fake = real - centre, fake - centre
    real_radii, fake_radii = kth_neighbour_radii(real, k), kth_neighbour_radii(fake, k)
    real_norms = (real * real).sum(axis=1)
    fake_in_real = np.zeros(len(fake), dtype=bool)
    real_in_fake = np.zeros(len(real), dtype=bool)
    for block in _blocks(len(fake), len(real)):
        distances = _squared_distances(fake[block], real, real_norms)
        fake_in_real[block] = (distances <= real_radii[None, :]).any(axis=1)
        real_in_fake |= (distances <= fake_radii[block, None]).any(axis=0)
    return PrecisionRecall(float(fake_in_real.mean()), float(real_in_fake.mean()))
