"""Fully-connected autoencoder: encoder -> latent code -> decoder, trained to reconstruct.

Its four uses in nolabel: dimensionality reduction (``transform``), feature learning (codes
for a classifier or k-means), generation (``inverse_transform`` of codes) and anomaly
detection (``score_samples`` = minus the reconstruction error).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nolabel._validation import as_output, check_choice, check_int, check_tensor
from nolabel.errors import DataError
from nolabel.models.base import NeuralEstimator
from nolabel.nets import mlp
from nolabel.registry import register
from nolabel.train import Objective


class MLPAutoEncoder(nn.Module):
    def __init__(self, n_features: int, hidden_dims: Sequence[int], latent_dim: int,
                 activation: str) -> None:
        super().__init__()
        hidden = [int(h) for h in hidden_dims]
        self.encoder = mlp([n_features, *hidden, latent_dim], activation)
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features], activation)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (decoder output before the output nonlinearity, latent code)."""
        z = self.encoder(x)
        return self.decoder(z), z


def reconstruction_error(output: torch.Tensor, x: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-sample reconstruction error: mean squared error, or mean binary cross-entropy."""
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(output, x, reduction="none").mean(1)
    return ((output - x) ** 2).mean(1)


@register("autoencoder", "MLP autoencoder (MSE or BCE): codes, reconstructions, anomaly scores")
class AutoEncoder(NeuralEstimator):
    """Autoencoder with fully-connected encoder and mirrored decoder.

    Parameters
    ----------
    latent_dim : size of the code.
    hidden_dims : hidden layer sizes of the encoder (the decoder mirrors them).
    activation : ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"tanh"``, ``"gelu"``.
    loss : ``"mse"`` (linear output) or ``"bce"`` (sigmoid output; data must be in [0, 1]).
    optimizer, lr, weight_decay : ``"adam"`` or ``"sgd"`` (momentum 0.9) and its settings.
    epochs, batch_size : training length and mini-batch size.
    random_state : seeds weights and data order; the same seed on CPU gives identical weights.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...
    verbose : 0 silent, 1 progress bar on a terminal, 2 one line per epoch.
    checkpoint_path, checkpoint_every : write a resumable checkpoint every N epochs.
    """

    def __init__(
        self,
        latent_dim: int = 10,
        *,
        hidden_dims: Sequence[int] = (256, 128),
        activation: str = "relu",
        loss: str = "mse",
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 20,
        batch_size: int = 128,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every

    def _build_module(self, n_features: int) -> nn.Module:
        check_int("latent_dim", self.latent_dim)
        for index, size in enumerate(self.hidden_dims):
            check_int(f"hidden_dims[{index}]", size)
        check_choice("loss", self.loss, ("mse", "bce"))
        return MLPAutoEncoder(n_features, self.hidden_dims, self.latent_dim, self.activation)

    def _check_data(self, X: torch.Tensor) -> None:
        if self.loss == "bce":
            low, high = float(X.min()), float(X.max())
            if low < 0.0 or high > 1.0:
                raise DataError(
                    f"loss='bce' needs X in [0, 1] but X spans [{low:.4g}, {high:.4g}]; "
                    "rescale it (nolabel.data.minmax_scale) or use loss='mse'"
                )

    def _objectives(self, module: nn.Module) -> list[Objective]:
        loss_name = self.loss

        def reconstruction(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
            output, _ = model(batch[0])
            return reconstruction_error(output, batch[0], loss_name).mean()

        return [Objective("reconstruction", reconstruction,
                          self._make_optimizer(module.parameters()))]

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        output = self.module_.decoder(z)
        return torch.sigmoid(output) if self.loss == "bce" else output

    def transform(self, X):
        """Latent codes, shape (n_samples, latent_dim)."""
        data = self._input(X)
        return as_output(self._batched(self.module_.encoder, data), X)

    def inverse_transform(self, Z):
        """Decode latent codes into data space, shaped like the training samples."""
        check_int("latent_dim", self.latent_dim)
        self._input(torch.zeros(1, self.n_features_in_))  # raises if not fitted
        device = next(self.module_.parameters()).device
        codes = check_tensor(Z, device=device, name="Z", allow_nd=False)
        if codes.shape[1] != self.latent_dim:
            raise DataError(f"Z has {codes.shape[1]} columns but latent_dim is {self.latent_dim}")
        decoded = self._batched(self._decode, codes)
        return as_output(decoded.reshape(len(codes), *self.sample_shape_), Z)

    def reconstruct(self, X):
        """Encode then decode ``X``; same shape as ``X``."""
        data = self._input(X)
        decoded = self._batched(lambda x: self._decode(self.module_.encoder(x)), data)
        return as_output(decoded.reshape(len(data), *self.sample_shape_), X)

    def score_samples(self, X):
        """Minus each sample's reconstruction error: higher means more normal. Deterministic."""
        data = self._input(X)
        errors = self._batched(
            lambda x: reconstruction_error(self.module_(x)[0], x, self.loss), data
        )
        return as_output(-errors, X)
