"""What every neural estimator shares: the one fit pipeline, batched inference, saving.

A model file subclasses :class:`NeuralEstimator`, declares its hyper-parameters'
constraints (``_parameter_constraints``) and supplies ``_build_module`` (its network) and
``_objectives`` (its losses with their optimizers); models trained in several phases
(pretraining, then clustering) return them from ``_phases``. Everything else comes from
here, for every model alike: parameter validation, array / tensor / ``.npy`` / memmap input,
device, private random generators, checkpoints and exact resume in any phase, labels, saving.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from torch import nn

from nolabel._chunks import RowSource
from nolabel._device import private_torch_rng, resolve_device, resolve_seed, torch_generator
from nolabel._validation import (
    Choice,
    Constraint,
    Constraints,
    Float,
    Int,
    Optional,
    Seed,
    as_rectangular,
    check_is_fitted,
    check_n_features,
    check_tensor,
    validate_parameters,
)
from nolabel.errors import CheckpointError, DataError, ParameterError
from nolabel.nets.augment import RandomAffine, square_image_shape
from nolabel.persistence import Persistable
from nolabel.train import (
    Callbacks,
    Objective,
    TrainConfig,
    TrainResult,
    fit,
    make_optimizer,
    read_checkpoint_meta,
)
from nolabel.train.precision import CHOICES as PRECISIONS

_INFERENCE_BATCH = 4096


class _DiskRows:
    """A row source reshaped for the network: vectors (n, d) or images (n, c, h, w)."""

    def __init__(self, source: RowSource, shape: tuple[int, ...]) -> None:
        self.source, self.shape = source, shape

    def __len__(self) -> int:
        return len(self.source)

    def take(self, rows: np.ndarray) -> torch.Tensor:
        return self.source.take(rows).reshape(len(rows), *self.shape)


class _Path(Constraint):
    def check(self, name: str, value: Any) -> None:
        if not isinstance(value, str | Path):
            raise ParameterError(f"{name} must be a file path or None, got {value!r}")


def _as_array(X):
    """Tensors and arrays as they are; anything else (lists, array-likes) through numpy, with
    the rectangularity error named."""
    return X if isinstance(X, torch.Tensor | np.ndarray) else as_rectangular(X, "X")


def augmented(objectives: list[Objective], augment: Callable[[torch.Tensor], torch.Tensor]
              ) -> list[Objective]:
    """``objectives`` whose losses see the batch's first tensor (the samples) augmented."""
    def wrap(loss):
        return lambda net, batch: loss(net, (augment(batch[0]), *batch[1:]))

    return [replace(objective, loss=wrap(objective.loss)) for objective in objectives]


class LikelihoodMethods:
    """``nll`` and ``bits_per_dim`` for models whose ``score_samples`` is log p(x) per
    sample in nats (exact, or an importance-weighted estimate): one definition for VAE,
    VaDE, PixelCNN and PixelRNN."""

    n_features_in_: int

    def score_samples(self, X):
        raise NotImplementedError

    def nll(self, X) -> float:
        """Mean negative log-likelihood per sample, in nats."""
        scores = self.score_samples(X)
        return float(-torch.as_tensor(scores).double().mean())

    def bits_per_dim(self, X) -> float:
        """Mean negative log-likelihood in bits per dimension (value, pixel or channel)."""
        return self.nll(X) / (self.n_features_in_ * math.log(2.0))


