"""Sample quality of generative models, offline: Fréchet distance, precision/recall, coverage.

No pretrained Inception network can be downloaded here, so the features come from a small
CNN classifier the project trains itself on a dataset's labelled training split
(:class:`FeatureNetwork`, cached per dataset, re-created by :func:`build_feature_network`).
Where torch-fidelity or pytorch-fid and their weights are installed, :func:`inception_fid`
gives the standard FID as well.

    network = FeatureNetwork.for_dataset("fashion-mnist")
    test = nolabel.load("fashion-mnist", split="test")
    result = sample_quality(vae, test, network)   # any model with .sample, or an array
"""

from nolabel.metrics.generation.cache import default_recipe, feature_network_path
from nolabel.metrics.generation.coverage import (
    ClassCoverage,
    class_coverage,
    cluster_coverage,
    mode_coverage,
)
from nolabel.metrics.generation.frechet import (
    feature_stats,
    frechet_distance,
    frechet_distance_from_stats,
)
from nolabel.metrics.generation.inception import InceptionFID, inception_fid
from nolabel.metrics.generation.manifold import PrecisionRecall, precision_recall
from nolabel.metrics.generation.network import (
    FeatureNet,
    FeatureNetwork,
    build_feature_network,
    train_feature_network,
)
from nolabel.metrics.generation.quality import SampleQuality, sample_quality
from nolabel.metrics.generation.recipe import Recipe

__all__ = [
    "ClassCoverage",
    "FeatureNet",
    "FeatureNetwork",
    "InceptionFID",
    "PrecisionRecall",
    "Recipe",
    "SampleQuality",
    "build_feature_network",
    "class_coverage",
    "cluster_coverage",
    "default_recipe",
    "feature_network_path",
    "feature_stats",
    "frechet_distance",
    "frechet_distance_from_stats",
    "inception_fid",
    "mode_coverage",
    "precision_recall",
    "sample_quality",
    "train_feature_network",
]
