"""What the deep clustering estimators share.

- :class:`DeepClusterer`: the clustering interface on top of :class:`NeuralEstimator`. A
  subclass provides ``_cluster_probabilities`` (a batch in network view -> (n, n_clusters)
  probabilities); ``predict_proba``, ``predict`` (argmax), ``fit_predict``, ``labels_`` (the
  predictions on the training data, set by ``fit``) and saving them come from here. Single-phase
  models (InfoGAN, CatGAN) use :meth:`NeuralEstimator.fit` as it is, through this class's ``fit``.
- :class:`AutoEncoderClusterer`: the three phases of DEC, IDEC, VaDE and DAC: pretrain an
  autoencoder on reconstruction, initialise the clusters on its codes (``_initialise``), then
  train the clustering objectives (``_cluster``; by default ``_objectives`` for ``epochs``).
  ``pretrained`` (a fitted autoencoder or its saved file) replaces the first phase.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import torch
from sklearn.base import ClusterMixin, TransformerMixin
from torch import nn

from nolabel._device import resolve_device, seed_everything
from nolabel._validation import as_output, check_choice, check_float, check_int, check_tensor
from nolabel.errors import DataError, ParameterError
from nolabel.models.autoencoder import ConvAutoEncoderNet, MLPAutoEncoder, reconstruction_error
from nolabel.models.base import NeuralEstimator
from nolabel.train import Objective, TrainConfig, TrainResult, fit, make_optimizer


class DeepClusterer(ClusterMixin, NeuralEstimator):
    """Base of the neural clustering estimators; subclasses set ``n_clusters`` in ``__init__``."""

    n_clusters: int

    def _cluster_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Soft assignment of a batch (network view) to the clusters, shape (n, n_clusters)."""
        raise NotImplementedError

    def _check_training_params(self) -> None:
        super()._check_training_params()
        check_int("n_clusters", self.n_clusters, minimum=2)

    def _check_data(self, X: torch.Tensor) -> None:
        """Subclasses that add checks call this too."""
        if self.n_clusters > len(X):
            raise DataError(f"n_clusters={self.n_clusters} is larger than the number of "
                            f"samples ({len(X)})")

    def _training_labels(self, X) -> None:
        labels = self.predict(X)
        self.labels_ = labels.cpu().numpy() if torch.is_tensor(labels) else labels

    def fit(self, X, y=None, *, resume_from=None):
        """Train on ``X``; ``labels_`` holds the clusters of the training samples."""
        super().fit(X, y, resume_from=resume_from)
        self._training_labels(X)
        return self

    def predict_proba(self, X):
        """Probability of every cluster for every sample, shape (n_samples, n_clusters)."""
        data = self._input(X)
        return as_output(self._batched(self._cluster_probabilities, data), X)

    def predict(self, X):
        """The most probable cluster of every sample."""
        data = self._input(X)
        return as_output(self._batched(self._cluster_probabilities, data).argmax(1), X)

    def _get_state(self):
        tensors, state = super()._get_state()
        return {**tensors, "labels": torch.from_numpy(self.labels_)}, state

    def _set_state(self, tensors, state):
        super()._set_state(tensors, state)
        self.labels_ = tensors["labels"].numpy()


