"""Classical unsupervised learning in torch (CPU or GPU)."""

from nolabel.classical.kmeans import KMeans

__all__ = ["KMeans"]
