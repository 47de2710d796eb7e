"""SimCLR (Chen et al. 2020): a representation learned by matching augmented views.

Every sample of a batch is augmented twice. An encoder and a small projection head map the
2n views to unit vectors, and the NT-Xent loss (a softmax cross-entropy over cosine
similarities divided by a temperature) asks each view to pick its twin among the other
2n - 1 views. What the augmentations change is what the encoder learns to ignore, so the
representation keeps the neighbourhoods that matter to a person looking at the samples better
than the raw inputs or an autoencoder's codes do. The representation is the encoder's
output, before the head, as the paper recommends (the head discards more than it keeps).

Augmentations:

- images (samples (c, h, w) or (h, w), or flat vectors of a square length of at least 8x8):
  random shifts, rotations, shears and zooms
  (:class:`~nolabel.nets.augment.RandomAffine`) and Gaussian noise. The paper's crops and
  colour distortion are for natural colour photographs; for small grey images (digits,
  Fashion-MNIST) small affine moves keep the object whole.
- tables (other vectors): SCARF's corruption (Bahri et al. 2022): a fraction ``corruption``
  of each row's features is replaced by the same features of random rows of the batch, that
  is, by draws from the features' empirical marginals.

To cluster, embed the representation and fit a mixture, as N2D does with autoencoder codes
(``nolabel.manifold.umap_embedding`` then a full-covariance
:class:`~nolabel.GaussianMixture`); ``benchmarks/deep_clustering.py`` measures that as
``simclr-umap-gmm``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nolabel._validation import Choice, Constraints, Float, Int, Sizes, as_output
from nolabel.errors import ParameterError
from nolabel.models.base import NeuralEstimator, NeuralTransformer
from nolabel.nets.augment import RandomAffine, flat_image_shape, square_image_shape
from nolabel.nets.conv import PooledConvEncoder
from nolabel.nets.mlp import mlp
from nolabel.registry import register
from nolabel.train import Objective


def nt_xent(projections: torch.Tensor, temperature: float
            ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The NT-Xent loss of ``projections`` (2n, p): rows i and n + i are the two views of
    sample i. Also the fraction of views whose most similar other view is their twin."""
    z = F.normalize(projections.float(), dim=1)
    n = len(z) // 2
    similarity = z @ z.T / temperature
    similarity.fill_diagonal_(float("-inf"))  # a view is not its own twin
    twins = torch.arange(2 * n, device=z.device).roll(n)  # i <-> n + i, made on the device
    loss = F.cross_entropy(similarity, twins)
    found = (similarity.detach().argmax(1) == twins).float().mean()
    return loss, {"twin_found": found}


def corrupt_features(x: torch.Tensor, fraction: float) -> torch.Tensor:
    """SCARF: each entry of ``x`` (n, d), with probability ``fraction``, replaced by the same
    feature of a random row of the batch. Draws from torch's default generators."""
    replaced = torch.rand(x.shape, device=x.device) < fraction
    donors = torch.randint(len(x), x.shape, device=x.device)
    return torch.where(replaced, x.gather(0, donors), x)


class SimCLRNet(nn.Module):
    """Flat samples -> the encoder's representation (``features``) -> the projection head."""

    def __init__(self, encoder: nn.Module, width: int, projection_dim: int,
                 image_shape: tuple[int, ...] | None) -> None:
        super().__init__()
        self.encoder = encoder
        self.image_shape = image_shape
        self.head = nn.Sequential(nn.Linear(width, width), nn.ReLU(),
                                  nn.Linear(width, projection_dim))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.image_shape is not None:
            x = x.reshape(len(x), *self.image_shape)
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register("simclr", "SimCLR contrastive representation: an encoder trained to match two "
          "augmented views of each sample (convolutional for images, MLP with SCARF "
          "corruption for tables)")
