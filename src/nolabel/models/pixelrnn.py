"""PixelRNN with Row LSTM layers (van den Oord et al. 2016a): the same exact likelihood as
PixelCNN, but the context above a pixel is carried down the image by an LSTM, one row at a
time, so training is sequential over rows.

A 7x7 mask-A convolution feeds a stack of Row LSTM layers with residual connections, then two
1x1 convolutions give the per-pixel logits. In a Row LSTM layer the input-to-state part is a
1 x k convolution masked to the current row's pixels up to the current one (computed for the
whole image at once); the state-to-state part is a 1-D convolution over the previous row's
hidden state (k columns), so row r's state sees a triangle of the rows above.

Sampling keeps each layer's state of the finished rows, so a pixel costs one row step per
layer instead of a pass over the image.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nolabel.models.autoregressive import AutoregressiveImageModel
from nolabel.nets.masked import MaskedConv2d, horizontal_conv
from nolabel.registry import register

State = tuple[torch.Tensor, torch.Tensor]


class RowLSTM(nn.Module):
    """One Row LSTM layer on ``(n, channels, height, width)`` features, residual output."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.input_to_state = horizontal_conv(channels, 4 * channels, kernel_size, "B")
        self.state_to_state = nn.Conv1d(channels, 4 * channels, kernel_size,
                                        padding=kernel_size // 2)

    def initial_state(self, x_row: torch.Tensor) -> State:
        zeros = torch.zeros(x_row.shape[0], self.state_to_state.in_channels, x_row.shape[-1],
                            device=x_row.device, dtype=x_row.dtype)
        return zeros, zeros

    def cell(self, input_gates: torch.Tensor, state: State) -> State:
        """One row: ``input_gates`` (n, 4c, width) plus the previous row's state."""
        hidden, memory = state
        gates = input_gates + self.state_to_state(hidden)
        output, forget, write, candidate = gates.chunk(4, dim=1)
        memory = torch.sigmoid(forget) * memory + torch.sigmoid(write) * torch.tanh(candidate)
        return torch.sigmoid(output) * torch.tanh(memory), memory

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        input_gates = self.input_to_state(x)
        state = self.initial_state(x[:, :, 0])
        rows = []
        for row in range(x.shape[2]):
            state = self.cell(input_gates[:, :, row], state)
            rows.append(state[0])
        return x + torch.stack(rows, dim=2)

    def step(self, x_row: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """The layer on a single row ``(n, channels, 1, width)`` given the row above's state."""
        state = self.cell(self.input_to_state(x_row)[:, :, 0], state)
        return x_row + state[0].unsqueeze(2), state


class RowLSTMNetwork(nn.Module):
    def __init__(self, channels: int, n_layers: int, n_outputs: int, kernel_size: int = 3
                 ) -> None:
        super().__init__()
        self.first = MaskedConv2d(1, channels, 7, "A")
        self.layers = nn.ModuleList(RowLSTM(channels, kernel_size) for _ in range(n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(),
                                  nn.Conv2d(channels, n_outputs, 1))
        self.first_context_rows = 3  # rows above a pixel that the 7x7 first layer reads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        for layer in self.layers:
            h = layer(h)
        return self.head(h)

    def step(self, window: torch.Tensor, states: list[State] | None
             ) -> tuple[torch.Tensor, list[State]]:
        """Logits ``(n, n_outputs, width)`` of the last row of ``window`` (which holds at
        least ``first_context_rows`` rows above it) and every layer's new state."""
        h = self.first(window)[:, :, -1:]
        if states is None:
            states = [layer.initial_state(h[:, :, 0]) for layer in self.layers]
        new_states = []
        for layer, state in zip(self.layers, states, strict=True):
            h, state = layer.step(h, state)
            new_states.append(state)
        return self.head(h)[:, :, 0], new_states


@register("pixelrnn", "PixelRNN (Row LSTM): exact log-likelihood, bits/dim, pixel-by-pixel "
          "sampling; trained row by row")
class PixelRNN(AutoregressiveImageModel):
    """Autoregressive image model with an exact likelihood and a recurrent context.

    Parameters
    ----------
    likelihood : the pixels' observation model, ``"bernoulli"`` (binary images) or
        ``"categorical"`` (256 grey levels k/255).
    channels : LSTM state size (and width of the convolutions).
    n_layers : number of Row LSTM layers.
    Other parameters as in :class:`~nolabel.AutoEncoder`.
    """

    def __init__(
        self,
        *,
        likelihood: str = "bernoulli",
        hidden_channels: int = 64,
        n_layers: int = 3,
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
        return RowLSTMNetwork(self.hidden_channels, self.n_layers, n_outputs)

    def _window(self, images: torch.Tensor, row: int) -> torch.Tensor:
        top = max(0, row - self.module_.first_context_rows)
        return self._network_input(images[:, :, top:row + 1])

    def _row_logits(self, images: torch.Tensor, row: int, cache: dict[str, Any]
                    ) -> torch.Tensor:
        logits, _ = self.module_.step(self._window(images, row), cache.get("states"))
        return logits

    def _row_done(self, images: torch.Tensor, row: int, cache: dict[str, Any]) -> None:
        _, cache["states"] = self.module_.step(self._window(images, row), cache.get("states"))
