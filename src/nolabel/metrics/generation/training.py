"""Training a feature network on labelled images: fixed seed, fixed epochs, on the CPU.

Weights are initialised from ``recipe.seed`` (in a forked RNG, so the caller's global torch
state is untouched) and batches ordered by the training loop's own generator from the same
seed: the same recipe on the same data gives identical weights on the same machine and torch
build (another thread count or CPU may change the last bits of the convolutions' sums).
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F

from nolabel.errors import DataError
from nolabel.metrics._labels import check_labels
from nolabel.metrics.generation._images import check_images
from nolabel.metrics.generation.network import FeatureNet, FeatureNetwork
from nolabel.metrics.generation.recipe import Recipe
from nolabel.train import Objective, TrainConfig, fit


def _check_labelled(images: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor, int]:
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


def train_feature_network(
    images: Any, labels: Any, recipe: Recipe | None = None, *, dataset: str = "data",
    verbose: int = 0,
) -> FeatureNetwork:
    """Train a :class:`FeatureNetwork` on images (n, c, h, w) in [0, 1] and labels 0..K-1."""
    recipe = Recipe() if recipe is None else recipe
    x, y, n_classes = _check_labelled(images, labels)
    image_shape = tuple(x.shape[1:])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        module = FeatureNet(image_shape, recipe.channels, recipe.feature_dim, n_classes)

    def cross_entropy(net: FeatureNet, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return F.cross_entropy(net(batch[0]), batch[1])

    optimizer = torch.optim.Adam(module.parameters(), lr=recipe.lr)
    config = TrainConfig(epochs=recipe.epochs, batch_size=recipe.batch_size,
                         device=torch.device("cpu"), seed=recipe.seed, verbose=verbose,
                         description=f"feature network ({dataset})")
    start = time.perf_counter()
    fit(module, (x, y), [Objective("cross_entropy", cross_entropy, optimizer)], config)
    return FeatureNetwork(module, image_shape=image_shape, n_classes=n_classes, recipe=recipe,
                          dataset=dataset, train_seconds=time.perf_counter() - start)
