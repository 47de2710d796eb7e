"""The one training loop, its checkpoints, optimizer construction and mixed precision."""

from nolabel.train.checkpoint import read_tensors, write_tensors
from nolabel.train.loop import (
    Callbacks,
    Objective,
    TrainConfig,
    TrainResult,
    fit,
    load_checkpoint,
    make_optimizer,
    read_checkpoint_meta,
    save_checkpoint,
)
from nolabel.train.precision import loss_scale, resolve_precision

__all__ = [
    "Callbacks",
    "Objective",
    "TrainConfig",
    "TrainResult",
    "fit",
    "load_checkpoint",
    "loss_scale",
    "make_optimizer",
    "read_checkpoint_meta",
    "read_tensors",
    "resolve_precision",
    "save_checkpoint",
    "write_tensors",
]
