"""Generative adversarial networks (Goodfellow et al. 2014; DCGAN: Radford et al. 2016).

A generator G maps noise z ~ N(0, I) to data in [0, 1]; a discriminator D maps data to one
logit, the log-odds that it is real. Each mini-batch trains D for ``d_steps`` steps (fresh
noise each step, the same real batch), then G for one step. Losses:

- ``"non-saturating"`` (default): D minimises −log D(x) − log(1 − D(G(z))); G minimises
  −log D(G(z)), which keeps G's gradients large while D rejects its samples.
- ``"minimax"``: the same D; G minimises log(1 − D(G(z))), the original min-max game.
- ``"wgan-gp"`` (Gulrajani et al. 2017): D is a critic minimising
  E[D(G(z))] − E[D(x)] + λ (||∇D(x̂)|| − 1)² on points x̂ between real and fake samples; G
  minimises −E[D(G(z))].

- :class:`GAN`: fully-connected players (the documents' 128-128 LeakyReLU networks).
- :class:`DCGAN`: transposed convolutions with batch norm in G; strided convolutions with
  LeakyReLU and dropout in D.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nolabel._validation import (
    Betas,
    Choice,
    Constraints,
    Float,
    Int,
    Optional,
    Sizes,
    check_int,
    check_is_fitted,
)
from nolabel.models.base import NeuralEstimator
from nolabel.nets import mlp
from nolabel.nets.conv import padded_size
from nolabel.nets.mlp import ACTIVATIONS, activation
from nolabel.registry import register
from nolabel.train import Objective, loss_scale, make_optimizer

LOSSES = ("non-saturating", "minimax", "wgan-gp")


# -- losses -----------------------------------------------------------------------------------
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       label_smoothing: float = 0.0):
    """``−log D(x) − log(1 − D(G(z)))`` (batch means), real targets ``1 − label_smoothing``;
    with D's accuracy on real and on fake samples (logit above / below 0)."""
    real_target = torch.full_like(real_logits, 1.0 - label_smoothing)
    loss = (F.binary_cross_entropy_with_logits(real_logits, real_target)
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    return loss, {"d_real_accuracy": (real_logits > 0).float().mean(),
                  "d_fake_accuracy": (fake_logits < 0).float().mean()}


def generator_loss(fake_logits: torch.Tensor, loss: str) -> torch.Tensor:
    """G's loss on D's logits for its samples (see the module docstring)."""
    if loss == "non-saturating":
        return F.softplus(-fake_logits).mean()  # −log sigmoid(l)
    if loss == "minimax":
        return -F.softplus(fake_logits).mean()  # log(1 − sigmoid(l))
    return -fake_logits.mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, mix: torch.Tensor | None = None,
                     scale: float = 1.0) -> torch.Tensor:
    """Mean of ``(||∇ critic(x̂)||₂ − 1)²`` at ``x̂ = mix·real + (1 − mix)·fake``, one ``mix``
    per sample (uniform on [0, 1] when not given); differentiable in the critic's weights.

    ``scale`` is the fp16 loss scale (:func:`nolabel.train.loss_scale`): the inner gradient
    is taken of the scaled scores and divided back, so it does not underflow in fp16
    (PyTorch's AMP recipe for gradient penalties); the norm is taken in float32."""
    if mix is None:
        mix = torch.rand(len(real), device=real.device, dtype=real.dtype)
    mix = mix.reshape(-1, *([1] * (real.dim() - 1)))
    points = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(points).sum() * scale, points, create_graph=True)
    gradient = gradient.float() / scale
    return ((gradient.flatten(1).norm(dim=1) - 1) ** 2).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor, penalty: torch.Tensor,
                gp_weight: float):
    """WGAN-GP critic loss, with the Wasserstein estimate and the penalty to log."""
    distance = real_scores.mean() - fake_scores.mean()
    return -distance + gp_weight * penalty, {"wasserstein_estimate": distance.detach(),
                                             "gradient_penalty": penalty.detach()}


# -- networks -----------------------------------------------------------------------------------
class GANNet(nn.Module):
    """Both players in one module, so saving, loading and checkpoints see every weight."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, latent_dim: int) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim

    def noise(self, n: int, device: torch.device,
              generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn((n, self.latent_dim), device=device, generator=generator)

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D's logits, shape (n,)."""
        return self.discriminator(x).squeeze(1)


