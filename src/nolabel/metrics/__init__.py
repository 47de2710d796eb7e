"""Evaluation: clustering scores against labels, and information theory (``information``)."""

from nolabel.metrics import generation, information
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
from nolabel.metrics.generation import (
    FeatureNetwork,
    SampleQuality,
    build_feature_network,
    frechet_distance,
    frechet_distance_from_stats,
    precision_recall,
    sample_quality,
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
    "FeatureNetwork",
    "ProbeResult",
    "SampleQuality",
    "anomaly_scores",
    "ari",
    "average_precision",
    "balanced_subset",
    "build_feature_network",
    "cluster_accuracy",
    "cluster_mapping",
    "clustering_scores",
    "confusion",
    "frechet_distance",
    "frechet_distance_from_stats",
    "generation",
    "information",
    "knn_probe",
    "linear_probe",
    "nmi",
    "normalized_clustering_accuracy",
    "one_class_split",
    "precision_recall",
    "probe",
    "roc_auc",
    "sample_quality",
]
