"""InfoGAN (Chen et al. 2016): a GAN whose generator input carries a code the data must keep.

G takes noise z ~ N(0, I), a categorical code c ~ Cat(K) (one-hot) and continuous codes
u ~ U[-1, 1]. An auxiliary head Q on the discriminator's body predicts the codes back from
G(z, c, u): logits of Q(c|x) and the means of a unit-variance Gaussian Q(u|x). Minimising

    λ_cat · E[−log Q(c|x)] + λ_cont · E[−log N(u; μ(x), 1)]

maximises a lower bound on the mutual information I(c, u; G(z, c, u)) (the codes' entropy is
a constant), so each category comes to mean something G makes visibly different: on digits,
usually the digit class. The term is added to both D's (with Q) and G's non-saturating GAN
losses. The clusters of real data are argmax Q(c|x); G(z, c) generates a chosen cluster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nolabel._validation import Constraints, Float, Int, check_int, check_is_fitted
from nolabel.clustering._adversarial import AdversarialClusterer
from nolabel.models.gan import discriminator_loss, generator_loss
from nolabel.nets.infogan_nets import q_head
from nolabel.registry import register
from nolabel.train import Objective

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def information_loss(category_logits: torch.Tensor, categories: torch.Tensor,
                     means: torch.Tensor, continuous: torch.Tensor, lambda_cat: float = 1.0,
                     lambda_cont: float = 0.1):
    """``λ_cat · E[−log Q(c|x)] + λ_cont · E[−log N(u; μ, 1)]`` (summed over the continuous
    codes, batch means), with ``mi_categorical = log K − E[−log Q(c|x)]``, the lower bound on
    I(c; x) it implies for a uniform c (nats)."""
    categorical = F.cross_entropy(category_logits, categories)
    gaussian = (0.5 * (continuous - means) ** 2 + _HALF_LOG_2PI).sum(1).mean()
    loss = lambda_cat * categorical + lambda_cont * gaussian
    return loss, {"mi_categorical": math.log(category_logits.shape[1]) - categorical.detach()}


class InfoGANNet(nn.Module):
    """G, D and the head Q on D's body, in one module so saving sees every weight."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, latent_dim: int,
                 n_clusters: int, n_continuous: int, q: nn.Module | None = None) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        # Q: the paper networks' own hidden layer (q_head), or one linear layer on D's body.
        self.q = q if q is not None else nn.Linear(discriminator.linear.in_features,
                                                   n_clusters + n_continuous)
        self.latent_dim, self.n_clusters, self.n_continuous = latent_dim, n_clusters, n_continuous

    def codes(self, n: int, device: torch.device, generator: torch.Generator | None = None,
              cluster: int | None = None):
        """G's input ``[z, one-hot c, u]`` with its categories c (uniform, or all ``cluster``)
        and continuous codes u."""
        z = torch.randn((n, self.latent_dim), device=device, generator=generator)
        if cluster is None:
            c = torch.randint(self.n_clusters, (n,), device=device, generator=generator)
        else:
            c = torch.full((n,), cluster, device=device, dtype=torch.long)
        u = torch.rand((n, self.n_continuous), device=device, generator=generator) * 2 - 1
        return torch.cat([z, F.one_hot(c, self.n_clusters).to(z.dtype), u], 1), c, u

    def heads(self, x: torch.Tensor):
        """D's real/fake logits (n,), Q's category logits (n, K) and code means (n, d)."""
        features = self.discriminator.features(x)
        q = self.q(features)
        return (self.discriminator.linear(features).squeeze(1), q[:, :self.n_clusters],
                q[:, self.n_clusters:])


@register("infogan", "InfoGAN: a categorical code in G's input made recoverable by a head Q "
          "on D (mutual-information bound); clusters = argmax Q(c|x), generation by cluster")
