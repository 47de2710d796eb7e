"""Which classes the samples cover, by the feature network's predictions: a mode-collapse check.

A class counts as covered by the samples when its share of the samples is at least
``MIN_SHARE`` (a quarter) of its share of the real images; stray misclassified samples do not
make a class covered. The samples have collapsed when they cover fewer than half of the
classes found among the real images.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

MIN_SHARE = 0.25


class ClassCoverage(NamedTuple):
    sample_classes: int  # classes covered by the samples
    real_classes: int  # classes predicted for at least one real image
    mode_collapse: bool
    warning: str | None


def class_coverage(real_classes: np.ndarray, sample_classes: np.ndarray,
                   n_classes: int) -> ClassCoverage:
    real_share = np.bincount(real_classes, minlength=n_classes) / len(real_classes)
    sample_share = np.bincount(sample_classes, minlength=n_classes) / len(sample_classes)
    present = real_share > 0
    covered = int((present & (sample_share >= MIN_SHARE * real_share)).sum())
    n_real = int(present.sum())
    if 2 * covered >= n_real:
        return ClassCoverage(covered, n_real, False, None)
    warning = (
        f"possible mode collapse: the samples cover {covered} of the {n_real} classes the "
        f"feature network finds among the real images (a class counts when its share of the "
        f"samples is at least {MIN_SHARE:g} of its share of the real images)"
    )
    return ClassCoverage(covered, n_real, True, warning)
