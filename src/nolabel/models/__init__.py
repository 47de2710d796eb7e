"""Neural models, one file per family."""

from nolabel.models.autoencoder import AutoEncoder

__all__ = ["AutoEncoder"]
