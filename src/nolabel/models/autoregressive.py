"""What PixelCNN and PixelRNN share: p(x) = Π_i p(x_i | x_<i) over one-channel images.

Output distribution per pixel: ``"bernoulli"`` for binarised images, ``"categorical"`` (256
ways) for 8-bit grayscale in [0, 1] (values k/255). Training maximises the exact
log-likelihood; ``sample`` draws one pixel at a time in raster order, asking the subclass for
the logits of the current row (each network has its own way to avoid recomputing the image).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nolabel._validation import Choice, Constraints, Int, as_output, check_int, check_is_fitted
from nolabel.errors import DataError
from nolabel.metrics.likelihood import log_bernoulli
from nolabel.models.base import LikelihoodMethods, NeuralEstimator
from nolabel.train import Objective

LEVELS = 256
# Images drawn together while sampling: bounds memory, and fixed so a seed gives one result.
_SAMPLE_BATCH = 1000


def pixel_log_likelihood(logits: torch.Tensor, x: torch.Tensor, likelihood: str
                         ) -> torch.Tensor:
    """Exact ``log p(x)`` per image (nats) from the network's logits."""
    if likelihood == "bernoulli":
        return log_bernoulli(x, logits)
    levels = torch.round(x[:, 0] * (LEVELS - 1)).long()
    return -F.cross_entropy(logits, levels, reduction="none").flatten(1).sum(1)


def draw_pixel(logits: torch.Tensor, likelihood: str, generator: torch.Generator
               ) -> torch.Tensor:
    """One value per image from ``(n, n_outputs)`` logits, on the data's scale."""
    if likelihood == "bernoulli":
        uniform = torch.rand(len(logits), generator=generator, device=logits.device)
        return (uniform < torch.sigmoid(logits[:, 0])).float()
    levels = torch.multinomial(torch.softmax(logits, 1), 1, generator=generator)[:, 0]
    return levels.float() / (LEVELS - 1)


class AutoregressiveImageModel(LikelihoodMethods, NeuralEstimator):
    """Base of the pixel-by-pixel models; subclasses build the network and the row sampler."""

    _image_input = True
    likelihood: str

    # -- to provide in subclasses ---------------------------------------------------------
    def _build_network(self, n_outputs: int) -> nn.Module:
        raise NotImplementedError

    def _row_logits(self, images: torch.Tensor, row: int, cache: dict[str, Any]
                    ) -> torch.Tensor:
        """Logits ``(n, n_outputs, width)`` of ``row`` given the pixels drawn so far (later
        ones are zero and must not matter)."""
        raise NotImplementedError

    def _row_done(self, images: torch.Tensor, row: int, cache: dict[str, Any]) -> None:
        """Called once ``row`` is complete (for networks that carry state between rows)."""

    _parameter_constraints: ClassVar[Constraints] = {
        "likelihood": Choice("bernoulli", "categorical"), "hidden_channels": Int(),
        "n_layers": Int(),
    }

    # -- shared ---------------------------------------------------------------------------
    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        return self._build_network(1 if self.likelihood == "bernoulli" else LEVELS)

    def _check_data(self, X: torch.Tensor) -> None:
        if X.shape[1] != 1:
            raise DataError(
                f"{type(self).__name__} models one-channel (grayscale) images; X has "
                f"{X.shape[1]} channels (shape per image {tuple(X.shape[1:])})"
            )
        self._require_unit_interval(X, type(self).__name__,
                                    "rescale it (nolabel.data.minmax_scale)")
        if self.likelihood == "bernoulli" and not bool(((X == 0) | (X == 1)).all()):
            raise DataError(
                "likelihood='bernoulli' needs binary images (0 or 1); binarise them "
                "(nolabel.metrics.likelihood.binarize) or use likelihood='categorical'"
            )

    def _network_input(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.likelihood == "bernoulli" else 2.0 * x - 1.0

    def _objectives(self, module: nn.Module) -> list[Objective]:
        likelihood = self.likelihood

        def nll(net: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
            x = batch[0]
            return -pixel_log_likelihood(net(self._network_input(x)), x, likelihood).mean()

        return [Objective("nll", nll, self._make_optimizer(module.parameters()))]

    def score_samples(self, X):
        """Exact log-likelihood of each image, in nats (higher = more normal)."""
        data = self._input(X)
        self._check_data(data)
        scores = self._batched(
            lambda x: pixel_log_likelihood(self.module_(self._network_input(x)), x,
                                           self.likelihood), data)
        return as_output(scores, X)

    @torch.no_grad()
    def sample(self, n_samples: int = 1, random_state: int | None = None) -> np.ndarray:
        """Draw images pixel by pixel in raster order, up to 1000 images at a time."""
        check_is_fitted(self, ["module_"])
        n = check_int("n_samples", n_samples)
        generator = self._inference_generator(random_state)
        self.module_.eval()
        return np.concatenate([self._sample_batch(min(_SAMPLE_BATCH, n - start), generator)
                               for start in range(0, n, _SAMPLE_BATCH)])

    def _sample_batch(self, n: int, generator: torch.Generator) -> np.ndarray:
        device = next(self.module_.parameters()).device
        _, height, width = self.sample_shape_
        images = torch.zeros((n, 1, height, width), device=device)
        cache: dict[str, Any] = {}
        for row in range(height):
            for column in range(width):
                logits = self._row_logits(images, row, cache)[:, :, column]
                images[:, 0, row, column] = draw_pixel(logits, self.likelihood, generator)
            self._row_done(images, row, cache)
        return images.cpu().numpy()