class AutoEncoderClusterer(TransformerMixin, DeepClusterer):
    """Pretrained-autoencoder clustering. The module has ``encoder`` and ``decoder``
    submodules; subclasses provide ``_initialise`` and ``_objectives`` (or ``_cluster``).

    ``history_`` holds the pretraining curve as ``pretrain_loss`` next to the clustering
    phase's keys; ``n_epochs_`` counts clustering epochs.
    """

    architecture: str
    hidden_dims: Sequence[int]
    channels: Sequence[int]
    latent_dim: int
    activation: str
    loss: str
    pretrain_epochs: int
    pretrain_lr: float
    pretrained: object

    # The phases restart the loop, so these estimators write no resumable checkpoints.
    checkpoint_path = None
    checkpoint_every = 1

    @property
    def _image_input(self) -> bool:
        return self.architecture == "conv"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # transform returns float32
        return tags

    # -- to provide in subclasses ---------------------------------------------------------
    def _check_params(self) -> None:
        """Model-specific hyper-parameter checks, run before anything is built."""

    def _initialise(self, codes: torch.Tensor, seed: int) -> None:
        """Set the cluster parameters of ``self.module_`` from the pretrained codes."""
        raise NotImplementedError

    def _cluster(self, data: torch.Tensor, seed: int) -> TrainResult:
        return self._train(self._objectives(self.module_), (data,), self.epochs, seed)

    # -- shared ---------------------------------------------------------------------------
    def _check_autoencoder_params(self) -> None:
        check_choice("architecture", self.architecture, ("mlp", "conv"))
        check_int("latent_dim", self.latent_dim)
        check_choice("loss", self.loss, ("mse", "bce"))
        check_int("pretrain_epochs", self.pretrain_epochs, minimum=0)
        check_float("pretrain_lr", self.pretrain_lr, minimum=0.0, strict=True)
        name = "hidden_dims" if self.architecture == "mlp" else "channels"
        sizes = getattr(self, name)
        if self.architecture == "conv" and len(sizes) == 0:
            raise ParameterError("channels needs at least one convolution stage, got ()")
        for index, size in enumerate(sizes):
            check_int(f"{name}[{index}]", size)

    def _pretrained_source(self):
        """The fitted autoencoder ``pretrained`` names, or None: a fitted estimator, one wrapped
        in sklearn's ``FrozenEstimator`` (which survives ``clone``), or a saved one's path."""
        source = self.pretrained
        if source is None:
            return None
        if isinstance(source, str | os.PathLike):
            from nolabel.persistence import load_model

            source = load_model(source, device="cpu")
        module = getattr(source, "module_", None)
        if not (hasattr(module, "encoder") and hasattr(module, "decoder")):
            unfitted = (" that is not fitted (sklearn's clone() unfits estimator parameters: "
                        "wrap it in sklearn.frozen.FrozenEstimator)" if hasattr(source, "fit")
                        else "")
            raise ParameterError(
                "pretrained must be a fitted autoencoder (AutoEncoder, ConvAutoEncoder, DEC...) "
                f"or the path of one saved with .save(); got {type(source).__name__}{unfitted}")
        return source

    def _pretrained_state(self, part: str, state: dict[str, torch.Tensor]
                          ) -> dict[str, torch.Tensor]:
        """``state`` of a pretrained ``part`` ("encoder"/"decoder") in this module's layout."""
        return state

    def _load_pretrained(self, source) -> None:
        """Copy the pretrained encoder and decoder into ``self.module_``; refuse a mismatch."""
        fitted_on = getattr(source, "n_features_in_", self.n_features_in_)
        if fitted_on != self.n_features_in_:
            raise DataError(f"X has {self.n_features_in_} features but the pretrained "
                            f"autoencoder was fitted on {fitted_on}")
        trained_for = getattr(source, "loss", self.loss)
        if trained_for != self.loss:
            raise ParameterError(
                f"the pretrained decoder was trained for loss={trained_for!r} but this "
                f"{type(self).__name__} reconstructs with loss={self.loss!r}: set the same loss "
                "(VaDE: likelihood='bernoulli' is loss='bce', 'gaussian' is 'mse')")
        for part in ("encoder", "decoder"):
            target = getattr(self.module_, part)
            ours = target.state_dict()
            theirs = self._pretrained_state(part, getattr(source.module_, part).state_dict())
            for name in [*ours, *(name for name in theirs if name not in ours)]:
                shapes = [tuple(s[name].shape) if name in s else "absent" for s in (theirs, ours)]
                if shapes[0] != shapes[1]:
                    raise ParameterError(
                        f"pretrained {part} does not fit this {type(self).__name__}: its "
                        f"{name} is {shapes[0]}, here {shapes[1]}; set architecture, "
                        "hidden_dims/channels and latent_dim to the pretrained autoencoder's")
            target.load_state_dict(theirs)  # copies: the pretrained model is left as it was

    def _autoencoder(self, sample_shape: tuple[int, ...]) -> nn.Module:
        """The MLP or convolutional autoencoder of ``architecture`` (its encoder gives codes)."""
        if self.architecture == "conv":
            return ConvAutoEncoderNet(sample_shape, self.channels, self.latent_dim,
                                      self.activation, batch_norm=False)
        return MLPAutoEncoder(int(np.prod(sample_shape)), self.hidden_dims, self.latent_dim,
                              self.activation)

    def _check_data(self, X: torch.Tensor) -> None:
        super()._check_data(X)
        if self.loss == "bce":
            self._require_unit_interval(
                X, "loss='bce'", "rescale it (nolabel.data.minmax_scale) or use loss='mse'")

    def _code(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic latent code of a batch (what ``transform`` returns)."""
        return self.module_.encoder(x)

    def _reconstruction(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample reconstruction error of a batch through the code (``loss``)."""
        return reconstruction_error(self.module_.decoder(self._code(x)), x, self.loss)

    def _train(self, objectives: list[Objective], tensors: tuple[torch.Tensor, ...],
               epochs: int, seed: int, *, shuffle: bool = True,
               on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
               ) -> TrainResult:
        """Run the training loop on ``self.module_`` (batches of ``batch_size``)."""
        config = TrainConfig(epochs=epochs, batch_size=self.batch_size,
                             device=tensors[0].device, seed=seed, shuffle=shuffle,
                             verbose=self.verbose, description=type(self).__name__)
        return fit(self.module_, tensors, objectives, config, on_epoch_end=on_epoch_end)

    def _pretrain(self, data: torch.Tensor, seed: int) -> list[float]:
        """Train encoder and decoder on reconstruction alone; return the loss per epoch."""
        if self.pretrain_epochs == 0:
            return []
        parameters = [*self.module_.encoder.parameters(), *self.module_.decoder.parameters()]
        optimizer = make_optimizer("adam", parameters, float(self.pretrain_lr))
        def loss(net: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
            return self._reconstruction(batch[0]).mean()

        objective = Objective("pretrain", loss, optimizer)
        return self._train([objective], (data,), self.pretrain_epochs, seed).history["loss"]

    def fit(self, X, y=None):
        """Pretrain, initialise the clusters on the codes, train the clustering objectives."""
        self._check_training_params()
        self._check_autoencoder_params()
        self._check_params()
        pretrained = self._pretrained_source()
        device = resolve_device(self.device)
        self._check_rank(np.shape(X))
        data = check_tensor(X, device=device, min_samples=2)
        if self._image_input and data.ndim == 3:
            data = data.unsqueeze(1)
        self._check_data(data)
        self.sample_shape_ = tuple(int(s) for s in data.shape[1:])
        data = self._network_view(data)
        self.n_features_in_ = int(np.prod(self.sample_shape_))
        seed = seed_everything(self.random_state)
        self.module_ = self._build_module(self.sample_shape_).to(device)
        if pretrained is None:
            pretrain_loss = self._pretrain(data, seed)
        else:
            self._load_pretrained(pretrained)
            pretrain_loss = []
        self._initialise(self._batched(self._code, data), seed)
        result = self._cluster(data, seed)
        self.history_ = {"pretrain_loss": pretrain_loss, **result.history}
        self.n_epochs_ = result.epochs_run
        self._training_labels(X)
        return self

    def transform(self, X):
        """Latent codes, shape (n_samples, latent_dim); deterministic."""
        data = self._input(X)
        return as_output(self._batched(self._code, data), X)
