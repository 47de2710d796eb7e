"""Training a feature network's classifier on labelled images: fixed seed and epochs, CPU.

Batches are ordered by the training loop's own generator seeded from ``recipe.seed`` (the
weights are initialised from the same seed by :func:`~.network.train_feature_network`): the
same recipe on the same data gives identical weights on the same machine and torch build
(another thread count or CPU may change the last bits of the convolutions' sums). This module
knows only the ``nn.Module`` it trains, not :class:`~.network.FeatureNetwork`, which uses it.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nolabel.errors import DataError
from nolabel.metrics._labels import check_labels
from nolabel.metrics.generation._images import check_images
from nolabel.metrics.generation.recipe import Recipe
from nolabel.train import Objective, TrainConfig, fit


def check_labelled(images: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Images (n, c, h, w) and labels 0..K-1 as tensors, with the number of classes K."""
    x = check_images(images)
    y = check_labels(labels, "labels")
    if len(y) != len(x):
        raise DataError(f"labels has {len(y)} values but images has {len(x)} samples")
    if y.min() < 0:
        raise DataError(f"labels must be class indices 0..K-1, got {int(y.min())}")
    n_classes = int(y.max()) + 1
    if n_classes < 2:
        raise DataError("labels hold a single class; a feature network needs at least two")
    return torch.from_numpy(x), torch.from_numpy(y), n_classes


def fit_classifier(module: nn.Module, x: torch.Tensor, y: torch.Tensor, recipe: Recipe, *,
                   dataset: str, verbose: int) -> float:
    """Train ``module`` (images -> class logits) on the cross-entropy; the seconds it took."""

    def cross_entropy(net: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return F.cross_entropy(net(batch[0]), batch[1])

    optimizer = torch.optim.Adam(module.parameters(), lr=recipe.lr)
    config = TrainConfig(epochs=recipe.epochs, batch_size=recipe.batch_size,
                         device=torch.device("cpu"), seed=recipe.seed, verbose=verbose,
                         description=f"feature network ({dataset})")
    start = time.perf_counter()
    fit(module, (x, y), [Objective("cross_entropy", cross_entropy, optimizer)], config)
    return time.perf_counter() - start
