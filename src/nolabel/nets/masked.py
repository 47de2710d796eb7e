"""Masked convolutions for autoregressive image models (PixelCNN, van den Oord et al. 2016).

Pixels are ordered row by row (raster order). Mask ``"A"`` lets an output see only the pixels
strictly before it; mask ``"B"`` also the same position (used after the first layer, whose
features at a position already depend only on earlier pixels).

The gated variant splits the receptive field into a vertical stack (every row above, all
columns) and a horizontal stack (the current row, to the left), which removes the blind spot
of stacked masked 3x3 convolutions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskedConv2d(nn.Conv2d):
    """A ``k x k`` convolution (odd ``k``) that only sees earlier pixels in raster order."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 mask_type: str) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        centre = kernel_size // 2
        mask = torch.ones_like(self.weight)
        mask[:, :, centre, centre + (mask_type == "B"):] = 0
        mask[:, :, centre + 1:] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class _RowMaskedConv(nn.Conv2d):
    """Shared mask mechanics for the two stacks of the gated PixelCNN."""

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int],
                 mask: torch.Tensor) -> None:
        super().__init__(in_channels, out_channels, kernel,
                         padding=(kernel[0] // 2, kernel[1] // 2))
        self.register_buffer("mask", mask.expand_as(self.weight).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def vertical_conv(in_channels: int, out_channels: int, kernel_size: int) -> nn.Conv2d:
    """``k x k`` convolution seeing rows up to and including the current one (all columns).

    Its output is shifted down one row before it feeds the horizontal stack, so that stack
    only ever receives rows strictly above.
    """
    mask = torch.zeros(kernel_size, kernel_size)
    mask[: kernel_size // 2 + 1] = 1
    return _RowMaskedConv(in_channels, out_channels, (kernel_size, kernel_size), mask)


def horizontal_conv(in_channels: int, out_channels: int, kernel_size: int,
                    mask_type: str) -> nn.Conv2d:
    """``1 x k`` convolution on the current row: left of the pixel (A), or up to it (B)."""
    mask = torch.zeros(1, kernel_size)
    mask[0, : kernel_size // 2 + (mask_type == "B")] = 1
    return _RowMaskedConv(in_channels, out_channels, (1, kernel_size), mask)


def shift_down(x: torch.Tensor) -> torch.Tensor:
    """Move every row down by one (the top row becomes zeros)."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


def gate(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One gated PixelCNN layer: (vertical, horizontal) -> (vertical, horizontal)."""

    def __init__(self, channels: int, kernel_size: int, first: bool) -> None:
        super().__init__()
        in_channels = 1 if first else channels
        self.first = first
        self.vertical = vertical_conv(in_channels, 2 * channels, kernel_size)
        self.horizontal = horizontal_conv(in_channels, 2 * channels, kernel_size,
                                          "A" if first else "B")
        self.link = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v_features = self.vertical(v)
        h_features = self.horizontal(h) + self.link(shift_down(v_features))
        h_out = self.out(gate(h_features))
        return gate(v_features), h_out if self.first else h + h_out
