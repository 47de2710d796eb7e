"""The one training loop every neural model uses.

An estimator hands over its module, its tensors and one or more :class:`Objective` (a loss
with the optimizer that minimises it); the loop owns everything else: mini-batch order from a
private seeded generator, progress, per-epoch history, the NaN/inf guard, checkpoints and
resume. Models with several players (GANs, adversarial clustering) pass several objectives,
stepped in order on every batch, each ``steps`` times.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from nolabel.errors import CheckpointError, DataError, TrainingError
from nolabel.train.checkpoint import pack_optimizer, read_tensors, unpack_optimizer, write_tensors

Batch = tuple[torch.Tensor, ...]
LossFn = Callable[[nn.Module, Batch], "torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]"]


@dataclass
class Objective:
    """A loss and the optimizer that minimises it.

    ``loss(module, batch)`` returns a scalar tensor, or ``(scalar, {name: scalar})`` to log
    extra per-epoch means (e.g. a discriminator's accuracy).
    """

    name: str
    loss: LossFn
    optimizer: torch.optim.Optimizer
    steps: int = 1


@dataclass
class TrainConfig:
    epochs: int
    batch_size: int
    device: torch.device
    seed: int
    shuffle: bool = True
    verbose: int = 1
    checkpoint_path: str | Path | None = None
    checkpoint_every: int = 1
    description: str = "training"


@dataclass
class TrainResult:
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0


def make_optimizer(
    name: str, parameters: Any, lr: float, weight_decay: float = 0.0, **kwargs: Any
) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay, **kwargs)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, weight_decay=weight_decay,
                               momentum=kwargs.pop("momentum", 0.9), **kwargs)
    raise ValueError(f"unknown optimizer {name!r}")  # estimators validate before this


def _progress_enabled(verbose: int) -> bool:
    return verbose >= 1 and sys.stderr.isatty()


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _rng_tensors(generator: torch.Generator) -> dict[str, torch.Tensor]:
    tensors = {"rng.torch": torch.get_rng_state(), "rng.data": generator.get_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state
    return tensors


def save_checkpoint(
    path: str | Path,
    module: nn.Module,
    objectives: Sequence[Objective],
    generator: torch.Generator,
    result: TrainResult,
) -> Path:
    tensors = {f"model.{k}": v for k, v in module.state_dict().items()}
    optim_meta = {}
    for objective in objectives:
        optim_tensors, meta = pack_optimizer(f"optim.{objective.name}", objective.optimizer)
        tensors.update(optim_tensors)
        optim_meta[objective.name] = meta
    tensors.update(_rng_tensors(generator))
    meta = {"kind": "checkpoint", "epoch": result.epochs_run, "history": result.history,
            "optimizers": optim_meta}
    return write_tensors(path, tensors, meta)


def load_checkpoint(
    path: str | Path,
    module: nn.Module,
    objectives: Sequence[Objective],
    generator: torch.Generator,
) -> TrainResult:
    """Restore weights, optimizer states and RNG states; return the history so far."""
    tensors, meta = read_tensors(path)
    if meta.get("kind") != "checkpoint":
        raise CheckpointError(f"{path} is a saved model, not a training checkpoint")
    missing = {o.name for o in objectives} - set(meta["optimizers"])
    if missing:
        raise CheckpointError(f"{path} has no optimizer state for {sorted(missing)}")
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        module.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(f"{path} does not match this model's architecture: {exc}") from exc
    for objective in objectives:
        unpack_optimizer(f"optim.{objective.name}", objective.optimizer, tensors,
                         meta["optimizers"][objective.name])
    torch.set_rng_state(tensors["rng.torch"])
    generator.set_state(tensors["rng.data"])
    cuda_states = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    return TrainResult(history={k: list(v) for k, v in meta["history"].items()},
                       epochs_run=int(meta["epoch"]))


def _as_loss(output: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    if isinstance(output, tuple):
        return output[0], output[1]
    return output, {}


def fit(
    module: nn.Module,
    data: Sequence[torch.Tensor],
    objectives: Sequence[Objective],
    config: TrainConfig,
    *,
    resume_from: str | Path | None = None,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train ``module`` on the tensors in ``data`` (all of the same length, already on device).

    Each epoch visits every sample once in an order drawn from a generator seeded with
    ``config.seed``; the same seed on the same device gives the same weights. With
    ``resume_from``, training continues from that checkpoint up to ``config.epochs``.
    """
    n_samples = int(data[0].shape[0])
    if n_samples == 0:
        raise DataError("cannot train on an empty dataset")
    generator = torch.Generator(device="cpu")
    generator.manual_seed(config.seed)
    result = TrainResult()
    if resume_from is not None:
        result = load_checkpoint(resume_from, module, objectives, generator)

    batch_size = min(config.batch_size, n_samples)
    n_batches = math.ceil(n_samples / batch_size)
    bar = tqdm(total=(config.epochs - result.epochs_run) * n_batches, desc=config.description,
               disable=not _progress_enabled(config.verbose), leave=False, dynamic_ncols=True)
    module.train()
    try:
        for epoch in range(result.epochs_run + 1, config.epochs + 1):
            last_good = _snapshot(module)
            start = time.perf_counter()
            order = (torch.randperm(n_samples, generator=generator) if config.shuffle
                     else torch.arange(n_samples)).to(data[0].device)
            sums: dict[str, torch.Tensor] = {}
            for first in range(0, n_samples, batch_size):
                index = order[first:first + batch_size]
                batch = tuple(tensor[index] for tensor in data)
                for objective in objectives:
                    for _ in range(objective.steps):
                        objective.optimizer.zero_grad(set_to_none=True)
                        loss, extras = _as_loss(objective.loss(module, batch))
                        loss.backward()
                        objective.optimizer.step()
                    key = "loss" if len(objectives) == 1 else f"{objective.name}_loss"
                    sums[key] = sums.get(key, 0.0) + loss.detach()
                    for name, value in extras.items():
                        sums[name] = sums.get(name, 0.0) + value.detach()
                bar.update(1)
            means = {name: float(total) / n_batches for name, total in sums.items()}
            bad = [name for name, value in means.items() if not math.isfinite(value)]
            if bad:
                module.load_state_dict(last_good)
                raise TrainingError(
                    f"{bad[0]} became {means[bad[0]]} in epoch {epoch}; the model keeps the "
                    f"weights from the end of epoch {epoch - 1}. Lower the learning rate or "
                    "check the data scale."
                )
            means["epoch_time"] = time.perf_counter() - start
            for name, value in means.items():
                result.history.setdefault(name, []).append(value)
            result.epochs_run = epoch
            bar.set_postfix({k: f"{v:.4g}" for k, v in means.items() if k != "epoch_time"})
            if config.verbose >= 2:
                summary = ", ".join(f"{k}={v:.5g}" for k, v in means.items())
                print(f"{config.description} epoch {epoch}/{config.epochs}: {summary}",
                      file=sys.stderr)
            if config.checkpoint_path is not None and (
                epoch % config.checkpoint_every == 0 or epoch == config.epochs
            ):
                save_checkpoint(config.checkpoint_path, module, objectives, generator, result)
            if on_epoch_end is not None:
                on_epoch_end(epoch, means)
    finally:
        bar.close()
        module.eval()
    return result
