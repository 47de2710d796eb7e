"""The one training loop, its checkpoints, optimizer construction and trainer options."""

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
from nolabel.train.options import current_options, options

__all__ = [
    "Objective",
    "TrainConfig",
    "TrainResult",
    "current_options",
    "fit",
    "load_checkpoint",
    "make_optimizer",
    "options",
    "read_tensors",
    "save_checkpoint",
    "write_tensors",
]
