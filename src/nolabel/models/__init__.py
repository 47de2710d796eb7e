"""Neural models, one file per family."""

from nolabel.models.autoencoder import AutoEncoder, ConvAutoEncoder, DeepAutoEncoder
from nolabel.models.pixelcnn import PixelCNN
from nolabel.models.pixelrnn import PixelRNN
from nolabel.models.vae import VAE

__all__ = ["VAE", "AutoEncoder", "ConvAutoEncoder", "DeepAutoEncoder", "PixelCNN", "PixelRNN"]
