"""Saving and loading fitted estimators: one safetensors file, JSON config in its header.

A saved model holds the estimator's registry name, its hyper-parameters, its fitted
non-tensor attributes and its tensors. Loading rebuilds the estimator through the registry
and never unpickles anything.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nolabel import registry
from nolabel.errors import CheckpointError
from nolabel.train.checkpoint import read_tensors, write_tensors


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.device):
        return str(value)
    return value


class Persistable:
    """Mixin: ``save(path)``; subclasses provide ``_get_state`` and ``_set_state``."""

    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        raise NotImplementedError

    def _set_state(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        raise NotImplementedError

    def save(self, path: str | Path) -> Path:
        """Write the fitted estimator to ``path`` (a ``.safetensors`` file), atomically."""
        from nolabel import __version__

        tensors, state = self._get_state()
        params = self.get_params(deep=False)
        init = params.get("init")
        if isinstance(init, np.ndarray):  # array-valued hyper-parameters travel as tensors
            tensors = {**tensors, "param.init": torch.from_numpy(init)}
            params["init"] = "__tensor__"
        meta = {
            "kind": "model",
            "model": self._registry_name,
            "params": _jsonable(params),
            "state": _jsonable(state),
            "nolabel_version": __version__,
        }
        return write_tensors(path, tensors, meta)


def load_model(path: str | Path):
    """Load an estimator written by ``save``; refuses anything that is not a nolabel model."""
    from nolabel import __version__

    tensors, meta = read_tensors(path)
    if meta.get("kind") != "model":
        raise CheckpointError(f"{path} is a training checkpoint, not a saved model")
    saved_version = meta.get("nolabel_version")
    if saved_version != __version__:
        warnings.warn(
            f"{path} was saved by nolabel {saved_version}; this is nolabel {__version__}",
            stacklevel=2,
        )
    cls = registry.get(meta["model"]).cls
    params = dict(meta["params"])
    if params.get("init") == "__tensor__":
        params["init"] = tensors.pop("param.init").numpy()
    estimator = cls(**params)
    estimator._set_state(tensors, meta["state"])
    return estimator
