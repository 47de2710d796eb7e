"""Which classes the samples cover: a mode-collapse check.

Classes are the feature network's predictions or, with no labelled network at hand, the
k-means clusters of the real images (:func:`cluster_coverage`). A class counts as covered by
the samples when its share of the samples is at least ``MIN_SHARE`` (a quarter) of its share
of the real images; stray misclassified samples do not make a class covered. The samples have
collapsed when they cover fewer than half of the classes found among the real images.
:func:`mode_coverage` runs the check on a fitted generative model.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from nolabel._validation import check_is_fitted
from nolabel.classical.kmeans import KMeans
from nolabel.errors import ParameterError
from nolabel.metrics.generation.network import FeatureNetwork

MIN_SHARE = 0.25


class ClassCoverage(NamedTuple):
    sample_classes: int  # classes covered by the samples
    real_classes: int  # classes predicted for at least one real image
    mode_collapse: bool
    warning: str | None


def class_coverage(real_classes: np.ndarray, sample_classes: np.ndarray, n_classes: int,
                   source: str = "the feature network finds") -> ClassCoverage:
    real_share = np.bincount(real_classes, minlength=n_classes) / len(real_classes)
    sample_share = np.bincount(sample_classes, minlength=n_classes) / len(sample_classes)
    present = real_share > 0
    covered = int((present & (sample_share >= MIN_SHARE * real_share)).sum())
    n_real = int(present.sum())
    if 2 * covered >= n_real:
        return ClassCoverage(covered, n_real, False, None)
    warning = (
        f"possible mode collapse: the samples cover {covered} of the {n_real} classes "
        f"{source} among the real images (a class counts when its share of the samples is "
        f"at least {MIN_SHARE:g} of its share of the real images)"
    )
    return ClassCoverage(covered, n_real, True, warning)


def cluster_coverage(real: np.ndarray, samples: np.ndarray, n_clusters: int = 10,
                     random_state: int = 0) -> ClassCoverage:
    """Label-free coverage: ``n_clusters`` k-means clusters of the real data (flattened) play
    the classes, and each sample belongs to its nearest centre. Fewer real points than
    ``n_clusters`` give one cluster per point."""
    real = np.asarray(real, dtype=np.float32).reshape(len(real), -1)
    n_clusters = min(n_clusters, len(real))
    kmeans = KMeans(n_clusters, random_state=random_state).fit(real)
    assigned = kmeans.predict(np.asarray(samples, dtype=np.float32).reshape(len(samples), -1))
    return class_coverage(kmeans.labels_, assigned, n_clusters,
                          source=f"(k-means clusters, k={n_clusters}) found")


def mode_coverage(model, X, feature_network: str | FeatureNetwork | None = None,
                  n_samples: int = 1000, random_state: int = 0) -> ClassCoverage:
    """Whether a fitted generator's samples cover the modes of the data ``X`` it was fitted
    on: the classes ``n_samples`` seeded samples fall in, against (up to) twice as many rows
    of ``X``. The classes are a feature network's (a dataset name, for its cached
    :class:`~nolabel.metrics.generation.FeatureNetwork`, or a network) or, without one, 10
    k-means clusters of the data. ``.mode_collapse`` is True when the samples cover fewer
    than half of the classes the data does; ``.warning`` says so in words.

    A separate function, not part of ``fit``: it costs a k-means or a network pass, and the
    report and the generation benchmark are where it is read.
    """
    check_is_fitted(model, ["module_"])
    if isinstance(X, str | Path):  # fitted from a .npy file: read only the rows used
        X = np.load(X, mmap_mode="r", allow_pickle=False)
    real = X.cpu() if torch.is_tensor(X) else X
    if len(real) > 2 * n_samples:
        rows = np.random.default_rng(random_state).choice(len(real), 2 * n_samples,
                                                          replace=False)
        real = real[np.sort(rows)]
    real = np.array(real, dtype=np.float32).reshape(len(real), *model.sample_shape_)
    samples = model.sample(n_samples, random_state=random_state)
    if feature_network is None:
        return cluster_coverage(real, samples)
    if not isinstance(feature_network, str | FeatureNetwork):
        raise ParameterError("feature_network must be None, a dataset name or a FeatureNetwork, "
                             f"got {type(feature_network).__name__}")
    network = (FeatureNetwork.for_dataset(feature_network, verbose=0)
               if isinstance(feature_network, str) else feature_network)
    return class_coverage(network.predict(real), network.predict(samples), network.n_classes)
