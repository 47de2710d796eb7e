"""Mixed precision for the training loop: autocast to bf16/fp16, loss scaling for fp16."""

from __future__ import annotations

import contextlib

import torch

from nolabel.train.options import PRECISIONS


def _parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


class Precision:
    """``autocast()`` around the forward pass, then ``backward`` and ``step`` (with optional
    gradient-norm clipping). fp16 scales the loss, one scaler per optimizer."""

    def __init__(self, precision: str, device: torch.device) -> None:
        self.dtype = PRECISIONS[precision]
        self.device_type = device.type
        self.scaled = precision == "fp16"
        self._scalers: dict[int, torch.amp.GradScaler] = {}

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

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