class SimCLR(NeuralTransformer, NeuralEstimator):
    """SimCLR: contrastive representation learning (see the module docstring).

    Parameters
    ----------
    architecture : ``"auto"`` (``"conv"`` for images, including flat vectors of a square
        length of at least 64; ``"mlp"`` otherwise), ``"conv"`` or ``"mlp"``.
    channels : the convolutional encoder's blocks (3x3 convolution, batch norm, ReLU; a 2x2
        max-pool before each block after the first; a global average at the end). The
        representation has ``channels[-1]`` values.
    hidden_dims : the MLP encoder's layers (ReLU after each); the representation has
        ``hidden_dims[-1]`` values.
    projection_dim, temperature : the projection head's output size and NT-Xent's
        temperature (the paper: 128, and 0.5 on CIFAR-10; 64 here for the smaller
        encoders).
    shift, rotation, shear, zoom, noise_level : the image augmentations: the largest shift
        as a fraction of the side (0.125 is one pixel of an 8x8 image), rotation and shear
        angles in degrees, zoom factors in [1 - zoom, 1 + zoom], and the standard deviation
        of the added Gaussian noise.
    corruption : the fraction of features SCARF replaces in a table's views (its paper: 0.6).
    optimizer, lr, weight_decay, epochs, batch_size : training; the paper's large batches
        (4096 with LARS) are not needed for small images: batch 256 with Adam.
    random_state, device, verbose, precision, grad_clip, checkpoint_path, checkpoint_every :
        as for every neural estimator.

    Attributes: ``module_`` (``encoder`` and ``head``), ``n_components_`` (the
    representation's size), ``history_`` (per epoch: ``loss`` and ``twin_found``, the
    fraction of views whose most similar other view is their twin).

    ``transform`` returns the representation scaled to unit length: the loss compares
    directions, and neighbours by cosine similarity are what a clustering of it should use.

    Under ``torchrun`` each process contrasts the views of its own share of the global
    batch: the negatives are not gathered across processes, so a run on p processes sees
    p times fewer negatives per view than one process with the same ``batch_size``.
    """

    _parameter_constraints: ClassVar[Constraints] = {
        "architecture": Choice("auto", "conv", "mlp"), "channels": Sizes(1),
        "hidden_dims": Sizes(1), "projection_dim": Int(),
        "temperature": Float(0.0, strict=True), "shift": Float(0.0, below=1.0),
        "rotation": Float(0.0, at_most=180.0), "shear": Float(0.0, below=90.0),
        "zoom": Float(0.0, below=1.0), "noise_level": Float(0.0),
        "corruption": Float(0.0, below=1.0),
    }

    def __init__(
        self,
        *,
        architecture: str = "auto",
        channels: Sequence[int] = (32, 64, 128),
        hidden_dims: Sequence[int] = (256, 256),
        projection_dim: int = 64,
        temperature: float = 0.5,
        shift: float = 0.125,
        rotation: float = 15.0,
        shear: float = 10.0,
        zoom: float = 0.1,
        noise_level: float = 0.05,
        corruption: float = 0.6,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 1e-6,
        epochs: int = 100,
        batch_size: int = 256,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "auto",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.architecture = architecture
        self.channels = channels
        self.hidden_dims = hidden_dims
        self.projection_dim = projection_dim
        self.temperature = temperature
        self.shift = shift
        self.rotation = rotation
        self.shear = shear
        self.zoom = zoom
        self.noise_level = noise_level
        self.corruption = corruption
        self.optimizer = optimizer
        self.lr = lr
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

    def _image_shape(self, sample_shape: tuple[int, ...]) -> tuple[int, ...] | None:
        """The (c, h, w) the convolutional encoder sees, or None for the MLP encoder."""
        if self.architecture == "mlp":
            return None
        if len(sample_shape) in (2, 3):
            return tuple(int(s) for s in (1, *sample_shape)[-3:])
        side = (flat_image_shape if self.architecture == "auto" else square_image_shape)(
            sample_shape[0])
        if side is None and self.architecture == "conv":
            raise ParameterError(
                f"architecture='conv' needs images, but the samples are vectors of "
                f"{sample_shape[0]} values (not a square number): pass images shaped (n, "
                "channels, height, width), or architecture='mlp'")
        return side

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        image_shape = self._image_shape(sample_shape)
        if image_shape is not None:
            encoder = PooledConvEncoder(image_shape, [int(c) for c in self.channels])
            width = int(self.channels[-1])
        else:
            sizes = [int(np.prod(sample_shape)), *(int(d) for d in self.hidden_dims)]
            encoder = nn.Sequential(mlp(sizes), nn.ReLU())
            width = sizes[-1]
        self.n_components_ = width
        return SimCLRNet(encoder, width, int(self.projection_dim), image_shape)

    def _objectives(self, module: nn.Module) -> list[Objective]:
        image_shape = module.image_shape
        affine = RandomAffine(shift=self.shift, rotation=self.rotation, shear=self.shear,
                              zoom=self.zoom)

        def view(x: torch.Tensor) -> torch.Tensor:
            """One random view of a batch of flat samples, from this fit's generators."""
            if image_shape is None:
                return corrupt_features(x, float(self.corruption))
            moved = affine(x, torch.random.default_generator, image_shape)
            return moved + float(self.noise_level) * torch.randn_like(moved)

        def loss(net, batch):
            x = batch[0]
            return nt_xent(net(torch.cat([view(x), view(x)])), float(self.temperature))

        return [Objective("contrastive", loss, self._make_optimizer(module.parameters()))]

    def transform(self, X):
        """The unit-length representation of ``X``, shape (n_samples, n_components_):
        deterministic (batch norm's running statistics, no augmentation)."""
        data = self._input(X)
        return as_output(self._batched(
            lambda x: F.normalize(self.module_.features(x), dim=1), data), X)
