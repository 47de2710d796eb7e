"""What every neural estimator shares: validation, device, seeding, the training loop, saving.

A model file subclasses :class:`NeuralEstimator` and supplies ``_build_module`` (its network)
and ``_objectives`` (its losses with their optimizers); fit, resume, batched inference and
save/load come from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from torch import nn

from nolabel._chunks import RowSource
from nolabel._device import resolve_device, seed_everything, torch_generator
from nolabel._validation import (
    check_choice,
    check_float,
    check_int,
    check_is_fitted,
    check_n_features,
    check_tensor,
)
from nolabel.errors import CheckpointError, DataError
from nolabel.persistence import Persistable
from nolabel.train import Objective, TrainConfig, fit, make_optimizer

_INFERENCE_BATCH = 4096


class _DiskRows:
    """A row source reshaped for the network: vectors (n, d) or images (n, c, h, w)."""

    def __init__(self, source: RowSource, shape: tuple[int, ...]) -> None:
        self.source, self.shape = source, shape

    def __len__(self) -> int:
        return len(self.source)

    def take(self, rows: np.ndarray) -> torch.Tensor:
        return self.source.take(rows).reshape(len(rows), *self.shape)


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

    # True when the network takes images (n, channels, height, width) rather than vectors.
    _image_input = False

    # -- to provide in subclasses ---------------------------------------------------------
    def _build_module(self, sample_shape: tuple[int, ...]) -> nn.Module:
        """The network for samples of ``sample_shape`` (``(c, h, w)`` for images)."""
        raise NotImplementedError

    def _objectives(self, module: nn.Module) -> list[Objective]:
        raise NotImplementedError

    def _check_data(self, X: torch.Tensor) -> None:
        """Model-specific checks on validated training data (e.g. range for BCE)."""

    # -- shared ---------------------------------------------------------------------------
    def _check_training_params(self) -> None:
        check_int("epochs", self.epochs)
        check_int("batch_size", self.batch_size)
        check_float("lr", self.lr, minimum=0.0, strict=True)
        check_float("weight_decay", self.weight_decay, minimum=0.0)
        check_choice("optimizer", self.optimizer, ("adam", "sgd"))
        check_int("checkpoint_every", self.checkpoint_every)
        check_int("verbose", self.verbose, minimum=0)

    def _make_optimizer(self, parameters: Any) -> torch.optim.Optimizer:
        return make_optimizer(self.optimizer, parameters, self.lr, self.weight_decay)

    def fit(self, X, y=None, *, resume_from: str | Path | None = None):
        """Train on ``X`` (n_samples, ...). ``resume_from`` continues a checkpointed run.

        ``X`` may also be the path of a ``.npy`` file (or a ``numpy.memmap``): it is then read
        batch by batch and never held in memory whole.
        """
        self._check_training_params()
        device = resolve_device(self.device)
        if isinstance(X, str | Path | np.memmap):
            data = self._disk_rows(X, device)
        else:
            self._check_rank(np.shape(X))
            data = check_tensor(X, device=device, min_samples=2)
            if self._image_input and data.ndim == 3:
                data = data.unsqueeze(1)
            self._check_data(data)
            self.sample_shape_ = tuple(int(s) for s in data.shape[1:])
            data = self._network_view(data)
        self.n_features_in_ = int(np.prod(self.sample_shape_))
        seed = seed_everything(self.random_state)
        module = self._build_module(self.sample_shape_).to(device)
        objectives = self._objectives(module)
        config = TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, device=device, seed=seed,
            verbose=self.verbose, checkpoint_path=self.checkpoint_path,
            checkpoint_every=self.checkpoint_every, description=type(self).__name__,
        )
        if resume_from is not None and not Path(resume_from).exists():
            raise CheckpointError(f"resume_from={str(resume_from)!r} does not exist")
        self.module_ = module
        result = fit(module, (data,), objectives, config, resume_from=resume_from)
        self.history_ = result.history
        self.n_epochs_ = result.epochs_run
        return self

    def _disk_rows(self, X, device: torch.device) -> _DiskRows:
        """Rows of a ``.npy`` file, validated batch by batch; model checks on a first block."""
        source = RowSource(X, device)
        shape = source.sample_shape
        if self._image_input and len(shape) == 2:
            shape = (1, *shape)
        self._check_rank((0, *shape))
        if source.n_samples < 2:
            raise DataError(f"{X} holds {source.n_samples} sample(s); training needs at least 2")
        self.sample_shape_ = tuple(int(s) for s in shape)
        rows = _DiskRows(source, self.sample_shape_ if self._image_input else (-1,))
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
        """A private generator on the model's device, seeded from ``random_state`` (or the
        model's own, or 0), so sampling and Monte-Carlo scores repeat exactly."""
        seed = self.random_state if random_state is None else random_state
        device = next(self.module_.parameters()).device
        return torch_generator(0 if seed is None else int(seed), device)

    def _check_rank(self, shape: tuple[int, ...]) -> None:
        """Image models name the layout they need before generic 2-D advice is given."""
        if self._image_input and len(shape) not in (3, 4):
            raise DataError(
                f"X must be images shaped (n_samples, channels, height, width) for "
                f"{type(self).__name__}, got shape {tuple(shape)}; reshape flat vectors, "
                "e.g. X.reshape(-1, 1, 28, 28)"
            )

    def _network_view(self, data: torch.Tensor) -> torch.Tensor:
        """Vectors (n, d) for fully-connected networks; (n, c, h, w) for image networks."""
        if not self._image_input:
            return data.reshape(len(data), -1)
        return data.reshape(len(data), *self.sample_shape_)

    def _input(self, X) -> torch.Tensor:
        check_is_fitted(self, ["module_"])
        device = next(self.module_.parameters()).device
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
    def _batched(self, fn, *tensors: torch.Tensor) -> torch.Tensor:
        """Apply ``fn`` to aligned tensors in bounded-memory batches, in eval mode."""
        self.module_.eval()
        outputs = [fn(*(t[i:i + _INFERENCE_BATCH] for t in tensors))
                   for i in range(0, len(tensors[0]), _INFERENCE_BATCH)]
        return torch.cat(outputs)

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
