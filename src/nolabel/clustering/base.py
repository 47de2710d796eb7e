"""What the deep clustering estimators share.

- :class:`DeepClusterer`: the clustering interface on top of :class:`NeuralEstimator`. A
  subclass provides ``_cluster_probabilities`` (a batch in network view -> (n, n_clusters)
  probabilities); ``predict_proba``, ``predict`` (argmax), ``fit_predict``, ``labels_`` (the
  predictions on the training data, set by ``fit``, with a warning naming emptied clusters) and
  saving them come from here.
- :class:`AutoEncoderClusterer`: the phases of DEC, IDEC, VaDE, DAC and N2D: pretrain an
  autoencoder on reconstruction, initialise the clusters on its codes (``_initialise``), then
  train the clustering objectives (``_cluster_phase``; by default ``_objectives`` for
  ``epochs``). ``pretrained`` (a fitted autoencoder or its saved file) replaces pretraining.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import ClusterMixin
from torch import nn

from nolabel._validation import (
    Anything,
    Bool,
    Choice,
    Constraints,
    Float,
    Int,
    OneOf,
    Sizes,
    as_output,
    check_is_fitted,
    check_tensor,
)
from nolabel.errors import DataError, EmptyClusterWarning, ParameterError
from nolabel.models.autoencoder import (
    NOISES,
    ConvAutoEncoderNet,
    MLPAutoEncoder,
    corrupt,
    reconstruction_error,
)
from nolabel.models.base import NeuralEstimator, NeuralTransformer, Phase, augmented
from nolabel.nets.mlp import ACTIVATIONS
from nolabel.nets.neighbours import neighbour_table, with_neighbour_term, without_codes
from nolabel.train import Objective, make_optimizer


class DeepClusterer(ClusterMixin, NeuralEstimator):
    """Base of the neural clustering estimators; subclasses set ``n_clusters`` in ``__init__``."""

    n_clusters: int
    _parameter_constraints: ClassVar[Constraints] = {"n_clusters": Int(1)}

    def _cluster_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Soft assignment of a batch (network view) to the clusters, shape (n, n_clusters)."""
        raise NotImplementedError

    def _check_data(self, X: torch.Tensor) -> None:
        """Subclasses that add checks call this too."""
        if self.n_clusters > len(X):
            raise DataError(f"n_clusters={self.n_clusters} is larger than the number of "
                            f"samples ({len(X)})")

    def _fitted(self, data) -> None:
        """``labels_``: the clusters of the training samples (read again from disk if need be)."""
        probabilities = self._batched(self._cluster_probabilities, data)
        self.labels_ = probabilities.argmax(1).cpu().numpy()
        counts = np.bincount(self.labels_, minlength=self.n_clusters)
        empty = np.flatnonzero(counts == 0)
        if len(empty):
            warnings.warn(
                f"{type(self).__name__}: {len(empty)} of {self.n_clusters} clusters hold no "
                f"training sample (clusters {', '.join(map(str, empty.tolist()))}); the largest "
                f"holds {counts.max() / counts.sum():.0%} of the data. Training merged them: "
                "try more data, fewer clusters, or another random_state.",
                EmptyClusterWarning, stacklevel=3)

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
        tensors = {**tensors, "labels": torch.from_numpy(self.labels_)}
        if hasattr(self, "initial_labels_"):
            tensors["initial_labels"] = torch.from_numpy(self.initial_labels_)
        return tensors, state

    def _set_state(self, tensors, state):
        super()._set_state(tensors, state)
        self.labels_ = tensors["labels"].numpy()
        if "initial_labels" in tensors:
            self.initial_labels_ = tensors["initial_labels"].numpy()


