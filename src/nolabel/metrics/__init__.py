"""Evaluation: clustering scores against labels, and information theory (``information``)."""

from nolabel.metrics import information
from nolabel.metrics.anomaly import (
    anomaly_scores,
    average_precision,
    one_class_split,
    roc_auc,
)
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
from nolabel.metrics.probe import (
    ProbeResult,
    balanced_subset,
    knn_probe,
    linear_probe,
    probe,
)

__all__ = [
    "Contingency",
    "ProbeResult",
    "anomaly_scores",
    "ari",
    "average_precision",
    "balanced_subset",
    "cluster_accuracy",
    "cluster_mapping",
    "clustering_scores",
    "confusion",
    "information",
    "knn_probe",
    "linear_probe",
    "nmi",
    "normalized_clustering_accuracy",
    "one_class_split",
    "probe",
    "roc_auc",
]
