"""Classical unsupervised learning in torch (CPU or GPU)."""

from nolabel.classical.gmm import GaussianMixture
from nolabel.classical.kmeans import KMeans

__all__ = ["GaussianMixture", "KMeans"]
