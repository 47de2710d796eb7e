"""Trainer settings that are not model hyper-parameters: precision and gradient clipping.

They change how a model is trained on given hardware, not what the model is, so they live
beside the estimators (like a trainer's settings) rather than in every ``__init__``::

    with nolabel.train.options(precision="bf16", grad_clip=1.0):
        nolabel.VAE(epochs=20).fit(X)
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch

from nolabel.errors import ParameterError

PRECISIONS = {"32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class TrainOptions:
    precision: str = "32"
    grad_clip: float | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ParameterError(
                f"precision={self.precision!r} is not one of {', '.join(PRECISIONS)}"
            )
        if self.grad_clip is not None and not (
            isinstance(self.grad_clip, int | float) and math.isfinite(self.grad_clip)
            and self.grad_clip > 0
        ):
            raise ParameterError(
                f"grad_clip={self.grad_clip!r} must be a positive number (the largest gradient "
                "norm allowed) or None"
            )


_DEFAULT = TrainOptions()
_CURRENT: contextvars.ContextVar[TrainOptions | None] = contextvars.ContextVar(
    "nolabel_train_options", default=None
)


def current_options() -> TrainOptions:
    return _CURRENT.get() or _DEFAULT


@contextmanager
def options(**changes) -> Iterator[TrainOptions]:
    """Train with ``precision`` ("32", "bf16", "fp16") and/or ``grad_clip`` (max norm)."""
    unknown = set(changes) - {"precision", "grad_clip"}
    if unknown:
        raise ParameterError(f"unknown training option(s) {sorted(unknown)}; "
                             "known: precision, grad_clip")
    token = _CURRENT.set(replace(current_options(), **changes))
    try:
        yield current_options()
    finally:
        _CURRENT.reset(token)
