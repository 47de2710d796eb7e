"""Device choice and private seeding shared by every estimator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from nolabel.errors import ParameterError


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a ``torch.device`` into a device.

    ``"auto"`` (or ``None``) picks CUDA when it is available, else the CPU. Under ``torchrun``
    a bare ``"cuda"`` means this process's GPU, ``cuda:LOCAL_RANK``.
    """
    if device is None or device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ParameterError(
            f"device={device!r} is not a device: use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device={device!r} was asked for but CUDA is not available here")
    if resolved.type == "cuda" and resolved.index is None and "LOCAL_RANK" in os.environ:
        resolved = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return resolved


def resolve_seed(random_state: int | None) -> int:
    """The integer seed of ``random_state``; ``None`` draws a fresh one, so runs differ but
    the seed can still be recorded. Nothing global is seeded: estimators draw from private
    generators (see :func:`private_torch_rng`)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if not isinstance(random_state, int | np.integer) or isinstance(random_state, bool):
        raise ParameterError(f"random_state must be an int or None, got {random_state!r}")
    return int(random_state) % (2**32)


@contextmanager
def private_torch_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Run a block on torch's default generators seeded with ``seed`` and give the caller's
    states back afterwards.

    Weight initialisation, dropout and ``randn_like`` inside the block draw from a stream of
    their own (what a checkpoint saves and resume restores), and code around the estimator
    sees the global generators exactly as it left them, as with scikit-learn.
    """
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(cuda[0]):
                torch.cuda.manual_seed(seed)
        yield


def torch_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A private torch RNG, so data order does not depend on global RNG use elsewhere."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator
