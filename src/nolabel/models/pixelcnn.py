"""PixelCNN: an exact likelihood p(x) = Π_i p(x_i | x_<i), one pixel at a time in raster order.

Trained in parallel (every conditional in one masked forward pass); sampled sequentially.
``variant="masked"``: a 7x7 mask-A convolution, then residual blocks of 3x3 mask-B
convolutions (van den Oord et al. 2016a). ``variant="gated"``: vertical and horizontal stacks
with tanh x sigmoid gates, no blind spot (van den Oord et al. 2016b).

Output distribution per pixel: ``"bernoulli"`` for binarised images, ``"categorical"`` (256
ways) for 8-bit grayscale in [0, 1] (values k/255). One channel only.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nolabel._validation import as_output, check_choice, check_int, check_is_fitted
from nolabel.errors import DataError
from nolabel.metrics.likelihood import log_bernoulli
from nolabel.models.base import NeuralEstimator
from nolabel.nets.masked import GatedLayer, MaskedConv2d
from nolabel.registry import register
from nolabel.train import Objective

LEVELS = 256


class MaskedPixelCNN(nn.Module):
    def __init__(self, channels: int, n_layers: int, n_outputs: int) -> None:
        super().__init__()
        self.first = MaskedConv2d(1, channels, 7, "A")
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), MaskedConv2d(channels, channels, 3, "B"))
            for _ in range(n_layers)
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, n_outputs, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        for block in self.blocks:
            h = h + block(h)
        return self.head(h)


class GatedPixelCNN(nn.Module):
    def __init__(self, channels: int, n_layers: int, n_outputs: int, kernel_size: int = 3
                 ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(GatedLayer(channels, kernel_size if i else 7, i == 0)
                                    for i in range(n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, n_outputs, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v, h = x, x
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)


def pixel_log_likelihood(logits: torch.Tensor, x: torch.Tensor, output: str) -> torch.Tensor:
    """Exact ``log p(x)`` per image (nats) from the network's logits."""
    if output == "bernoulli":
        return log_bernoulli(x, logits)
    levels = torch.round(x[:, 0] * (LEVELS - 1)).long()
    return -F.cross_entropy(logits, levels, reduction="none").flatten(1).sum(1)


@register("pixelcnn", "PixelCNN (masked or gated): exact log-likelihood, bits/dim, "
          "pixel-by-pixel sampling")
class PixelCNN(NeuralEstimator):
    """Autoregressive image model with an exact likelihood.

    Parameters
    ----------
    variant : ``"gated"`` (vertical + horizontal stacks, no blind spot) or ``"masked"``.
    output : ``"bernoulli"`` (binary images) or ``"categorical"`` (256 grey levels k/255).
    channels, n_layers : width and depth of the network.
    Other parameters as in :class:`~nolabel.AutoEncoder`.
    """

    _image_input = True

    def __init__(
        self,
        *,
        variant: str = "gated",
        output: str = "bernoulli",
        channels: int = 64,
        n_layers: int = 7,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 20,
        batch_size: int = 64,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.variant = variant
        self.output = output
        self.channels = channels
        self.n_layers = n_layers
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        check_choice("variant", self.variant, ("gated", "masked"))
        check_choice("output", self.output, ("bernoulli", "categorical"))
        check_int("channels", self.channels)
        check_int("n_layers", self.n_layers)
        if sample_shape[0] != 1:
            raise DataError(
                f"PixelCNN models one-channel (grayscale) images; X has {sample_shape[0]} "
                f"channels (shape per image {sample_shape})"
            )
        n_outputs = 1 if self.output == "bernoulli" else LEVELS
        network = GatedPixelCNN if self.variant == "gated" else MaskedPixelCNN
        return network(self.channels, self.n_layers, n_outputs)

    def _check_data(self, X: torch.Tensor) -> None:
        self._require_unit_interval(X, "PixelCNN", "rescale it (nolabel.data.minmax_scale)")
        if self.output == "bernoulli" and not bool(((X == 0) | (X == 1)).all()):
            raise DataError(
                "output='bernoulli' needs binary images (0 or 1); binarise them "
                "(nolabel.metrics.likelihood.binarize) or use output='categorical'"
            )

    def _network_input(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.output == "bernoulli" else 2.0 * x - 1.0

    def _objectives(self, module: nn.Module) -> list[Objective]:
        output = self.output

        def nll(net: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
            x = batch[0]
            return -pixel_log_likelihood(net(self._network_input(x)), x, output).mean()

        return [Objective("nll", nll, self._make_optimizer(module.parameters()))]

    def score_samples(self, X):
        """Exact log-likelihood of each image, in nats (higher = more normal)."""
        data = self._input(X)
        if self.output == "bernoulli":
            self._check_data(data)
        scores = self._batched(
            lambda x: pixel_log_likelihood(self.module_(self._network_input(x)), x,
                                           self.output), data)
        return as_output(scores, X)

    def nll(self, X) -> float:
        """Mean negative log-likelihood per image, in nats."""
        return float(-np.mean(np.asarray(torch.as_tensor(self.score_samples(X)).cpu())))

    def bits_per_dim(self, X) -> float:
        """Mean negative log-likelihood in bits per pixel (discrete: no dequantisation)."""
        return self.nll(X) / (self.n_features_in_ * math.log(2.0))

    @torch.no_grad()
    def sample(self, n_samples: int = 1, random_state: int | None = None) -> np.ndarray:
        """Draw images pixel by pixel in raster order (all ``n_samples`` in one batch)."""
        check_is_fitted(self, ["module_"])
        n = check_int("n_samples", n_samples)
        device = next(self.module_.parameters()).device
        generator = self._inference_generator(random_state)
        _, height, width = self.sample_shape_
        images = torch.zeros((n, 1, height, width), device=device)
        self.module_.eval()
        for row in range(height):
            for column in range(width):
                logits = self.module_(self._network_input(images))[:, :, row, column]
                if self.output == "bernoulli":
                    probability = torch.sigmoid(logits[:, 0])
                    uniform = torch.rand(n, generator=generator, device=device)
                    images[:, 0, row, column] = (uniform < probability).float()
                else:
                    levels = torch.multinomial(torch.softmax(logits, 1), 1,
                                               generator=generator)[:, 0]
                    images[:, 0, row, column] = levels.float() / (LEVELS - 1)
        return images.cpu().numpy()
