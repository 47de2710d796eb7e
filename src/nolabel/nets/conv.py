"""Convolutional encoder and decoder for images of any channel count and size.

Each encoder stage is a 4x4 convolution of stride 2 (halving height and width), so the input
is zero-padded up to a multiple of ``2 ** len(channels)`` first (28 -> 28 for two stages, 32 for
three) and the decoder crops its output back. 28x28 and 32x32 need no padding with two stages.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nolabel.nets.mlp import activation


def padded_size(size: int, stages: int) -> int:
    """``size`` rounded up to a multiple of ``2 ** stages`` (what ``stages`` halvings need)."""
    step = 2**stages
    return -(-size // step) * step


class ConvEncoder(nn.Module):
    """(n, c, h, w) -> (n, out_dim): strided convolutions, then one linear layer."""

    def __init__(self, image_shape: Sequence[int], channels: Sequence[int], out_dim: int,
                 activation_name: str = "relu", batch_norm: bool = False) -> None:
        super().__init__()
        in_channels, height, width = (int(s) for s in image_shape)
        stages = len(channels)
        self.height, self.width = height, width
        self.padded = (padded_size(height, stages), padded_size(width, stages))
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip((in_channels, *channels[:-1]), channels, strict=True):
            layers.append(nn.Conv2d(fan_in, fan_out, 4, stride=2, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(fan_out))
            layers.append(activation(activation_name))
        self.convs = nn.Sequential(*layers)
        self.feature_shape = (int(channels[-1]), self.padded[0] >> stages, self.padded[1] >> stages)
        self.linear = nn.Linear(self.feature_shape[0] * self.feature_shape[1]
                                * self.feature_shape[2], out_dim)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        extra_h, extra_w = self.padded[0] - self.height, self.padded[1] - self.width
        if extra_h or extra_w:
            x = F.pad(x, (0, extra_w, 0, extra_h))
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolution stage's output, flattened (before the linear layer)."""
        return self.convs(self.pad(x)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


class ConvDecoder(nn.Module):
    """(n, in_dim) -> (n, c, h, w): one linear layer, then strided transposed convolutions.

    Mirrors :class:`ConvEncoder` built with the same ``image_shape`` and ``channels``; no
    activation after the last layer (the model picks its output nonlinearity).
    """

    def __init__(self, in_dim: int, image_shape: Sequence[int], channels: Sequence[int],
                 activation_name: str = "relu", batch_norm: bool = False) -> None:
        super().__init__()
        out_channels, height, width = (int(s) for s in image_shape)
        stages = len(channels)
        self.height, self.width = height, width
        padded = (padded_size(height, stages), padded_size(width, stages))
        self.feature_shape = (int(channels[-1]), padded[0] >> stages, padded[1] >> stages)
        self.linear = nn.Linear(in_dim, self.feature_shape[0] * self.feature_shape[1]
                                * self.feature_shape[2])
        self.first_activation = activation(activation_name)
        reversed_channels = list(reversed(channels))
        layers: list[nn.Module] = []
        targets = (*reversed_channels[1:], out_channels)
        for index, (fan_in, fan_out) in enumerate(zip(reversed_channels, targets, strict=True)):
            layers.append(nn.ConvTranspose2d(fan_in, fan_out, 4, stride=2, padding=1))
            if index < stages - 1:
                if batch_norm:
                    layers.append(nn.BatchNorm2d(fan_out))
                layers.append(activation(activation_name))
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.first_activation(self.linear(z)).view(len(z), *self.feature_shape)
        return self.deconvs(h)[:, :, : self.height, : self.width]


class PooledConvEncoder(nn.Module):
    """(n, c, h, w) -> (n, channels[-1]): 3x3 convolutions with batch norm and ReLU, a 2x2
    max-pool before each block after the first (while the image is at least 2 pixels on a
    side), then a global average. Pooling, not a linear layer on the flattened map, gives the
    small shift invariance a contrastive encoder is trained for, at any image size."""

    def __init__(self, image_shape: Sequence[int], channels: Sequence[int]) -> None:
        super().__init__()
        in_channels, height, width = (int(s) for s in image_shape)
        layers: list[nn.Module] = []
        for index, (fan_in, fan_out) in enumerate(
                zip((in_channels, *channels[:-1]), channels, strict=True)):
            if index and min(height, width) >= 2:
                layers.append(nn.MaxPool2d(2))
                height, width = height // 2, width // 2
            layers += [nn.Conv2d(fan_in, int(fan_out), 3, padding=1),
                       nn.BatchNorm2d(int(fan_out)), nn.ReLU()]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