class AutoEncoderClusterer(NeuralTransformer, DeepClusterer):
    """Pretrained-autoencoder clustering. The module has ``encoder`` and ``decoder``
    submodules; subclasses provide ``_initialise`` and ``_objectives`` (or ``_cluster_phase``).

    Two phases run through the one fit pipeline (so ``.npy`` input, checkpoints and exact
    resume work in both): ``"pretrain"`` (the autoencoder on reconstruction, replaced by a
    copy of ``pretrained`` when given) and ``"cluster"`` (``_initialise`` on the codes, then
    the clustering objectives). ``history_`` holds the pretraining curve as
    ``pretrain_loss`` next to the clustering phase's keys; ``n_epochs_`` counts clustering
    epochs.
    """

    architecture: str
    hidden_dims: Sequence[int]
    channels: Sequence[int]
    latent_dim: int
    activation: str
    likelihood: str
    pretrain_epochs: int
    pretrain_lr: float
    pretrained: object

    _parameter_constraints: ClassVar[Constraints] = {
        "architecture": Choice("mlp", "conv"), "latent_dim": Int(),
        "likelihood": Choice("gaussian", "bernoulli"), "pretrain_epochs": Int(0),
        "pretrain_lr": Float(0.0, strict=True), "hidden_dims": Sizes(),
        "channels": Sizes(), "activation": Choice(*ACTIVATIONS), "pretrained": Anything(),
        "augment": OneOf(Bool(), Choice("pretrain")), "noise": Choice(*NOISES),
        "noise_level": Float(0.0), "neighbor_weight": Float(0.0), "neighbor_k": Int(1),
    }
    _parameter_rules = (
        lambda self: (f"noise_level is the masked fraction, below 1; got {self.noise_level}"
                      if self.noise == "masking" and self.noise_level >= 1.0 else None),
        lambda self: ("channels needs at least one convolution stage, got ()"
                      if self.architecture == "conv" and len(self.channels) == 0 else None),
    )

    @property
    def _image_input(self) -> bool:
        return self.architecture == "conv"

    # -- to provide in subclasses ---------------------------------------------------------
    def _initialise(self, codes: torch.Tensor, seed: int) -> torch.Tensor | None:
        """Set the cluster parameters of ``self.module_`` from the pretrained codes; return
        the start's soft assignments (n, k) when they are not the model's own
        ``_cluster_probabilities`` (DEC from N2D's posterior), else None."""
        raise NotImplementedError

    def _cluster_phase(self, data, seed: int) -> Phase:
        """Initialise the clusters on the codes, then train ``_objectives`` for ``epochs``."""
        return Phase("cluster", self.epochs, lambda: self._objectives(self.module_),
                     lambda: (data,), start=lambda: self._initialise_on(data, seed))

    # -- shared ---------------------------------------------------------------------------
    def _initialise_on(self, data, seed: int) -> None:
        """``_initialise`` on the codes of ``data``; ``initial_labels_`` keeps the clusters it
        starts from, so what the clustering phase changed can be measured."""
        start = self._initialise(self._batched(self._code, data), seed)
        if start is None:
            start = self._batched(self._cluster_probabilities, data)
        self.initial_labels_ = start.argmax(1).cpu().numpy()

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
        trained_for = getattr(source, "likelihood_", getattr(source, "likelihood", None))
        if trained_for is not None and trained_for != self._likelihood:
            raise ParameterError(
                f"the pretrained decoder was trained for likelihood={trained_for!r} but this "
                f"{type(self).__name__} reconstructs with likelihood={self._likelihood!r}: set "
                "the same likelihood")
        # Same shapes are not the same network: tanh-trained weights under ReLU load silently.
        activation = getattr(source, "activation_", getattr(source, "activation", None))
        if isinstance(activation, str) and activation != self.activation:
            raise ParameterError(
                f"the pretrained autoencoder was trained with activation={activation!r} but "
                f"this {type(self).__name__} uses activation={self.activation!r}: set the same "
                "activation")
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

    @property
    def _likelihood(self) -> str:
        """The observation model the decoder is trained for (resolved when ``"auto"``)."""
        return getattr(self, "likelihood_", self.likelihood)

    @property
    def _code_size(self) -> int:
        return self.latent_dim

    def _autoencoder(self, sample_shape: tuple[int, ...]) -> nn.Module:
        """The MLP or convolutional autoencoder of ``architecture`` (its encoder gives codes)."""
        if self.architecture == "conv":
            return ConvAutoEncoderNet(sample_shape, self.channels, self._code_size,
                                      self.activation, batch_norm=False)
        return MLPAutoEncoder(int(np.prod(sample_shape)), self.hidden_dims, self._code_size,
                              self.activation)

    def _check_data(self, X: torch.Tensor) -> None:
        super()._check_data(X)
        if self._likelihood == "bernoulli":
            self._require_unit_interval(
                X, "likelihood='bernoulli'",
                "rescale it (nolabel.data.minmax_scale) or use likelihood='gaussian'")

    def _code(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic latent code of a batch (what ``transform`` returns)."""
        return self.module_.encoder(x)

    def _reconstruction(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample reconstruction error of a batch through the code (``loss``)."""
        return reconstruction_error(self.module_.decoder(self._code(x)), x, self._likelihood)

    def _pretrain_objectives(self, data=None) -> list[Objective]:
        """Encoder and decoder on reconstruction, with Adam at ``pretrain_lr``; a denoising
        autoencoder when ``noise`` is set (the target stays the clean input); plus the
        neighbour-embedding term on ``data`` when ``neighbor_weight`` is set."""
        parameters = [*self.module_.encoder.parameters(), *self.module_.decoder.parameters()]
        optimizer = make_optimizer("adam", parameters, float(self.pretrain_lr))
        noise, level, likelihood = self.noise, float(self.noise_level), self._likelihood

        def loss(net: nn.Module, batch: tuple[torch.Tensor, ...]):
            clean = batch[0]
            codes = self._code(corrupt(clean, noise, level))
            output = self.module_.decoder(codes)
            return reconstruction_error(output, clean, likelihood).mean(), {}, codes

        if self.neighbor_weight and data is not None:
            objectives = [with_neighbour_term("pretrain", loss, self._code, data,
                                              float(self.neighbor_weight), optimizer)]
        else:
            objectives = [Objective("pretrain", without_codes(loss), optimizer)]
        return augmented(objectives, self._augmentation()) if self.augment else objectives

    def _phases(self, data, seed: int) -> list[Phase]:
        pretrained = self._pretrained_source()
        if pretrained is None and self.neighbor_weight and self.pretrain_epochs:
            pretrain = Phase("pretrain", self.pretrain_epochs,
                             lambda: self._pretrain_objectives(data),
                             lambda: (data, neighbour_table(data, self.neighbor_k)))
        elif pretrained is None:
            pretrain = Phase("pretrain", self.pretrain_epochs, self._pretrain_objectives,
                             lambda: (data,))
        else:
            pretrain = Phase("pretrain", 0, self._pretrain_objectives, lambda: (data,),
                             start=lambda: self._load_pretrained(pretrained))
        cluster = self._cluster_phase(data, seed)
        if self.augment is True:  # DEC-DA: the clustering losses see augmented samples too
            objectives, augment = cluster.objectives, self._augmentation()
            cluster.objectives = lambda: augmented(objectives(), augment)
        return [pretrain, cluster]

    def _run_phases(self, *args, **kwargs) -> None:
        super()._run_phases(*args, **kwargs)
        self.history_.setdefault("pretrain_loss", [])

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes to data space: the mean of the reconstruction (probabilities for BCE)."""
        output = self.module_.decoder(z)
        return torch.sigmoid(output) if self._likelihood == "bernoulli" else output

    def transform(self, X):
        """Latent codes, shape (n_samples, latent_dim); deterministic."""
        data = self._input(X)
        return as_output(self._batched(self._code, data), X)

    def reconstruct(self, X):
        """Encode then decode ``X`` through the autoencoder; shaped like the training samples."""
        data = self._input(X)
        decoded = self._batched(lambda x: self._decode(self._code(x)), data)
        return as_output(decoded.reshape(len(data), *self.sample_shape_), X)


class CodeInverse:
    """``inverse_transform`` for clusterers whose ``transform`` gives the autoencoder's codes
    (DEC, IDEC, VaDE, DAC): decode codes into data space."""

    def inverse_transform(self, Z):
        """Decode codes (n, latent_dim) into data space, shaped like the training samples."""
        check_is_fitted(self, ["module_"])
        device = next(self.module_.parameters()).device
        codes = check_tensor(Z, device=device, name="Z", allow_nd=False)
        if codes.shape[1] != self._code_size:
            raise DataError(f"Z has {codes.shape[1]} columns but the codes have "
                            f"{self._code_size} (latent_dim)")
        decoded = self._batched(self._decode, codes)
        return as_output(decoded.reshape(len(codes), *self.sample_shape_), Z)
