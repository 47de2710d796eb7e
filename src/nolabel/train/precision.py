"""Mixed precision for the training loop: autocast to bf16/fp16, loss scaling for fp16.

``precision`` is an estimator hyper-parameter: ``"32"``, ``"bf16"``, ``"fp16"`` or ``"auto"``.
``"auto"`` is bf16 where the hardware multiplies bf16 natively (CUDA GPUs that support it;
CPUs with AVX-512 BF16 or AMX, where a bf16 matrix product runs about 4x faster than
float32) and float32 elsewhere. fp16 is never chosen automatically: on CPUs without fp16
units it is tens of times slower than float32.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Iterator
from pathlib import Path

import torch

from nolabel.errors import ParameterError

PRECISIONS = {"32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
CHOICES = ("auto", *PRECISIONS)

_LOSS_SCALE: contextvars.ContextVar[float] = contextvars.ContextVar("loss_scale", default=1.0)


def check_precision(precision: object) -> str:
    if precision not in CHOICES:
        raise ParameterError(f"precision={precision!r} is not one of {', '.join(CHOICES)}")
    return str(precision)


def check_grad_clip(grad_clip: object) -> None:
    if grad_clip is not None and not (
        isinstance(grad_clip, int | float) and not isinstance(grad_clip, bool)
        and math.isfinite(grad_clip) and grad_clip > 0
    ):
        raise ParameterError(f"grad_clip={grad_clip!r} must be a positive number (the largest "
                             "gradient norm allowed) or None")


@functools.cache
def cpu_has_bf16() -> bool:
    """True when this CPU has native bf16 arithmetic (AVX-512 BF16 or AMX-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision ``"auto"`` stands for on ``device``; the others as given."""
    check_precision(precision)
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "32"
    if device.type == "cpu":
        return "bf16" if cpu_has_bf16() else "32"
    return "32"


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast to ``precision`` on ``device`` (nothing for float32), for passes over the data
    inside training that feed it (DEC's target updates): the arithmetic of the training steps,
    at their speed."""
    dtype = PRECISIONS[resolve_precision(precision, device)]
    return (torch.autocast(device.type, dtype=dtype) if dtype is not None
            else contextlib.nullcontext())


def loss_scale() -> float:
    """The fp16 loss scale of the step being run (1 otherwise). Losses that differentiate
    inside themselves (WGAN-GP's gradient penalty) scale that inner gradient by it and
    divide it back, so that it does not underflow in fp16 (PyTorch's AMP recipe)."""
    return _LOSS_SCALE.get()


def _parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


class Precision:
    """``autocast()`` around the forward pass, then ``backward`` and ``step`` (with optional
    gradient-norm clipping). fp16 scales the loss, one scaler per optimizer."""

    def __init__(self, precision: str, device: torch.device) -> None:
        precision = resolve_precision(precision, device)
        self.dtype = PRECISIONS[precision]
        self.device_type = device.type
        self.scaled = precision == "fp16"
        self._scalers: dict[int, torch.amp.GradScaler] = {}

    @contextlib.contextmanager
    def autocast(self, optimizer: torch.optim.Optimizer) -> Iterator[None]:
        if self.dtype is None:
            yield
            return
        scale = float(self._scaler(optimizer).get_scale()) if self.scaled else 1.0
        token = _LOSS_SCALE.set(scale)
        try:
            with torch.autocast(self.device_type, dtype=self.dtype):
                yield
        finally:
            _LOSS_SCALE.reset(token)

    def _scaler(self, optimizer: torch.optim.Optimizer) -> torch.amp.GradScaler:
        key = id(optimizer)
        if key not in self._scalers:
            self._scalers[key] = torch.amp.GradScaler(self.device_type)
        return self._scalers[key]

    def backward(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        (self._scaler(optimizer).scale(loss) if self.scaled else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer, grad_clip: float | None) -> None:
        if not self.scaled:
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(_parameters(optimizer), grad_clip)
            optimizer.step()
            return
        scaler = self._scaler(optimizer)
        if grad_clip is not None:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(_parameters(optimizer), grad_clip)
        scaler.step(optimizer)
        scaler.update()
