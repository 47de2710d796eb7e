"""Checkpoint files: safetensors for tensors, JSON for everything else, written atomically.

One file holds both: the JSON document travels in the safetensors header's metadata, so a
checkpoint can never be half-updated (tensors from one epoch, state from another). Reading
never unpickles: a file that is not safetensors is refused before anything in it runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from nolabel._atomic import atomic_write
from nolabel.errors import CheckpointError

_META_KEY = "nolabel"


def write_tensors(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Write ``tensors`` and the JSON-able ``meta`` to ``path`` via a temporary file + rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contiguous = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    payload = save(contiguous, metadata={_META_KEY: json.dumps(meta)})
    with atomic_write(path) as handle:
        handle.write(payload)
    return path


def read_tensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a file written by :func:`write_tensors`; anything else is a :class:`CheckpointError`."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, expected a .safetensors file")
    if not path.exists():
        raise CheckpointError(f"{path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{path} is not a valid safetensors file ({exc}); nolabel only loads safetensors "
            "checkpoints and never unpickles"
        ) from exc
    if _META_KEY not in metadata:
        raise CheckpointError(f"{path} is a safetensors file but was not written by nolabel")
    try:
        meta = json.loads(metadata[_META_KEY])
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} has a corrupt nolabel header: {exc}") from exc
    return tensors, meta


def pack_optimizer(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Split an optimizer's state into tensors (for safetensors) and JSON (everything else)."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, slots in state["state"].items():
        for name, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{param_id}.{name}"] = value
            else:
                scalars.setdefault(str(param_id), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def unpack_optimizer(
    prefix: str, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            param_id, name = key[len(prefix) + 1 :].split(".", 1)
            state.setdefault(int(param_id), {})[name] = value
    for param_id, slots in meta["scalars"].items():
        state.setdefault(int(param_id), {}).update(slots)
    groups = [{k: tuple(v) if k == "betas" else v for k, v in group.items()}
              for group in meta["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
