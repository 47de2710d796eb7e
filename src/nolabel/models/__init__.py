"""Neural models, one file per family."""

from nolabel.models.autoencoder import AutoEncoder, ConvAutoEncoder, DeepAutoEncoder

__all__ = ["AutoEncoder", "ConvAutoEncoder", "DeepAutoEncoder"]