class DCGANGenerator(nn.Module):
    """z -> linear -> (transposed 4x4 convolution of stride 2, batch norm, activation)* ->
    sigmoid image. Sizes that are not a multiple of ``2 ** len(channels)`` are cropped."""

    def __init__(self, latent_dim: int, image_shape: Sequence[int], channels: Sequence[int],
                 activation_name: str) -> None:
        super().__init__()
        out_channels, height, width = (int(s) for s in image_shape)
        stages = len(channels)
        self.height, self.width = height, width
        wide = [int(c) for c in reversed(channels)]
        base = (padded_size(height, stages) >> stages, padded_size(width, stages) >> stages)
        self.project = nn.Sequential(
            nn.Linear(latent_dim, wide[0] * base[0] * base[1], bias=False),
            nn.Unflatten(1, (wide[0], *base)), nn.BatchNorm2d(wide[0]), activation(activation_name))
        layers: list[nn.Module] = []
        for fan_in, fan_out in itertools.pairwise(wide):
            layers += [nn.ConvTranspose2d(fan_in, fan_out, 4, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(fan_out), activation(activation_name)]
        layers.append(nn.ConvTranspose2d(wide[-1], out_channels, 4, stride=2, padding=1))
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        images = torch.sigmoid(self.deconvs(self.project(z)))
        return images[:, :, : self.height, : self.width]


class DCGANDiscriminator(nn.Module):
    """image -> (4x4 convolution of stride 2, LeakyReLU(0.2), dropout)* -> linear -> logit
    (``outputs`` logits for a classifier, e.g. CatGAN's). No batch norm, so the WGAN-GP
    per-sample gradient penalty stays valid."""

    def __init__(self, image_shape: Sequence[int], channels: Sequence[int],
                 dropout: float, outputs: int = 1) -> None:
        super().__init__()
        in_channels, height, width = (int(s) for s in image_shape)
        stages = len(channels)
        self.extra = (padded_size(width, stages) - width, padded_size(height, stages) - height)
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip((in_channels, *channels[:-1]), channels, strict=True):
            layers += [nn.Conv2d(int(fan_in), int(fan_out), 4, stride=2, padding=1),
                       nn.LeakyReLU(0.2), nn.Dropout(dropout)]
        side = (padded_size(height, stages) >> stages) * (padded_size(width, stages) >> stages)
        self.convs = nn.Sequential(*layers, nn.Flatten())
        self.linear = nn.Linear(int(channels[-1]) * side, outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened output of the last convolution stage, the input of ``linear``."""
        if any(self.extra):
            x = F.pad(x, (0, self.extra[0], 0, self.extra[1]))
        return self.convs(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


# -- estimators -------------------------------------------------------------------------------
class _GANBase(NeuralEstimator):
    """What both GANs share: settings, the two objectives, sampling and interpolation."""

    latent_dim: int
    loss: str
    d_steps: int
    gp_weight: float
    label_smoothing: float
    betas: Sequence[float]

    _parameter_constraints: ClassVar[Constraints] = {
        "latent_dim": Int(), "loss": Choice(*LOSSES), "d_steps": Optional(Int()),
        "lr": Optional(Float(0.0, strict=True)), "betas": Optional(Betas()),
        "gp_weight": Float(0.0), "label_smoothing": Float(0.0, below=1.0),
        "generator_dims": Sizes(), "discriminator_dims": Sizes(),
        "channels": Sizes(1, "convolution stage"), "dropout": Optional(Float(0.0, below=1.0)),
        "generator_activation": Choice(*ACTIVATIONS),
    }
    _parameter_rules = (
        lambda self: ("label_smoothing applies to the logistic losses; set it to 0 with "
                      "loss='wgan-gp'" if self.label_smoothing and self.loss == "wgan-gp"
                      else None),
        lambda self: ("loss='wgan-gp' needs a critic without dropout (the gradient penalty is "
                      "taken per sample of a deterministic critic): leave dropout=None"
                      if self.loss == "wgan-gp" and getattr(self, "dropout", None) else None),
    )

    def _training_settings(self) -> tuple[int, float, tuple[float, float]]:
        """(d_steps, lr, betas): the user's, or the defaults of the loss's paper: one D step,
        2e-4 and (0.5, 0.999) for the logistic losses (DCGAN); five critic steps, 1e-4 and
        (0, 0.9) for WGAN-GP (Gulrajani et al., Algorithm 1)."""
        paper = (5, 1e-4, (0.0, 0.9)) if self.loss == "wgan-gp" else (1, 2e-4, (0.5, 0.999))
        given = (self.d_steps, self.lr, self.betas)
        d_steps, lr, betas = (p if g is None else g for g, p in zip(given, paper, strict=True))
        return int(d_steps), float(lr), (float(betas[0]), float(betas[1]))

    def _make_optimizer(self, parameters) -> torch.optim.Optimizer:
        _, lr, betas = self._training_settings()
        extra = {"betas": betas} if self.optimizer == "adam" else {}
        return make_optimizer(self.optimizer, parameters, lr, self.weight_decay, **extra)

    def _check_data(self, X: torch.Tensor) -> None:
        self._require_unit_interval(X, type(self).__name__,
                                    "rescale it (nolabel.data.minmax_scale)")

    def _objectives(self, module: nn.Module) -> list[Objective]:
        loss_name = self.loss
        smoothing, gp_weight = float(self.label_smoothing), float(self.gp_weight)

        def d_loss(net: GANNet, batch: tuple[torch.Tensor, ...]):
            real = batch[0]
            with torch.no_grad():
                fake = net.generator(net.noise(len(real), real.device))
            real_logits, fake_logits = net.discriminate(real), net.discriminate(fake)
            if loss_name == "wgan-gp":
                penalty = gradient_penalty(net.discriminate, real, fake, scale=loss_scale())
                return critic_loss(real_logits, fake_logits, penalty, gp_weight)
            return discriminator_loss(real_logits, fake_logits, smoothing)

        def g_loss(net: GANNet, batch: tuple[torch.Tensor, ...]):
            fake = net.generator(net.noise(len(batch[0]), batch[0].device))
            return generator_loss(net.discriminate(fake), loss_name)

        return [
            Objective("discriminator", d_loss,
                      self._make_optimizer(module.discriminator.parameters()),
                      steps=self._training_settings()[0]),
            Objective("generator", g_loss, self._make_optimizer(module.generator.parameters())),
        ]

    @property
    def generator_(self) -> nn.Module:
        check_is_fitted(self, ["module_"])
        return self.module_.generator

    @property
    def discriminator_(self) -> nn.Module:
        check_is_fitted(self, ["module_"])
        return self.module_.discriminator

    def _generate(self, z: torch.Tensor) -> np.ndarray:
        images = self._batched(self.module_.generator, z)
        return images.reshape(len(z), *self.sample_shape_).cpu().numpy()

    def sample(self, n_samples: int = 1, random_state: int | None = None) -> np.ndarray:
        """``n_samples`` generated samples in [0, 1], shaped like the training samples;
        the same ``random_state`` (default: the model's) gives the same samples."""
        check_is_fitted(self, ["module_"])
        n = check_int("n_samples", n_samples)
        device = next(self.module_.parameters()).device
        z = self.module_.noise(n, device, self._inference_generator(random_state))
        return self._generate(z)

    def interpolate(self, steps: int = 8, random_state: int | None = None) -> np.ndarray:
        """Samples at ``steps`` evenly spaced points on the line between two random noise
        vectors (drawn from ``random_state``): a latent interpolation strip."""
        steps = check_int("steps", steps, minimum=2)
        check_is_fitted(self, ["module_"])
        device = next(self.module_.parameters()).device
        ends = self.module_.noise(2, device, self._inference_generator(random_state))
        weights = torch.linspace(0.0, 1.0, steps, device=device)[:, None]
        return self._generate((1 - weights) * ends[0] + weights * ends[1])


@register("gan", "MLP generative adversarial network (non-saturating, minimax or WGAN-GP): "
          "sampling, latent interpolation")
class GAN(_GANBase):
    """Generative adversarial network with fully-connected generator and discriminator.

    Takes vectors (n, d) or images (n, ...) in [0, 1], flattened for the networks; samples
    come back shaped like the training samples.

    Parameters
    ----------
    latent_dim : size of the noise z ~ N(0, I).
    generator_dims, discriminator_dims : hidden layer sizes (LeakyReLU(0.2) between layers);
        G ends in a sigmoid, D in one logit.
    loss : ``"non-saturating"``, ``"minimax"`` or ``"wgan-gp"`` (see the module docstring).
    d_steps : discriminator steps per generator step (k in Goodfellow et al.); None: 1, or 5
        with ``loss="wgan-gp"`` (its paper's n_critic).
    gp_weight : λ of the WGAN-GP gradient penalty.
    label_smoothing : one-sided: real targets become ``1 − label_smoothing`` (logistic
        losses only; 0 = off).
    optimizer, lr, betas, weight_decay : the same optimizer for both players; ``betas`` are
        Adam's (β1, β2). None takes the loss's paper: lr 2e-4 and (0.5, 0.999) as in DCGAN,
        or lr 1e-4 and (0, 0.9) with ``loss="wgan-gp"``.
    epochs, batch_size, random_state, device, verbose, precision, grad_clip,
    checkpoint_path, checkpoint_every : as in :class:`~nolabel.AutoEncoder`; the same seed
        on CPU gives the same training.

    Whether the samples cover the data's modes is checked by :func:`mode_coverage`, not by
    ``fit`` (the report and the generation benchmark call it).

    History (one value per epoch): ``discriminator_loss``, ``generator_loss``, and
    ``d_real_accuracy`` / ``d_fake_accuracy`` (logistic losses) or ``wasserstein_estimate``
    / ``gradient_penalty`` (WGAN-GP), all from D's last step on each batch.
    """

    def __init__(
        self,
        latent_dim: int = 100,
        *,
        generator_dims: Sequence[int] = (128, 128),
        discriminator_dims: Sequence[int] = (128, 128),
        loss: str = "non-saturating",
        d_steps: int | None = None,
        gp_weight: float = 10.0,
        label_smoothing: float = 0.0,
        optimizer: str = "adam",
        lr: float | None = None,
        betas: Sequence[float] | None = None,
        weight_decay: float = 0.0,
        epochs: int = 50,
        batch_size: int = 64,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "32",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.latent_dim = latent_dim
        self.generator_dims = generator_dims
        self.discriminator_dims = discriminator_dims
        self.loss = loss
        self.d_steps = d_steps
        self.gp_weight = gp_weight
        self.label_smoothing = label_smoothing
        self.optimizer = optimizer
        self.lr = lr
        self.betas = betas
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.precision = precision
        self.grad_clip = grad_clip
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        n_features = int(np.prod(sample_shape))
        g_dims = [int(d) for d in self.generator_dims]
        d_dims = [int(d) for d in self.discriminator_dims]
        generator = nn.Sequential(mlp([self.latent_dim, *g_dims, n_features], "leaky_relu"),
                                  nn.Sigmoid())
        discriminator = mlp([n_features, *d_dims, 1], "leaky_relu")
        return GANNet(generator, discriminator, self.latent_dim)


@register("dcgan", "deep convolutional GAN for images of any channel count and size: "
          "sampling, latent interpolation")
class DCGAN(_GANBase):
    """Deep convolutional GAN for images ``(n, channels, height, width)`` in [0, 1].

    ``(n, height, width)`` is read as one channel. Each D stage halves height and width
    (G's stages double them), so sizes that are not a multiple of ``2 ** len(channels)`` are
    padded inside D and cropped from G: 28x28 and 32x32 need neither with two stages.

    Parameters
    ----------
    channels : D's convolution channels, e.g. (64, 128); G mirrors them, widest first.
    dropout : dropout after each of D's convolutions; None: 0.3, or none with
        ``loss="wgan-gp"`` (the gradient penalty needs a deterministic critic).
    generator_activation : G's hidden activation (``"relu"`` as in DCGAN, or
        ``"leaky_relu"``...); D always uses LeakyReLU(0.2).
    Other parameters and the history as in :class:`GAN`.
    """

    _image_input = True

    def __init__(
        self,
        latent_dim: int = 100,
        *,
        channels: Sequence[int] = (64, 128),
        dropout: float | None = None,
        generator_activation: str = "relu",
        loss: str = "non-saturating",
        d_steps: int | None = None,
        gp_weight: float = 10.0,
        label_smoothing: float = 0.0,
        optimizer: str = "adam",
        lr: float | None = None,
        betas: Sequence[float] | None = None,
        weight_decay: float = 0.0,
        epochs: int = 25,
        batch_size: int = 64,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "32",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.latent_dim = latent_dim
        self.channels = channels
        self.dropout = dropout
        self.generator_activation = generator_activation
        self.loss = loss
        self.d_steps = d_steps
        self.gp_weight = gp_weight
        self.label_smoothing = label_smoothing
        self.optimizer = optimizer
        self.lr = lr
        self.betas = betas
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.precision = precision
        self.grad_clip = grad_clip
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        generator = DCGANGenerator(self.latent_dim, sample_shape, self.channels,
                                   self.generator_activation)
        dropout = self.dropout if self.dropout is not None else (
            0.0 if self.loss == "wgan-gp" else 0.3)
        discriminator = DCGANDiscriminator(sample_shape, self.channels, float(dropout))
        return GANNet(generator, discriminator, self.latent_dim)
