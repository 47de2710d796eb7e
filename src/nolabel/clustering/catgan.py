"""CatGAN (Springenberg 2016): the discriminator is a K-way classifier of the data.

Instead of telling real from fake, D spreads every sample over K classes, p(y|x) = softmax of
its K logits. With entropies H over a batch:

- D maximises ``H[p(y)] − E_real H[p(y|x)] + E_fake H[p(y|G(z))]``: balanced classes
  (p(y) the mean of p(y|x) over the real batch), confident on real data, uncertain on
  generated data;
- G minimises ``E_fake H[p(y|G(z))] − H[p_G(y)]``: samples D classifies confidently, spread
  evenly over the classes (p_G(y) the mean over the generated batch).

The clusters are argmax p(y|x) on real data. G has no class input, so ``sample(cluster=c)``
draws samples and keeps those D assigns to c (rejection sampling).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from nolabel._validation import check_int, check_is_fitted
from nolabel.clustering._adversarial import AdversarialClusterer
from nolabel.errors import ParameterError
from nolabel.metrics.information import entropy
from nolabel.models.gan import GANNet
from nolabel.registry import register
from nolabel.train import Objective

_DRAWS_PER_SAMPLE = 100  # rejection sampling tries at most this many draws per sample and class


# -- losses -------------------------------------------------------------------------------------
def conditional_entropy(logits: torch.Tensor) -> torch.Tensor:
    """``E_x H[p(y|x)]``, the batch mean of the entropy of softmax(logits) (nats); taken
    from log-softmax so that confident predictions keep finite gradients."""
    log_p = logits.log_softmax(1)
    return -(log_p.exp() * log_p).sum(1).mean()


def marginal_entropy(logits: torch.Tensor) -> torch.Tensor:
    """``H[p(y)]`` of the class marginal p(y) = batch mean of softmax(logits) (nats)."""
    return entropy(logits.softmax(1).mean(0), validate=False)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor):
    """``−(H[p(y)] − E_real H[p(y|x)] + E_fake H[p(y|G(z))])``, with the three terms."""
    terms = {"h_marginal_real": marginal_entropy(real_logits),
             "h_conditional_real": conditional_entropy(real_logits),
             "h_conditional_fake": conditional_entropy(fake_logits)}
    loss = -(terms["h_marginal_real"] - terms["h_conditional_real"]
             + terms["h_conditional_fake"])
    return loss, {name: value.detach() for name, value in terms.items()}


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``E_fake H[p(y|G(z))] − H[p_G(y)]``."""
    return conditional_entropy(fake_logits) - marginal_entropy(fake_logits)


# -- estimator ----------------------------------------------------------------------------------
@register("catgan", "CatGAN: D is a K-way classifier trained with entropy terms against G; "
          "clusters = argmax D(x), generation by cluster through rejection")
