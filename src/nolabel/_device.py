"""Device choice and seeding shared by every estimator."""

from __future__ import annotations

import os
import random

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


def seed_everything(random_state: int | None) -> int:
    """Seed Python, numpy and torch from one integer and return the seed used.

    ``None`` draws a fresh seed, so runs differ but the seed can still be recorded.
    """
    if random_state is None:
        random_state = int(np.random.SeedSequence().generate_state(1)[0])
    if not isinstance(random_state, int | np.integer) or isinstance(random_state, bool):
        raise ParameterError(f"random_state must be an int or None, got {random_state!r}")
    seed = int(random_state) % (2**32)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002  (code outside nolabel may use the legacy global RNG)
    torch.manual_seed(seed)
    return seed


def torch_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A private torch RNG, so data order does not depend on global RNG use elsewhere."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator
