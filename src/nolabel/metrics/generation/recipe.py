"""How a feature network is built and trained: every setting that changes its weights."""

from __future__ import annotations

import dataclasses
from typing import Any

from nolabel._validation import check_float, check_int
from nolabel.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Architecture and training settings of a feature network.

    Two strided 4x4 convolutions (``channels``), a ReLU feature layer of ``feature_dim``
    units, and a linear classifier head; Adam with learning rate ``lr`` on the cross-entropy,
    ``epochs`` passes over the training split in mini-batches of ``batch_size``, weights and
    batch order drawn from ``seed``.
    """

    channels: tuple[int, ...] = (32, 64)
    feature_dim: int = 128
    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        channels = tuple(self.channels)
        if not channels:
            raise ParameterError("channels is empty; give at least one convolution width")
        object.__setattr__(self, "channels",
                           tuple(check_int("channels", c) for c in channels))
        check_int("feature_dim", self.feature_dim)
        check_int("epochs", self.epochs)
        check_int("batch_size", self.batch_size)
        check_float("lr", self.lr, minimum=0.0, strict=True)
        check_int("seed", self.seed, minimum=0)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Recipe:
        return cls(**{**values, "channels": tuple(values["channels"])})
