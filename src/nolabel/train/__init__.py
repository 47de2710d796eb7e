"""The one training loop, its checkpoints, and optimizer construction."""

from nolabel.train.checkpoint import read_tensors, write_tensors
from nolabel.train.loop import (
    Objective,
    TrainConfig,
    TrainResult,
    fit,
    load_checkpoint,
    make_optimizer,
    save_checkpoint,
)

__all__ = [
    "Objective",
    "TrainConfig",
    "TrainResult",
    "fit",
    "load_checkpoint",
    "make_optimizer",
    "read_tensors",
    "save_checkpoint",
    "write_tensors",
]
