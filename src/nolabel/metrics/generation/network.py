"""The feature network: a small CNN classifier whose penultimate layer gives the features.

Its role is that of Inception in FID, for data where no pretrained network can be had: the
Fréchet distance and precision/recall are computed on its ``feature_dim`` ReLU features, and
its predicted classes tell which classes the samples cover.

Training (:func:`train_feature_network`) and the per-dataset cache
(:func:`build_feature_network`, behind ``FeatureNetwork.for_dataset``) live here with the
class, which they build: the training loop and the cache's paths and splits sit below, in
``training`` and ``cache``, and know nothing of this module.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nolabel._version import __version__
from nolabel.data.registry import get_dataset
from nolabel.errors import CheckpointError
from nolabel.metrics._labels import check_labels
from nolabel.metrics.generation._images import check_images
from nolabel.metrics.generation._verified import read_verified, sidecar_path, write_verified
from nolabel.metrics.generation.cache import default_recipe, feature_network_path, labelled_splits
from nolabel.metrics.generation.recipe import Recipe
from nolabel.metrics.generation.training import check_labelled, fit_classifier
from nolabel.nets.conv import ConvEncoder

logger = logging.getLogger(__name__)

_BATCH = 1024
_KIND = "feature-network"


class FeatureNet(nn.Module):
    """(n, c, h, w) -> class logits; ``features`` gives the penultimate ReLU layer."""

    def __init__(self, image_shape: Sequence[int], channels: Sequence[int], feature_dim: int,
                 n_classes: int) -> None:
        super().__init__()
        self.encoder = ConvEncoder(image_shape, channels, feature_dim)
        self.head = nn.Linear(feature_dim, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class FeatureNetwork:
    """A trained :class:`FeatureNet` with what it was trained on; runs on the CPU.

    ``dataset`` names the training data, ``test_accuracy`` is the accuracy on that dataset's
    test split when it was built by :func:`build_feature_network` (None otherwise).
    """

    def __init__(self, module: FeatureNet, *, image_shape: Sequence[int], n_classes: int,
                 recipe: Recipe, dataset: str = "data", test_accuracy: float | None = None,
                 train_seconds: float | None = None) -> None:
        self.module = module.eval()
        self.image_shape = tuple(int(s) for s in image_shape)
        self.n_classes = int(n_classes)
        self.recipe = recipe
        self.dataset = dataset
        self.test_accuracy = test_accuracy
        self.train_seconds = train_seconds

    @classmethod
    def for_dataset(cls, dataset: str, *, verbose: int = 1) -> FeatureNetwork:
        """The cached network of a named dataset, trained first if there is none yet."""
        return build_feature_network(dataset, verbose=verbose)

    @property
    def feature_dim(self) -> int:
        return self.recipe.feature_dim

    @torch.no_grad()
    def features_and_classes(self, images: Any) -> tuple[np.ndarray, np.ndarray]:
        """Features (n, feature_dim) float32 and predicted classes (n,) of images in [0, 1]."""
        x = torch.from_numpy(check_images(images, self.image_shape))
        features, classes = [], []
        for start in range(0, len(x), _BATCH):
            h = self.module.features(x[start:start + _BATCH])
            features.append(h)
            classes.append(self.module.head(h).argmax(dim=1))
        return torch.cat(features).numpy(), torch.cat(classes).numpy()

    def features(self, images: Any) -> np.ndarray:
        return self.features_and_classes(images)[0]

    def predict(self, images: Any) -> np.ndarray:
        return self.features_and_classes(images)[1]

    def accuracy(self, images: Any, labels: Any) -> float:
        return float(np.mean(self.predict(images) == check_labels(labels, "labels")))

    def _meta(self) -> dict[str, Any]:
        return {"kind": _KIND, "dataset": self.dataset, "image_shape": list(self.image_shape),
                "n_classes": self.n_classes, "recipe": self.recipe.to_dict(),
                "test_accuracy": self.test_accuracy, "train_seconds": self.train_seconds,
                "nolabel_version": __version__}

    def save(self, path: str | Path) -> Path:
        """Write the weights (safetensors, settings in its header) and a SHA-256 sidecar."""
        return write_verified(path, self.module.state_dict(), self._meta())

    @classmethod
    def load(cls, path: str | Path) -> FeatureNetwork:
        """Read a network written by :meth:`save`, after checking its SHA-256 sidecar."""
        path = Path(path)
        remedy = (f"re-create it with build_feature_network({path.stem!r}, force=True) "
                  "or train_feature_network(...).save(path)")
        tensors, meta = read_verified(path, remedy)
        if meta.get("kind") != _KIND:
            raise CheckpointError(f"{path} is not a feature network (kind {meta.get('kind')!r})")
        try:
            recipe = Recipe.from_dict(meta["recipe"])
            module = FeatureNet(meta["image_shape"], recipe.channels, recipe.feature_dim,
                                meta["n_classes"])
            module.load_state_dict(tensors)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path} does not hold a usable feature network: {exc}; "
                                  f"{remedy}") from exc
        return cls(module, image_shape=meta["image_shape"], n_classes=meta["n_classes"],
                   recipe=recipe, dataset=meta["dataset"], test_accuracy=meta["test_accuracy"],
                   train_seconds=meta["train_seconds"])


def train_feature_network(
    images: Any, labels: Any, recipe: Recipe | None = None, *, dataset: str = "data",
    verbose: int = 0,
) -> FeatureNetwork:
    """Train a :class:`FeatureNetwork` on images (n, c, h, w) in [0, 1] and labels 0..K-1.

    Weights are initialised from ``recipe.seed`` in a forked RNG, so the caller's global
    torch state is untouched.
    """
    recipe = Recipe() if recipe is None else recipe
    x, y, n_classes = check_labelled(images, labels)
    image_shape = tuple(x.shape[1:])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        module = FeatureNet(image_shape, recipe.channels, recipe.feature_dim, n_classes)
    seconds = fit_classifier(module, x, y, recipe, dataset=dataset, verbose=verbose)
    return FeatureNetwork(module, image_shape=image_shape, n_classes=n_classes, recipe=recipe,
                          dataset=dataset, train_seconds=seconds)


def build_feature_network(
    dataset: str, *, force: bool = False, recipe: Recipe | None = None, verbose: int = 1
) -> FeatureNetwork:
    """The cached feature network of a named dataset; trained (and cached) when needed.

    Trains when there is no cached network, when ``force``, or when the cached one was made
    with another recipe than ``recipe`` (default: :func:`~.cache.default_recipe`). A cached
    file that fails its SHA-256 check raises :class:`~nolabel.errors.ChecksumError`;
    ``force=True`` replaces it. Where the cache lives: :func:`~.cache.feature_network_path`.
    """
    name = get_dataset(dataset).name
    recipe = default_recipe(name) if recipe is None else recipe
    path = feature_network_path(name)
    if not force and path.is_file() and sidecar_path(path).is_file():
        network = FeatureNetwork.load(path)
        if network.recipe == recipe:
            return network
        logger.warning("the cached feature network %s was trained with %s; training it again "
                       "with %s", path, network.recipe, recipe)
    train, test = labelled_splits(name)
    logger.info("training the feature network of %s on %d images", name, train.n_samples)
    network = train_feature_network(train.X, train.y, recipe, dataset=name, verbose=verbose)
    network.test_accuracy = network.accuracy(test.X, test.y)
    network.save(path)
    return network
