"""Fully-connected blocks shared by every model."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from nolabel.errors import ParameterError

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
}


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ParameterError(
            f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; got {name!r}"
        )
    return ACTIVATIONS[name]()


def mlp(sizes: Sequence[int], activation_name: str = "relu") -> nn.Sequential:
    """Linear layers through ``sizes`` with an activation between them (none after the last)."""
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(sizes) - 2:
            layers.append(activation(activation_name))
    return nn.Sequential(*layers)


def run_with_hidden(net: nn.Sequential, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run an :func:`mlp` and also return each hidden layer's output (after its activation)."""
    hidden = []
    for layer in net:
        x = layer(x)
        if not isinstance(layer, nn.Linear):
            hidden.append(x)
    return x, hidden