class NeuralTransformer(TransformerMixin):
    """scikit-learn's TransformerMixin (``fit_transform``), declaring that ``transform``
    returns float32 whatever the input dtype: the networks compute in float32. Goes first
    among the bases, before :class:`NeuralEstimator`."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


@dataclass
class Phase:
    """One run of the training loop. ``start`` prepares it when it begins afresh (not when
    a checkpoint written in it is resumed); ``data`` and ``objectives`` are built when it
    runs, after the phases before it."""

    name: str
    epochs: int
    objectives: Callable[[], list[Objective]]
    data: Callable[[], tuple[Any, ...]]
    start: Callable[[], None] | None = None
    callbacks: Callbacks | None = None


class NeuralEstimator(Persistable, BaseEstimator):
    """Base of the torch models. Subclasses set their hyper-parameters in ``__init__``."""

    epochs: int
    batch_size: int
    lr: float
    optimizer: str
    weight_decay: float
    random_state: int | None
    device: str
    verbose: int
    checkpoint_path: str | None
    checkpoint_every: int
    precision: str
    grad_clip: float | None

    _parameter_constraints: ClassVar[Constraints] = {
        "epochs": Int(), "batch_size": Int(), "lr": Float(0.0, strict=True),
        "weight_decay": Float(0.0), "optimizer": Choice("adam", "sgd"),
        "random_state": Seed(), "verbose": Int(0), "checkpoint_path": Optional(_Path()),
        "checkpoint_every": Int(), "precision": Choice(*PRECISIONS),
        "grad_clip": Optional(Float(0.0, strict=True)),
    }

    # True when the network takes images (n, channels, height, width) rather than vectors.
    _image_input = False

    # -- to provide in subclasses ---------------------------------------------------------
    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        """The network for samples of ``sample_shape`` (``(c, h, w)`` for images)."""
        raise NotImplementedError

    def _objectives(self, module: nn.Module) -> list[Objective]:
        raise NotImplementedError

    def _phases(self, data: Any, seed: int) -> list[Phase]:
        """The training phases, in order; by default one, ``_objectives`` for ``epochs``."""
        return [Phase("train", self.epochs, lambda: self._objectives(self.module_),
                      lambda: (data,))]

    def _check_data(self, X: torch.Tensor) -> None:
        """Model-specific checks on validated training data (e.g. range for BCE)."""

    def _configure(self, sample_shape: tuple[int, ...]) -> None:
        """Choices that depend on the training data's shape (e.g. ``architecture="auto"``)."""

    def _fitted(self, data: Any) -> None:
        """Set attributes computed from the training data once training has ended."""

    # -- the fit pipeline ---------------------------------------------------------------
    def _make_optimizer(self, parameters: Any) -> torch.optim.Optimizer:
        return make_optimizer(self.optimizer, parameters, self.lr, self.weight_decay)

    def _augmentation(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """DEC-DA's random shifts and rotations (:class:`~nolabel.nets.augment.RandomAffine`)
        of a training batch in network view, drawn from this fit's private generator (so
        checkpoints carry it). Needs images: samples (c, h, w), or flat vectors of square
        length (784 = 28x28)."""
        shape = self.sample_shape_
        if len(shape) == 1:
            shape = square_image_shape(shape[0])
        if shape is None or len(shape) != 3:
            raise ParameterError(
                f"augment needs images, but the samples are vectors of {self.n_features_in_} "
                "values (not a square number): pass images shaped (n, channels, height, "
                "width), or augment=False")
        transform = RandomAffine()
        return lambda x: transform(x, torch.random.default_generator, shape)

    def fit(self, X, y=None, *, resume_from: str | Path | None = None):
        """Train on ``X`` (n_samples, ...). ``resume_from`` continues a checkpointed run.

        ``X`` may also be the path of a ``.npy`` file (or a ``numpy.memmap``): it is then read
        batch by batch and never held in memory whole. Randomness comes from generators
        private to this fit, seeded by ``random_state``: Python's, numpy's and torch's global
        generators are left as they were.
        """
        validate_parameters(self)
        device = resolve_device(self.device)
        data = self._training_data(X, device)
        seed = resolve_seed(self.random_state)
        meta = read_checkpoint_meta(resume_from) if resume_from is not None else None
        with private_torch_rng(seed, device):
            self.module_ = self._build_module(self.sample_shape_).to(device)
            self._run_phases(self._phases(data, seed), data, seed, device, resume_from, meta)
            self._fitted(data)
        return self

    def _run_phases(self, phases: list[Phase], data: Any, seed: int, device: torch.device,
                    resume_from: str | Path | None, meta: dict | None) -> None:
        histories: dict[str, dict[str, list[float]]] = {}
        resuming = meta is not None
        if meta is not None:
            names = [phase.name for phase in phases]
            if meta.get("phase", "train") not in names:
                raise CheckpointError(
                    f"{resume_from} was written in phase {meta.get('phase')!r}, which "
                    f"{type(self).__name__} does not have (its phases: {', '.join(names)})")
            histories = dict(meta.get("earlier_phases", {}))
        result = TrainResult()
        for phase in phases:
            if resuming and phase.name != meta.get("phase", "train"):
                continue  # finished before the checkpoint: its weights are in it
            if not resuming and phase.start is not None:
                phase.start()
            name = type(self).__name__
            config = TrainConfig(
                epochs=phase.epochs, batch_size=self.batch_size, device=device, seed=seed,
                verbose=self.verbose, checkpoint_path=self.checkpoint_path,
                checkpoint_every=self.checkpoint_every,
                description=name if len(phases) == 1 else f"{name} {phase.name}",
                precision=self.precision, grad_clip=self.grad_clip, phase=phase.name,
                earlier_phases=dict(histories))
            result = fit(self.module_, phase.data(), phase.objectives(), config,
                         resume_from=resume_from if resuming else None,
                         callbacks=phase.callbacks)
            resuming = False
            histories[phase.name] = result.history
        history = {f"{name}_{key}": values for name, phase_history in histories.items()
                   if name != phases[-1].name for key, values in phase_history.items()}
        self.history_ = {**history, **result.history}
        self.n_epochs_ = result.epochs_run

    def _training_data(self, X, device: torch.device):
        """Validated training data in network view: a tensor, or rows read from disk."""
        if isinstance(X, str | Path | np.memmap):
            return self._disk_rows(X, device)
        X = _as_array(X)
        shape = np.shape(X)
        if len(shape) >= 2:
            self._configure(tuple(shape[1:]))
            self._check_rank(shape)
        data = check_tensor(X, device=device, min_samples=2)
        if len(shape) < 2:
            self._configure(tuple(data.shape[1:]))
            self._check_rank(tuple(data.shape))
        if self._image_input and data.ndim == 3:
            data = data.unsqueeze(1)
        self._check_data(data)
        self.sample_shape_ = tuple(int(s) for s in data.shape[1:])
        self.n_features_in_ = int(np.prod(self.sample_shape_))
        return self._network_view(data)

    def _disk_rows(self, X, device: torch.device) -> _DiskRows:
        """Rows of a ``.npy`` file, validated batch by batch; model checks on a first block."""
        source = RowSource(X, device)
        shape = source.sample_shape
        self._configure(tuple(shape))
        if self._image_input and len(shape) == 2:
            shape = (1, *shape)
        self._check_rank((0, *shape))
        if source.n_samples < 2:
            raise DataError(f"{X} holds {source.n_samples} sample(s); training needs at least 2")
        self.sample_shape_ = tuple(int(s) for s in shape)
        self.n_features_in_ = int(np.prod(self.sample_shape_))
        rows = _DiskRows(source, self._network_shape())
        self._check_data(rows.take(np.arange(min(source.n_samples, _INFERENCE_BATCH))))
        return rows

    @staticmethod
    def _require_unit_interval(X: torch.Tensor, setting: str, remedy: str) -> None:
        """Refuse data outside [0, 1] for a setting that needs it, saying what to do."""
        low, high = float(X.min()), float(X.max())
        if low < 0.0 or high > 1.0:
            raise DataError(
                f"{setting} needs X in [0, 1] but X spans [{low:.4g}, {high:.4g}]; {remedy}"
            )

    def _inference_generator(self, random_state: int | None = None) -> torch.Generator:
        """A private generator on the model's device, seeded from ``random_state`` or else
        the model's own, so sampling and Monte-Carlo scores repeat exactly; when both are
        None, freshly seeded on every call."""
        seed = resolve_seed(self.random_state if random_state is None else random_state)
        device = next(self.module_.parameters()).device
        return torch_generator(seed, device)

    def _check_rank(self, shape: tuple[int, ...]) -> None:
        """Image models name the layout they need before generic 2-D advice is given."""
        if self._image_input and len(shape) not in (3, 4):
            raise DataError(
                f"X must be images shaped (n_samples, channels, height, width) for "
                f"{type(self).__name__}, got shape {tuple(shape)}; reshape flat vectors, "
                "e.g. X.reshape(-1, 1, 28, 28)"
            )

    def _network_shape(self) -> tuple[int, ...]:
        """One sample as the network takes it: ``(-1,)`` (a vector) or the sample shape (an
        image). A model that views flat vectors as images returns that image's shape."""
        return self.sample_shape_ if self._image_input else (-1,)

    def _network_view(self, data: torch.Tensor) -> torch.Tensor:
        """Vectors (n, d) for fully-connected networks; (n, c, h, w) for image networks."""
        return data.reshape(len(data), *self._network_shape())

    def _input(self, X) -> torch.Tensor:
        check_is_fitted(self, ["module_"])
        device = next(self.module_.parameters()).device
        X = _as_array(X)
        self._check_rank(np.shape(X))
        data = check_tensor(X, device=device)
        if self._image_input and data.ndim == 3:
            data = data.unsqueeze(1)
        if self._image_input and tuple(data.shape[1:]) != self.sample_shape_:
            raise DataError(
                f"X has images of shape {tuple(data.shape[1:])} (channels, height, width) but "
                f"{type(self).__name__} was fitted on images of shape {self.sample_shape_}"
            )
        check_n_features(self, tuple(data.shape))
        return self._network_view(data)

    @torch.no_grad()
    def _batched(self, fn, *items) -> torch.Tensor:
        """Apply ``fn`` to aligned tensors (or rows read from disk) in bounded-memory
        batches, in eval mode; the module's mode is restored afterwards."""
        training = self.module_.training
        self.module_.eval()
        try:
            outputs = []
            for start in range(0, len(items[0]), _INFERENCE_BATCH):
                rows = slice(start, start + _INFERENCE_BATCH)
                outputs.append(fn(*(item[rows] if torch.is_tensor(item) else
                                    item.take(np.arange(len(item))[rows]) for item in items)))
            return torch.cat(outputs)
        finally:
            self.module_.train(training)

    def _get_state(self):
        check_is_fitted(self, ["module_"])
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
        state = {"sample_shape_": list(self.sample_shape_), "n_features_in_": self.n_features_in_,
                 "history_": self.history_, "n_epochs_": self.n_epochs_}
        return tensors, state

    def _set_state(self, tensors, state):
        self.sample_shape_ = tuple(state["sample_shape_"])
        self.n_features_in_ = int(state["n_features_in_"])
        self.history_ = state["history_"]
        self.n_epochs_ = int(state["n_epochs_"])
        module = self._build_module(self.sample_shape_)
        weights = {k[len("module."):]: v for k, v in tensors.items() if k.startswith("module.")}
        try:
            module.load_state_dict(weights)
        except RuntimeError as exc:
            raise CheckpointError(f"saved weights do not fit the model: {exc}") from exc
        self.module_ = module.to(resolve_device(self.device)).eval()
