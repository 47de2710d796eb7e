"""What the adversarial clusterers (InfoGAN, CatGAN) share: settings, the two players, Adam
with a learning rate per player, features and sampling.

The players (``architecture``):

- ``"infogan"``: InfoGAN's MNIST networks (Chen et al. 2016, appendix C;
  :mod:`nolabel.nets.infogan_nets`): convolutional D and G with a 1024-unit layer and batch
  norm, for images of any size and channel count;
- ``"conv"``: DCGAN-style players (as :class:`~nolabel.DCGAN`: no batch norm in D, dropout);
- ``"mlp"``: fully-connected players;
- ``"auto"`` (default): ``"infogan"`` for images (n, c, h, w) or (n, h, w), and for flat
  vectors whose length d is a perfect square s * s with s >= 8 (d = 64, 784...), which are
  viewed as one-channel s x s images (784 -> 28x28, 64 -> 8x8: flattened grey images, as
  datasets often store them); ``"mlp"`` for other vectors. The data must be in [0, 1] in
  every case. Samples, ``transform`` and ``predict`` keep the layout the model was fitted
  on (flat stays flat). A flat vector that happens to have a square length but is not an
  image (tabular data with 64 columns) should ask for ``architecture="mlp"``.

The discriminator's body gives the clustering features (``transform``): the 1024-unit layer
of the InfoGAN networks, the last hidden layer of the MLP, or the flattened last convolution
stage of the DCGAN discriminator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from nolabel._validation import (
    Betas,
    Choice,
    Constraints,
    Float,
    Int,
    Sizes,
    as_output,
    check_int,
    check_is_fitted,
)
from nolabel.clustering.base import DeepClusterer
from nolabel.errors import ParameterError
from nolabel.models.base import NeuralTransformer
from nolabel.models.gan import DCGANDiscriminator, DCGANGenerator
from nolabel.nets import mlp
from nolabel.nets.augment import flat_image_shape, square_image_shape
from nolabel.nets.infogan_nets import InfoGANDiscriminator, InfoGANGenerator
from nolabel.nets.mlp import ACTIVATIONS
from nolabel.train import make_optimizer

ARCHITECTURES = ("auto", "infogan", "mlp", "conv")
_IMAGE_NETWORKS = ("infogan", "conv")


class MLPDiscriminator(nn.Module):
    """vector -> (linear, LeakyReLU(0.2))* -> linear -> ``outputs`` logits; ``features`` is
    the last hidden layer, as :meth:`DCGANDiscriminator.features` is its last stage."""

    def __init__(self, n_features: int, dims: Sequence[int], outputs: int) -> None:
        super().__init__()
        dims = [int(d) for d in dims]
        self.body = nn.Sequential(mlp([n_features, *dims], "leaky_relu"), nn.LeakyReLU(0.2))
        self.linear = nn.Linear(dims[-1], outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


class AdversarialClusterer(NeuralTransformer, DeepClusterer):
    """Base of :class:`~nolabel.InfoGAN` and :class:`~nolabel.CatGAN`."""

    architecture: str
    latent_dim: int
    generator_dims: Sequence[int]
    discriminator_dims: Sequence[int]
    channels: Sequence[int]
    dropout: float
    generator_activation: str
    generator_lr: float
    betas: Sequence[float]

    @property
    def _image_input(self) -> bool:
        """Whether the data itself comes as images; flat vectors that the InfoGAN networks
        view as images are not (``_network_shape`` gives the view)."""
        return (getattr(self, "architecture_", None) in _IMAGE_NETWORKS
                and not getattr(self, "_flat_images", False))

    def _network_shape(self) -> tuple[int, ...]:
        if getattr(self, "_flat_images", False):
            return self._image_shape(self.sample_shape_)
        return super()._network_shape()

    @staticmethod
    def _image_shape(sample_shape: tuple[int, ...]) -> tuple[int, ...]:
        """What the image networks take: the sample shape, or (1, s, s) for flat d = s * s."""
        if len(sample_shape) == 1:
            return square_image_shape(sample_shape[0]) or tuple(sample_shape)
        return tuple(sample_shape)

    _parameter_constraints: ClassVar[Constraints] = {
        "architecture": Choice(*ARCHITECTURES), "latent_dim": Int(),
        "generator_lr": Float(0.0, strict=True), "betas": Betas(),
        "generator_dims": Sizes(1), "discriminator_dims": Sizes(1), "channels": Sizes(1),
        "dropout": Float(0.0, below=1.0), "generator_activation": Choice(*ACTIVATIONS),
    }

    def _configure(self, sample_shape: tuple[int, ...]) -> None:
        """``architecture="auto"``: ``"infogan"`` for images (n, c, h, w) or (n, h, w) and for
        flat vectors of length s * s (s >= 8), else ``"mlp"``. Called on the data's shape as
        given, before (n, h, w) becomes (n, 1, h, w)."""
        square = square_image_shape(sample_shape[0]) if len(sample_shape) == 1 else None
        self.architecture_ = self.architecture
        if self.architecture == "auto":
            image = len(sample_shape) in (2, 3) or (
                flat_image_shape(sample_shape[0]) is not None)
            self.architecture_ = "infogan" if image else "mlp"
        # Flat square vectors are viewed as images by the InfoGAN networks (asked for or
        # chosen); "conv" keeps asking for images, as DCGAN does.
        self._flat_images = self.architecture_ == "infogan" and square is not None

    def _check_data(self, X: torch.Tensor) -> None:
        super()._check_data(X)
        self._require_unit_interval(X, type(self).__name__,
                                    "rescale it (nolabel.data.minmax_scale)")

    def _generator(self, sample_shape: tuple[int, ...], inputs: int) -> nn.Module:
        if self.architecture_ == "infogan":
            return InfoGANGenerator(inputs, self._image_shape(sample_shape), self.channels)
        if self.architecture_ == "conv":
            return DCGANGenerator(inputs, sample_shape, self.channels, self.generator_activation)
        sizes = [inputs, *(int(d) for d in self.generator_dims), int(np.prod(sample_shape))]
        return nn.Sequential(mlp(sizes, self.generator_activation), nn.Sigmoid())

    def _discriminator(self, sample_shape: tuple[int, ...], outputs: int) -> nn.Module:
        if self.architecture_ == "infogan":
            return InfoGANDiscriminator(self._image_shape(sample_shape), self.channels,
                                        outputs=outputs)
        if self.architecture_ == "conv":
            return DCGANDiscriminator(sample_shape, self.channels, float(self.dropout), outputs)
        return MLPDiscriminator(int(np.prod(sample_shape)), self.discriminator_dims, outputs)

    def _player_optimizer(self, parameters, lr: float) -> torch.optim.Optimizer:
        extra = {"betas": tuple(float(b) for b in self.betas)} if self.optimizer == "adam" else {}
        return make_optimizer(self.optimizer, parameters, float(lr), self.weight_decay, **extra)

    def _check_cluster(self, cluster) -> int:
        cluster = check_int("cluster", cluster, minimum=0)
        if cluster >= self.n_clusters:
            raise ParameterError(f"cluster must be below n_clusters={self.n_clusters}, "
                                 f"got {cluster}")
        return cluster

    def _generate(self, latent: torch.Tensor) -> np.ndarray:
        images = self._batched(self.module_.generator, latent)
        return images.reshape(len(latent), *self.sample_shape_).cpu().numpy()

    def transform(self, X):
        """D's penultimate features (its body's output: the 1024-unit layer of the InfoGAN
        networks), deterministic (dropout off, batch norm's running statistics)."""
        data = self._input(X)
        return as_output(self._batched(self.module_.discriminator.features, data), X)

    @property
    def generator_(self) -> nn.Module:
        check_is_fitted(self, ["module_"])
        return self.module_.generator

    @property
    def discriminator_(self) -> nn.Module:
        check_is_fitted(self, ["module_"])
        return self.module_.discriminator

    def _get_state(self):
        tensors, state = super()._get_state()
        return tensors, {**state, "architecture_": self.architecture_}

    def _set_state(self, tensors, state):
        self.architecture_ = state["architecture_"]
        shape = tuple(state["sample_shape_"])
        self._flat_images = (self.architecture_ == "infogan" and len(shape) == 1
                             and square_image_shape(shape[0]) is not None)
        super()._set_state(tensors, state)
