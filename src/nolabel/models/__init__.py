"""Neural models, one file per family."""

from nolabel.models.autoencoder import AutoEncoder, ConvAutoEncoder, DeepAutoEncoder
from nolabel.models.contrastive import SimCLR
from nolabel.models.gan import DCGAN, GAN
from nolabel.models.pixelcnn import PixelCNN
from nolabel.models.pixelrnn import PixelRNN
from nolabel.models.vae import VAE

__all__ = ["DCGAN", "GAN", "VAE", "AutoEncoder", "ConvAutoEncoder", "DeepAutoEncoder", "PixelCNN",
           "PixelRNN", "SimCLR"]