class InfoGAN(AdversarialClusterer):
    """InfoGAN as a clustering estimator for data in [0, 1].

    Parameters
    ----------
    n_clusters : K, the values of the categorical code.
    n_continuous : continuous codes u ~ U[-1, 1] (2 in the paper for MNIST; 0 = none).
    latent_dim : noise dimensions z ~ N(0, I) (62 in the paper for MNIST).
    lambda_cat, lambda_cont : weights of the categorical and the continuous information terms
        (1 and 0.1: the paper uses a smaller λ for continuous codes).
    architecture : ``"auto"`` (default), ``"infogan"``, ``"conv"`` or ``"mlp"`` (see
        :mod:`nolabel.clustering._adversarial`). ``"auto"`` takes the paper's MNIST networks
        (``"infogan"``: convolutional D and G with a 1024-unit layer and batch norm, Q with
        its own 128-unit layer; any image size and channel count) for images (n, c, h, w) or
        (n, h, w) and for flat vectors of length s * s >= 64 (viewed as 1 x s x s images:
        784 -> 28x28, 64 -> 8x8), and the MLP for other vectors. ``"conv"`` gives
        DCGAN-style players (as :class:`~nolabel.DCGAN`).
    generator_dims, discriminator_dims : MLP hidden sizes (LeakyReLU(0.2) in D).
    channels : the convolution stages of D (G mirrors them): (64, 128) is the paper's.
    dropout : dropout after the DCGAN-style D's convolutions (the paper networks have none).
    generator_activation : G's hidden activation (MLP and DCGAN-style G; the paper's G uses
        ReLU).
    optimizer, lr, generator_lr, betas, weight_decay : D and Q learn with ``lr``, G with
        ``generator_lr``: Adam, 2e-4 and 1e-3, betas (0.5, 0.999) as in the paper and its
        reference code.
    batch_size : 128, the reference code's.
    epochs, random_state, device, verbose, checkpoint_path, checkpoint_every :
        as in :class:`~nolabel.GAN`.

    Attributes: ``labels_`` (argmax Q(c|x) on the training data), ``generator_``,
    ``discriminator_``, ``architecture_``, ``history_`` (per epoch: ``discriminator_loss`` and
    ``generator_loss`` with their information terms, ``d_real_accuracy``,
    ``d_fake_accuracy``, and ``mi_categorical``, D's step's lower bound on I(c; G(z, c)) in
    nats, which approaches log K as Q learns to read the category back).
    """

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        n_continuous: int = 2,
        latent_dim: int = 62,
        lambda_cat: float = 1.0,
        lambda_cont: float = 0.1,
        architecture: str = "auto",
        generator_dims: Sequence[int] = (128, 128),
        discriminator_dims: Sequence[int] = (128, 128),
        channels: Sequence[int] = (64, 128),
        dropout: float = 0.3,
        generator_activation: str = "relu",
        optimizer: str = "adam",
        lr: float = 2e-4,
        generator_lr: float = 1e-3,
        betas: Sequence[float] = (0.5, 0.999),
        weight_decay: float = 0.0,
        epochs: int = 50,
        batch_size: int = 128,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "32",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_continuous = n_continuous
        self.latent_dim = latent_dim
        self.lambda_cat = lambda_cat
        self.lambda_cont = lambda_cont
        self.architecture = architecture
        self.generator_dims = generator_dims
        self.discriminator_dims = discriminator_dims
        self.channels = channels
        self.dropout = dropout
        self.generator_activation = generator_activation
        self.optimizer = optimizer
        self.lr = lr
        self.generator_lr = generator_lr
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

    _parameter_constraints: ClassVar[Constraints] = {
        "n_continuous": Int(0), "lambda_cat": Float(0.0), "lambda_cont": Float(0.0),
    }

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        inputs = self.latent_dim + self.n_clusters + self.n_continuous
        discriminator = self._discriminator(sample_shape, 1)
        q = (q_head(discriminator.linear.in_features, self.n_clusters + self.n_continuous)
             if self.architecture_ == "infogan" else None)
        return InfoGANNet(self._generator(sample_shape, inputs), discriminator,
                          self.latent_dim, self.n_clusters, self.n_continuous, q)

    def _objectives(self, module: nn.Module) -> list[Objective]:
        weights = float(self.lambda_cat), float(self.lambda_cont)

        def d_loss(net: InfoGANNet, batch: tuple[torch.Tensor, ...]):
            real = batch[0]
            latent, c, u = net.codes(len(real), real.device)
            with torch.no_grad():
                fake = net.generator(latent)
            fake_logits, category_logits, means = net.heads(fake)
            adversarial, extras = discriminator_loss(net.heads(real)[0], fake_logits)
            information, bounds = information_loss(category_logits, c, means, u, *weights)
            return adversarial + information, {**extras, **bounds}

        def g_loss(net: InfoGANNet, batch: tuple[torch.Tensor, ...]):
            latent, c, u = net.codes(len(batch[0]), batch[0].device)
            fake_logits, category_logits, means = net.heads(net.generator(latent))
            information, _ = information_loss(category_logits, c, means, u, *weights)
            return generator_loss(fake_logits, "non-saturating") + information

        d_parameters = [*module.discriminator.parameters(), *module.q.parameters()]
        return [Objective("discriminator", d_loss, self._player_optimizer(d_parameters, self.lr)),
                Objective("generator", g_loss,
                          self._player_optimizer(module.generator.parameters(),
                                                 self.generator_lr))]

    def _cluster_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_.heads(x)[1].softmax(1)

    def sample(self, n_samples: int = 1, cluster: int | None = None,
               random_state: int | None = None) -> np.ndarray:
        """``n_samples`` generated samples in [0, 1], shaped like the training samples: of
        random categories, or all of category ``cluster`` (then most are predicted in that
        cluster once training has converged). The same ``random_state`` (default: the
        model's) gives the same samples."""
        check_is_fitted(self, ["module_"])
        n = check_int("n_samples", n_samples)
        if cluster is not None:
            cluster = self._check_cluster(cluster)
        device = next(self.module_.parameters()).device
        latent, _, _ = self.module_.codes(n, device, self._inference_generator(random_state),
                                          cluster)
        return self._generate(latent)
