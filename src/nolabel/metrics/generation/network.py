"""The feature network: a small CNN classifier whose penultimate layer gives the features.

Its role is that of Inception in FID, for data where no pretrained network can be had: the
Fréchet distance and precision/recall are computed on its ``feature_dim`` ReLU features, and
its predicted classes tell which classes the samples cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nolabel.errors import CheckpointError
from nolabel.metrics._labels import check_labels
from nolabel.metrics.generation._images import check_images
from nolabel.metrics.generation._verified import read_verified, write_verified
from nolabel.metrics.generation.recipe import Recipe
from nolabel.nets.conv import ConvEncoder

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
        # Imported here: the cache module builds FeatureNetwork objects itself.
        from nolabel.metrics.generation.cache import build_feature_network

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
        from nolabel import __version__

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
