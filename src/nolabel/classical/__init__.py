"""Classical unsupervised learning in torch (CPU or GPU)."""

from nolabel.classical.dbscan import DBSCAN
from nolabel.classical.density import GaussianDensity, KernelDensity
from nolabel.classical.gmm import GaussianMixture
from nolabel.classical.image_density import ImageKernelDensity
from nolabel.classical.kmeans import KMeans
from nolabel.classical.manifold_mixture import ManifoldMixture
from nolabel.classical.marginal import MarginalDensity
from nolabel.classical.marginal_detector import MarginalDetector
from nolabel.classical.minibatch_kmeans import MiniBatchKMeans
from nolabel.classical.pca import PCA

__all__ = [
    "DBSCAN",
    "PCA",
    "GaussianDensity",
    "GaussianMixture",
    "ImageKernelDensity",
    "KMeans",
    "KernelDensity",
    "ManifoldMixture",
    "MarginalDensity",
    "MarginalDetector",
    "MiniBatchKMeans",
]
