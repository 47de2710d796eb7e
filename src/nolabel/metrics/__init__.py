"""Evaluation: clustering scores against labels, and information theory (``information``)."""

from nolabel.metrics import information
from nolabel.metrics.clustering import (
    Contingency,
    ari,
    cluster_accuracy,
    cluster_mapping,
    clustering_scores,
    confusion,
    nmi,
    normalized_clustering_accuracy,
)

__all__ = [
    "Contingency",
    "ari",
    "cluster_accuracy",
    "cluster_mapping",
    "clustering_scores",
    "confusion",
    "information",
    "nmi",
    "normalized_clustering_accuracy",
]