class CatGAN(AdversarialClusterer):
    """Categorical GAN as a clustering estimator for data in [0, 1].

    Parameters
    ----------
    n_clusters : K, the classes of D.
    latent_dim : noise dimensions z ~ N(0, I) of G.
    architecture, generator_dims, discriminator_dims, channels, dropout,
    generator_activation : as in :class:`~nolabel.InfoGAN`; D ends in K logits. For images
        (and flat vectors of length s * s >= 64, viewed as 1 x s x s images) ``"auto"`` takes
        InfoGAN's MNIST networks: D's convolutions (64, 128), its 1024-unit layer with batch
        norm (the ``transform`` features), then K logits; G as InfoGAN's. CatGAN's own paper
        (Springenberg 2016, appendix) also used small convolutional networks with batch norm
        and leaky ReLUs for MNIST, but a different layout (max-pooling in D), not checked
        layer by layer here; InfoGAN's were chosen instead because their every size is
        checked against the reference code, they work for any image size, and one network
        code serves both models, so the two compare on the same players.
    optimizer, lr, generator_lr, betas, weight_decay : D learns with ``lr``, G with
        ``generator_lr``; Adam with DCGAN's settings (2e-4, betas (0.5, 0.999)) by default.
    epochs, batch_size, random_state, device, verbose, checkpoint_path, checkpoint_every :
        as in :class:`~nolabel.GAN`. The marginal p(y) is estimated on each batch, so batches
        should hold several samples per cluster.

    Attributes: ``labels_`` (argmax p(y|x) on the training data), ``generator_``,
    ``discriminator_``, ``architecture_``, ``history_`` (per epoch: ``discriminator_loss``,
    ``generator_loss``, and D's entropy terms ``h_marginal_real``, ``h_conditional_real``,
    ``h_conditional_fake``, in nats).
    """

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        latent_dim: int = 100,
        architecture: str = "auto",
        generator_dims: Sequence[int] = (128, 128),
        discriminator_dims: Sequence[int] = (128, 128),
        channels: Sequence[int] = (64, 128),
        dropout: float = 0.3,
        generator_activation: str = "relu",
        optimizer: str = "adam",
        lr: float = 2e-4,
        generator_lr: float = 2e-4,
        betas: Sequence[float] = (0.5, 0.999),
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
        self.n_clusters = n_clusters
        self.latent_dim = latent_dim
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

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        return GANNet(self._generator(sample_shape, self.latent_dim),
                      self._discriminator(sample_shape, self.n_clusters), self.latent_dim)

    def _objectives(self, module: nn.Module) -> list[Objective]:
        def d_loss(net: GANNet, batch: tuple[torch.Tensor, ...]):
            real = batch[0]
            with torch.no_grad():
                fake = net.generator(net.noise(len(real), real.device))
            return discriminator_loss(net.discriminator(real), net.discriminator(fake))

        def g_loss(net: GANNet, batch: tuple[torch.Tensor, ...]):
            fake = net.generator(net.noise(len(batch[0]), batch[0].device))
            return generator_loss(net.discriminator(fake))

        return [Objective("discriminator", d_loss,
                          self._player_optimizer(module.discriminator.parameters(), self.lr)),
                Objective("generator", g_loss,
                          self._player_optimizer(module.generator.parameters(),
                                                 self.generator_lr))]

    def _cluster_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_.discriminator(x).softmax(1)

    def sample(self, n_samples: int = 1, cluster: int | None = None,
               random_state: int | None = None) -> np.ndarray:
        """``n_samples`` generated samples in [0, 1], shaped like the training samples; the
        same ``random_state`` (default: the model's) gives the same samples.

        With ``cluster=c``, G draws in rounds of ``n_samples × n_clusters`` and only the
        samples D assigns to c are kept, in draw order (rejection sampling); after
        ``100 × n_samples × n_clusters`` draws without enough of them it raises
        ParameterError (G rarely makes that cluster).
        """
        check_is_fitted(self, ["module_"])
        n = check_int("n_samples", n_samples)
        device = next(self.module_.parameters()).device
        generator = self._inference_generator(random_state)
        if cluster is None:
            return self._generate(self.module_.noise(n, device, generator))
        cluster = self._check_cluster(cluster)
        kept: list[torch.Tensor] = []
        found, drawn, limit = 0, 0, _DRAWS_PER_SAMPLE * n * self.n_clusters
        while found < n and drawn < limit:
            samples = self._batched(self.module_.generator,
                                    self.module_.noise(n * self.n_clusters, device, generator))
            chosen = samples[self._batched(self._cluster_probabilities, samples).argmax(1)
                             == cluster]
            kept.append(chosen)
            found, drawn = found + len(chosen), drawn + len(samples)
        if found < n:
            raise ParameterError(
                f"cluster={cluster}: only {found} of {drawn} generated samples fall in it, "
                f"fewer than the {n} asked for; ask for fewer or train longer")
        return torch.cat(kept)[:n].reshape(n, *self.sample_shape_).cpu().numpy()
