"""Deep clustering with generative models: DEC, IDEC, VaDE, DAC, N2D, InfoGAN, CatGAN."""

from nolabel.clustering.catgan import CatGAN
from nolabel.clustering.dac import DAC
from nolabel.clustering.dec import DEC, IDEC
from nolabel.clustering.infogan import InfoGAN
from nolabel.clustering.n2d import N2D
from nolabel.clustering.vade import VaDE

__all__ = ["DAC", "DEC", "IDEC", "N2D", "CatGAN", "InfoGAN", "VaDE"]
