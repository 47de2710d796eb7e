"""InfoGAN's MNIST networks (Chen et al. 2016, appendix C, Table 1), for any image size.

Checked against the paper and its reference code (github.com/openai/InfoGAN,
``infogan/models/regularized_gan.py``, network type "mnist"):

- D: 4x4 convolution, 64 channels, stride 2, LeakyReLU; 4x4 convolution, 128, stride 2,
  batch norm, LeakyReLU; fully connected 1024, batch norm, LeakyReLU; fully connected to
  the output (1 logit). LeakyReLU slope 0.1 as the paper's text says (its code's default
  was 0.01).
- Q (on D's 1024 features): fully connected 128, batch norm, LeakyReLU; fully connected to
  the code parameters.
- G: fully connected 1024, batch norm, ReLU; fully connected 7x7x128 (for 28x28), batch
  norm, ReLU; 4x4 transposed convolution, 64, stride 2, batch norm, ReLU; 4x4 transposed
  convolution to the image channels, stride 2; sigmoid (the Bernoulli means).

Generalised: the convolution stages follow ``channels`` ((64, 128) is the paper's); each
halves height and width, so sizes that are not a multiple of ``2 ** len(channels)`` are
zero-padded inside D and cropped from G (as the DCGAN networks do): 8x8 digits go 8 -> 4 -> 2.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nolabel.nets.conv import padded_size

LEAK = 0.1


def _base(height: int, width: int, stages: int) -> tuple[int, int]:
    return padded_size(height, stages) >> stages, padded_size(width, stages) >> stages


class InfoGANDiscriminator(nn.Module):
    """image -> convolutions -> 1024 features (``features``) -> ``outputs`` logits."""

    def __init__(self, image_shape: Sequence[int], channels: Sequence[int] = (64, 128),
                 hidden: int = 1024, outputs: int = 1) -> None:
        super().__init__()
        in_channels, height, width = (int(s) for s in image_shape)
        stages = len(channels)
        self.extra = (padded_size(width, stages) - width, padded_size(height, stages) - height)
        layers: list[nn.Module] = []
        for index, (fan_in, fan_out) in enumerate(zip((in_channels, *channels[:-1]), channels,
                                                      strict=True)):
            layers.append(nn.Conv2d(int(fan_in), int(fan_out), 4, stride=2, padding=1,
                                    bias=index == 0))
            if index > 0:  # the paper has no batch norm after the first convolution
                layers.append(nn.BatchNorm2d(int(fan_out)))
            layers.append(nn.LeakyReLU(LEAK))
        base = _base(height, width, stages)
        self.convs = nn.Sequential(*layers, nn.Flatten())
        self.dense = nn.Sequential(
            nn.Linear(int(channels[-1]) * base[0] * base[1], int(hidden), bias=False),
            nn.BatchNorm1d(int(hidden)), nn.LeakyReLU(LEAK))
        self.linear = nn.Linear(int(hidden), outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 1024-unit layer (after batch norm and LeakyReLU), the input of ``linear``."""
        if any(self.extra):
            x = F.pad(x, (0, self.extra[0], 0, self.extra[1]))
        return self.dense(self.convs(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


def q_head(in_features: int, outputs: int, hidden: int = 128) -> nn.Sequential:
    """InfoGAN's Q on D's features: linear 128, batch norm, LeakyReLU, linear ``outputs``."""
    return nn.Sequential(nn.Linear(int(in_features), int(hidden), bias=False),
                         nn.BatchNorm1d(int(hidden)), nn.LeakyReLU(LEAK),
                         nn.Linear(int(hidden), int(outputs)))


class InfoGANGenerator(nn.Module):
    """code -> 1024 -> (channels[-1], h / 2^s, w / 2^s) -> transposed convolutions -> image
    in [0, 1] (sigmoid), cropped to ``image_shape``."""

    def __init__(self, inputs: int, image_shape: Sequence[int],
                 channels: Sequence[int] = (64, 128), hidden: int = 1024) -> None:
        super().__init__()
        out_channels, height, width = (int(s) for s in image_shape)
        self.height, self.width = height, width
        wide = [int(c) for c in reversed(channels)]
        base = _base(height, width, len(channels))
        size = wide[0] * base[0] * base[1]
        self.project = nn.Sequential(
            nn.Linear(int(inputs), int(hidden), bias=False), nn.BatchNorm1d(int(hidden)),
            nn.ReLU(), nn.Linear(int(hidden), size, bias=False), nn.BatchNorm1d(size),
            nn.ReLU(), nn.Unflatten(1, (wide[0], *base)))
        layers: list[nn.Module] = []
        for fan_in, fan_out in itertools.pairwise(wide):
            layers += [nn.ConvTranspose2d(fan_in, fan_out, 4, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(fan_out), nn.ReLU()]
        layers.append(nn.ConvTranspose2d(wide[-1], out_channels, 4, stride=2, padding=1))
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        images = torch.sigmoid(self.deconvs(self.project(z)))
        return images[:, :, : self.height, : self.width]
