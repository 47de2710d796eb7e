"""Autoencoders: encoder -> latent code -> decoder, trained to reconstruct their input.

Four uses in nolabel: dimensionality reduction (``transform``), feature learning (codes for a
classifier or k-means), generation (``inverse_transform`` of codes) and anomaly detection
(``score_samples`` = minus the reconstruction error, deterministic).

- :class:`AutoEncoder`: fully-connected, for vectors (images are flattened).
- :class:`ConvAutoEncoder`: convolutional, for images of any channel count and size.
- :class:`DeepAutoEncoder`: fully-connected, with a layer-wise reconstruction term.

Every one of them is a denoising autoencoder when ``noise`` is set: training inputs are
corrupted by Gaussian noise or by masking (zeroing a random fraction of the values), the
target stays the clean input; inference never adds noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nolabel._validation import (
    Bool,
    Choice,
    Constraints,
    Float,
    Int,
    OneOf,
    Optional,
    Sizes,
    as_output,
    check_is_fitted,
    check_tensor,
)
from nolabel.errors import DataError
from nolabel.models.base import NeuralEstimator, NeuralTransformer, Phase, augmented
from nolabel.nets import ConvDecoder, ConvEncoder, mlp, run_with_hidden
from nolabel.nets.mlp import ACTIVATIONS
from nolabel.nets.neighbours import neighbour_table, with_neighbour_term, without_codes
from nolabel.registry import register
from nolabel.train import Objective

NOISES = (None, "gaussian", "masking")

# Below this many features the sizes left to the model (``None``/``"auto"``) are table-sized;
# from it on (images such as 8x8 digits and larger, embeddings) those of the image benchmarks.
IMAGE_FEATURES = 64


def resolve_network(model, n_features: int, table: bool, table_hidden: tuple[int, ...],
                    image_hidden: tuple[int, ...]) -> None:
    """Set ``model.latent_dim_``, ``hidden_dims_`` and ``activation_``: the parameters as
    given, or where left to the model (``None``/``"auto"``) table- or image-sized. A table's
    code is a quarter of the features, at least 2 and below ``n_features`` (a code as wide as
    the input could copy it, and an autoencoder that copies its input flags nothing)."""
    code = max(1, min(n_features - 1, max(2, n_features // 4))) if table else 10
    model.latent_dim_ = int(model.latent_dim if model.latent_dim is not None else code)
    model.hidden_dims_ = tuple(int(h) for h in np.atleast_1d(
        model.hidden_dims if model.hidden_dims is not None
        else table_hidden if table else image_hidden))
    model.activation_ = (model.activation if model.activation != "auto"
                         else "tanh" if table else "relu")


# -- losses ---------------------------------------------------------------------------------
def corrupt(x: torch.Tensor, noise: str | None, level: float) -> torch.Tensor:
    """Gaussian noise of standard deviation ``level``, or masking of a ``level`` fraction."""
    if noise == "gaussian":
        return x + level * torch.randn_like(x)
    if noise == "masking":
        return x * (torch.rand_like(x) >= level)
    return x


def reconstruction_error(output: torch.Tensor, x: torch.Tensor, likelihood: str
                         ) -> torch.Tensor:
    """Per-sample reconstruction error of the decoder output, mean over features: the
    negative log-likelihood of the observation model up to constants. ``"bernoulli"``:
    cross-entropy of the output logits; ``"gaussian"``: squared error (unit variance)."""
    if likelihood == "bernoulli":
        return F.binary_cross_entropy_with_logits(output, x, reduction="none").flatten(1).mean(1)
    return ((output - x) ** 2).flatten(1).mean(1)


def layerwise_error(encoder_hidden: Sequence[torch.Tensor],
                    decoder_hidden: Sequence[torch.Tensor]) -> torch.Tensor:
    """Per-sample ``sum_l mean((h_l - ĥ_l)²)``; ``decoder_hidden`` runs in mirror order."""
    pairs = zip(encoder_hidden, reversed(decoder_hidden), strict=True)
    return sum(((h - mirror) ** 2).mean(1) for h, mirror in pairs)


# -- networks -------------------------------------------------------------------------------
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

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder[:-1](x) if len(self.encoder) > 1 else x

    def forward_hidden(self, x: torch.Tensor):
        """(output, code, encoder hidden layers, decoder hidden layers)."""
        z, encoder_hidden = run_with_hidden(self.encoder, x)
        output, decoder_hidden = run_with_hidden(self.decoder, z)
        return output, z, encoder_hidden, decoder_hidden


class ConvAutoEncoderNet(nn.Module):
    def __init__(self, image_shape: Sequence[int], channels: Sequence[int], latent_dim: int,
                 activation: str, batch_norm: bool) -> None:
        super().__init__()
        self.encoder = ConvEncoder(image_shape, channels, latent_dim, activation, batch_norm)
        self.decoder = ConvDecoder(latent_dim, image_shape, channels, activation, batch_norm)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return self.decoder(z), z

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.features(x)


# -- estimators -----------------------------------------------------------------------------
class _AutoEncoderBase(NeuralTransformer, NeuralEstimator):
    """What every autoencoder shares: losses, noise, codes, decoding, anomaly scores.
    ``fit_transform`` (scikit-learn's TransformerMixin) fits, then returns the codes."""

    latent_dim: int | None
    latent_dim_: int
    likelihood: str
    noise: str | None
    noise_level: float
    neighbor_weight: float
    neighbor_k: int

    _parameter_constraints: ClassVar[Constraints] = {
        "latent_dim": Optional(Int()), "likelihood": Choice("gaussian", "bernoulli"),
        "noise": Choice(*NOISES), "noise_level": Float(0.0),
        "activation": Choice("auto", *ACTIVATIONS), "hidden_dims": Optional(OneOf(Sizes(), Int())),
        "channels": Sizes(1, "convolution stage"), "batch_norm": Bool(),
        "layer_weight": Float(0.0), "augment": Bool(), "neighbor_weight": Float(0.0),
        "neighbor_k": Int(1),
    }
    _parameter_rules = (
        lambda self: (f"noise_level is the masked fraction, below 1; got {self.noise_level}"
                      if self.noise == "masking" and self.noise_level >= 1.0 else None),
    )

    def _check_data(self, X: torch.Tensor) -> None:
        if self.likelihood == "bernoulli":
            self._require_unit_interval(
                X, "likelihood='bernoulli'",
                "rescale it (nolabel.data.minmax_scale) or use likelihood='gaussian'")

    def _training_loss(self, model: nn.Module, x: torch.Tensor, clean: torch.Tensor):
        """``(loss, extras, codes of x)`` for inputs ``x`` reconstructing ``clean``."""
        output, codes = model(x)
        return reconstruction_error(output, clean, self.likelihood).mean(), {}, codes

    def _objectives(self, module: nn.Module, data=None) -> list[Objective]:
        """Reconstruction (denoising when ``noise`` is set); with ``neighbor_weight`` the
        neighbour-embedding term on ``data``'s nearest neighbours; augmentation outermost, so
        every term sees the augmented batch."""
        noise, level = self.noise, float(self.noise_level)

        def reconstruction(model: nn.Module, batch: tuple[torch.Tensor, ...]):
            clean = batch[0]
            return self._training_loss(model, corrupt(clean, noise, level), clean)

        optimizer = self._make_optimizer(module.parameters())
        if self.neighbor_weight and data is not None:
            objectives = [with_neighbour_term("reconstruction", reconstruction, module.encoder,
                                              data, float(self.neighbor_weight), optimizer)]
        else:
            objectives = [Objective("reconstruction", without_codes(reconstruction), optimizer)]
        return augmented(objectives, self._augmentation()) if self.augment else objectives

    def _phases(self, data, seed: int) -> list[Phase]:
        if not self.neighbor_weight:
            return super()._phases(data, seed)
        return [Phase("train", self.epochs, lambda: self._objectives(self.module_, data),
                      lambda: (data, neighbour_table(data, self.neighbor_k)))]

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        output = self.module_.decoder(z)
        return torch.sigmoid(output) if self.likelihood == "bernoulli" else output

    def transform(self, X):
        """Latent codes, shape (n_samples, latent_dim)."""
        data = self._input(X)
        return as_output(self._batched(self.module_.encoder, data), X)

    def hidden_features(self, X):
        """The encoder's last hidden layer (before the code), flattened: a wider representation.

        For :class:`ConvAutoEncoder` the last convolution stage's feature maps; for the
        fully-connected models the last hidden layer's activations.
        """
        data = self._input(X)
        return as_output(self._batched(self.module_.hidden, data), X)

    def inverse_transform(self, Z):
        """Decode latent codes into data space, shaped like the training samples."""
        check_is_fitted(self, ["module_"])
        device = next(self.module_.parameters()).device
        codes = check_tensor(Z, device=device, name="Z", allow_nd=False)
        if codes.shape[1] != self.latent_dim_:
            raise DataError(f"Z has {codes.shape[1]} columns but latent_dim is "
                            f"{self.latent_dim_}")
        decoded = self._batched(self._decode, codes)
        return as_output(decoded.reshape(len(codes), *self.sample_shape_), Z)

    def reconstruct(self, X):
        """Encode then decode ``X`` (no noise); shaped like the training samples."""
        data = self._input(X)
        decoded = self._batched(lambda x: self._decode(self.module_.encoder(x)), data)
        return as_output(decoded.reshape(len(data), *self.sample_shape_), X)

    def score_samples(self, X):
        """Minus each sample's reconstruction error: higher means more normal. Deterministic."""
        data = self._input(X)
        errors = self._batched(
            lambda x: reconstruction_error(self.module_(x)[0], x, self.likelihood), data
        )
        return as_output(-errors, X)


@register("autoencoder", "MLP autoencoder (MSE or BCE, optional denoising): codes, "
          "reconstructions, anomaly scores")
class AutoEncoder(_AutoEncoderBase):
    """Autoencoder with a fully-connected encoder and mirrored decoder.

    Defaults are for anomaly detection on standardised tables and for images alike: sizes
    left as ``None`` and ``activation="auto"`` are chosen from the number of features ``d``
    when the model is fitted, and the choices are kept as ``latent_dim_``, ``hidden_dims_``
    and ``activation_``.

    - ``d < 64`` (a table): one hidden layer of ``max(4, d // 2)`` units, a code of
      ``d // 4`` (at least 2, below ``d``) and ``tanh``. A reconstruction-error detector only
      works if the network cannot reproduce rare rows: narrow layers leave room for the
      structure of the many rows only, and ``tanh`` units saturate on extreme values where
      ReLUs would extrapolate them linearly and reconstruct them. Measured on 8 ADBench
      tables (standardised, fitted on all rows, 3 seeds): mean AUROC 0.896 against 0.821 for
      the image-sized network (256, 128) with a code of 10 and ReLU.
    - ``d >= 64`` (images, embeddings): hidden layers (256, 128), a code of 10, ReLU.

    ``epochs=20`` at ``batch_size=128``: training longer lets the network learn the anomalies
    too, with no labels to stop on (the tables above: 0.853 after 40 epochs, and an earlier
    note found 300 epochs of a (64, 32) network at 0.733); 10 epochs varied more from seed to
    seed. Weight decay and denoising did not help there, so both stay off.

    Parameters
    ----------
    latent_dim : size of the code; ``None``: from the data, as above.
    hidden_dims : hidden layer sizes of the encoder (the decoder mirrors them); ``None``: from
        the data, as above; an int is one layer (``--param hidden_dims=32``).
    activation : ``"auto"`` (as above), ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"tanh"``,
        ``"gelu"``.
    likelihood : the observation model, whose negative log-likelihood is the reconstruction
        error: ``"gaussian"`` (squared error, linear output) or ``"bernoulli"``
        (cross-entropy, sigmoid output; data must be in [0, 1]).
    noise, noise_level : denoising: ``"gaussian"`` (``noise_level`` = standard deviation) or
        ``"masking"`` (``noise_level`` = fraction of values zeroed) applied to training inputs.
    augment : train on randomly shifted and rotated images (DEC-DA's ranges: shifts up to 10 %,
        rotations up to 10 degrees), input and target alike; needs images (or flat vectors of
        square length such as 784).
    neighbor_weight, neighbor_k : weight of the neighbour-embedding term
        (:mod:`nolabel.nets.neighbours`, parametric UMAP's loss): codes of each sample's
        ``neighbor_k`` nearest training samples (exact, in the input) are pulled together,
        those of the rest of the batch pushed apart. 0 (default) trains on reconstruction
        alone. It costs an exact k-nearest-neighbour search before training and an encoder
        pass for the neighbours at every step. For clustering codes: on the 8x8 digits
        (DEC's network, 100 epochs, 3 seeds) 0.1 lifted k-means on the codes from ACC 0.799 to
        0.915 and the codes' 5-nearest-neighbour label agreement from 0.963 to 0.983.
    optimizer, lr, weight_decay : ``"adam"`` or ``"sgd"`` (momentum 0.9) and its settings.
    epochs, batch_size : training length and mini-batch size.
    random_state : seeds weights, noise and data order; the same seed on CPU gives identical
        weights.
    device : ``"auto"``, ``"cpu"``, ``"cuda"``...
    verbose : 0 silent, 1 progress bar on a terminal, 2 one line per epoch.
    checkpoint_path, checkpoint_every : write a resumable checkpoint every N epochs.
    """

    def __init__(
        self,
        latent_dim: int | None = None,
        *,
        hidden_dims: Sequence[int] | int | None = None,
        activation: str = "auto",
        likelihood: str = "gaussian",
        noise: str | None = None,
        noise_level: float = 0.1,
        augment: bool = False,
        neighbor_weight: float = 0.0,
        neighbor_k: int = 10,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 20,
        batch_size: int = 128,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "32",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.activation = activation
        self.likelihood = likelihood
        self.noise = noise
        self.noise_level = noise_level
        self.augment = augment
        self.neighbor_weight = neighbor_weight
        self.neighbor_k = neighbor_k
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

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        n_features = int(np.prod(sample_shape))
        resolve_network(self, n_features, n_features < IMAGE_FEATURES,
                        (max(4, n_features // 2),), (256, 128))
        return MLPAutoEncoder(n_features, self.hidden_dims_, self.latent_dim_, self.activation_)


@register("deep-autoencoder", "MLP autoencoder whose loss adds the layer-wise term "
          "λ Σ ||h_l − ĥ_l||²")
class DeepAutoEncoder(AutoEncoder):
    """Deep autoencoder trained on ``||x − x̂||² + λ Σ_l ||h_l − ĥ_l||²``.

    ``h_l`` is the output of encoder hidden layer ``l`` and ``ĥ_l`` the decoder layer that
    mirrors it (same width); both terms are means over units, and gradients flow into both
    sides. ``layer_weight`` is λ; 0 gives a plain :class:`AutoEncoder`. The history logs
    ``reconstruction`` and ``layerwise`` besides the total ``loss``. Other parameters as in
    :class:`AutoEncoder`; the default layers are those of DEC (500-500-2000).
    """

    def __init__(
        self,
        latent_dim: int = 10,
        *,
        hidden_dims: Sequence[int] = (500, 500, 2000),
        layer_weight: float = 0.1,
        activation: str = "relu",
        likelihood: str = "gaussian",
        noise: str | None = None,
        noise_level: float = 0.1,
        augment: bool = False,
        neighbor_weight: float = 0.0,
        neighbor_k: int = 10,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 20,
        batch_size: int = 256,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "32",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        super().__init__(
            latent_dim, hidden_dims=hidden_dims, activation=activation, likelihood=likelihood,
            noise=noise,
            noise_level=noise_level, augment=augment, neighbor_weight=neighbor_weight,
            neighbor_k=neighbor_k, optimizer=optimizer, lr=lr,
            weight_decay=weight_decay,
            epochs=epochs, batch_size=batch_size, random_state=random_state, device=device,
            verbose=verbose, precision=precision, grad_clip=grad_clip,
            checkpoint_path=checkpoint_path, checkpoint_every=checkpoint_every,
        )
        self.layer_weight = layer_weight

    def _training_loss(self, model: nn.Module, x: torch.Tensor, clean: torch.Tensor):
        output, codes, encoder_hidden, decoder_hidden = model.forward_hidden(x)
        reconstruction = reconstruction_error(output, clean, self.likelihood).mean()
        if not encoder_hidden:
            return reconstruction, {"reconstruction": reconstruction.detach()}, codes
        layerwise = layerwise_error(encoder_hidden, decoder_hidden).mean()
        total = reconstruction + float(self.layer_weight) * layerwise
        return total, {"reconstruction": reconstruction.detach(),
                       "layerwise": layerwise.detach()}, codes


@register("conv-autoencoder", "convolutional autoencoder for images of any channel count "
          "and size (optional denoising)")
class ConvAutoEncoder(_AutoEncoderBase):
    """Autoencoder with a strided-convolution encoder and a transposed-convolution decoder.

    Takes images ``(n, channels, height, width)`` (``(n, height, width)`` is read as one
    channel) of any size: each stage halves height and width, and sizes that are not a
    multiple of ``2 ** len(channels)`` are zero-padded inside the network and cropped back.

    Parameters
    ----------
    latent_dim : size of the code.
    channels : output channels of the convolution stages (the decoder mirrors them).
    batch_norm : batch normalisation after each hidden convolution.
    Other parameters as in :class:`AutoEncoder`.
    """

    _image_input = True

    def __init__(
        self,
        latent_dim: int = 32,
        *,
        channels: Sequence[int] = (32, 64),
        activation: str = "relu",
        batch_norm: bool = False,
        likelihood: str = "gaussian",
        noise: str | None = None,
        noise_level: float = 0.1,
        augment: bool = False,
        neighbor_weight: float = 0.0,
        neighbor_k: int = 10,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 20,
        batch_size: int = 128,
        random_state: int | None = None,
        device: str = "auto",
        verbose: int = 0,
        precision: str = "32",
        grad_clip: float | None = None,
        checkpoint_path: str | None = None,
        checkpoint_every: int = 1,
    ) -> None:
        self.latent_dim = latent_dim
        self.channels = channels
        self.activation = activation
        self.batch_norm = batch_norm
        self.likelihood = likelihood
        self.noise = noise
        self.noise_level = noise_level
        self.augment = augment
        self.neighbor_weight = neighbor_weight
        self.neighbor_k = neighbor_k
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

    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        self.latent_dim_ = int(self.latent_dim if self.latent_dim is not None else 32)
        self.activation_ = "relu" if self.activation == "auto" else self.activation
        return ConvAutoEncoderNet(sample_shape, self.channels, self.latent_dim_,
                                  self.activation_, self.batch_norm)
