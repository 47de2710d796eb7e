"""nolabel: learning from unlabeled data with generative models."""

from nolabel._version import __version__
from nolabel.classical import (
    DBSCAN,
    PCA,
    GaussianDensity,
    GaussianMixture,
    ImageKernelDensity,
    KernelDensity,
    KMeans,
    MarginalDensity,
    MarginalDetector,
    MiniBatchKMeans,
)
from nolabel.clustering import DAC, DEC, IDEC, N2D, CatGAN, InfoGAN, VaDE
from nolabel.data import Dataset, load
from nolabel.errors import (
    CheckpointError,
    ChecksumError,
    DataError,
    NolabelError,
    NotFittedError,
    ParameterError,
    TrainingError,
)
from nolabel.models import (
    DCGAN,
    GAN,
    VAE,
    AutoEncoder,
    ConvAutoEncoder,
    DeepAutoEncoder,
    PixelCNN,
    PixelRNN,
    SimCLR,
)
from nolabel.persistence import load_model

__all__ = [
    "DAC",
    "DBSCAN",
    "DCGAN",
    "DEC",
    "GAN",
    "IDEC",
    "N2D",
    "PCA",
    "VAE",
    "AutoEncoder",
    "CatGAN",
    "CheckpointError",
    "ChecksumError",
    "ConvAutoEncoder",
    "DataError",
    "Dataset",
    "DeepAutoEncoder",
    "GaussianDensity",
    "GaussianMixture",
    "ImageKernelDensity",
    "InfoGAN",
    "KMeans",
    "KernelDensity",
    "MarginalDensity",
    "MarginalDetector",
    "MiniBatchKMeans",
    "NolabelError",
    "NotFittedError",
    "ParameterError",
    "PixelCNN",
    "PixelRNN",
    "SimCLR",
    "TrainingError",
    "VaDE",
    "__version__",
    "load",
    "load_model",
]
