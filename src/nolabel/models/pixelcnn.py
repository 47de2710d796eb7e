"""PixelCNN: an exact likelihood p(x) = Π_i p(x_i | x_<i), one pixel at a time in raster order.

Trained in parallel (every conditional in one masked forward pass); sampled sequentially.
``variant="masked"``: a 7x7 mask-A convolution, then residual blocks of 3x3 mask-B
convolutions (van den Oord et al. 2016a). ``variant="gated"``: vertical and horizontal stacks
with tanh x sigmoid gates, no blind spot (van den Oord et al. 2016b).

Sampling recomputes, for each pixel, only the last rows of the image that can reach it (the
network's vertical receptive field), not the whole image.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from nolabel._validation import Choice, Constraints
from nolabel.models.autoregressive import AutoregressiveImageModel
from nolabel.nets.masked import GatedLayer, MaskedConv2d
from nolabel.registry import register


class MaskedPixelCNN(nn.Module):
    def __init__(self, channels: int, n_layers: int, n_outputs: int) -> None:
        super().__init__()
        self.first = MaskedConv2d(1, channels, 7, "A")
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), MaskedConv2d(channels, channels, 3, "B"))
            for _ in range(n_layers)
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, n_outputs, 1))
        # rows above a pixel that can reach its output: 3 from the 7x7, 1 per 3x3 block
        self.context_rows = 3 + n_layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        for block in self.blocks:
            h = h + block(h)
        return self.head(h)


class GatedPixelCNN(nn.Module):
    def __init__(self, channels: int, n_layers: int, n_outputs: int, kernel_size: int = 3
                 ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(GatedLayer(channels, kernel_size if i else 7, i == 0)
                                    for i in range(n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, n_outputs, 1))
        # 3 rows from the first 7x7 vertical kernel, 1 from the shift into the horizontal
        # stack, kernel_size // 2 per later layer
        self.context_rows = 4 + (n_layers - 1) * (kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v, h = x, x
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)




@register("pixelcnn", "PixelCNN (masked or gated): exact log-likelihood, bits/dim, "
          "pixel-by-pixel sampling")
class PixelCNN(AutoregressiveImageModel):
    """Autoregressive image model with an exact likelihood, trained in parallel.

    Parameters
    ----------
    variant : ``"gated"`` (vertical + horizontal stacks, no blind spot) or ``"masked"``.
    likelihood : the pixels' observation model, ``"bernoulli"`` (binary images) or
        ``"categorical"`` (256 grey levels k/255).
    hidden_channels, n_layers : width (feature maps of every layer) and depth of the network.
    Other parameters as in :class:`~nolabel.AutoEncoder`.
    """

    _parameter_constraints: ClassVar[Constraints] = {"variant": Choice("gated", "masked")}

    def __init__(
        self,
        *,
        variant: str = "gated",
        likelihood: str = "bernoulli",
        hidden_channels: int = 64,
        n_layers: int = 7,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 20,
        batch_size: int = 64,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "32",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.variant = variant
        self.likelihood = likelihood
        self.hidden_channels = hidden_channels
        self.n_layers = n_layers
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.precision = precision
        self.grad_clip = grad_clip
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every

    def _build_network(self, n_outputs: int) -> nn.Module:
        network = GatedPixelCNN if self.variant == "gated" else MaskedPixelCNN
        return network(self.hidden_channels, self.n_layers, n_outputs)

    def _row_logits(self, images: torch.Tensor, row: int, cache: dict[str, Any]
                    ) -> torch.Tensor:
        top = max(0, row - self.module_.context_rows)
        window = self._network_input(images[:, :, top:row + 1])
        return self.module_(window)[:, :, -1]
