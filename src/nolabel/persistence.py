"""Saving and loading fitted estimators: one safetensors file, JSON config in its header.

A saved model holds the estimator's registry name, its hyper-parameters, its fitted
non-tensor attributes and its tensors. Loading rebuilds the estimator through the registry
and never unpickles anything.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nolabel import _version, registry
from nolabel.errors import CheckpointError, ParameterError
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
        tensors, state = self._get_state()
        params = self.get_params(deep=False)
        init = params.get("init")
        if isinstance(init, np.ndarray):  # array-valued hyper-parameters travel as tensors
            tensors = {**tensors, "param.init": torch.from_numpy(init)}
            params["init"] = "__tensor__"
        pretrained = params.get("pretrained")
        if isinstance(pretrained, os.PathLike):
            params["pretrained"] = os.fspath(pretrained)
        elif not isinstance(pretrained, str | None):
            params["pretrained"] = None  # an estimator: what it gave is in the fitted weights
        meta = {
            "kind": "model",
            "model": self._registry_name,
            "params": _jsonable(params),
            "state": _jsonable(state),
            "nolabel_version": _version.__version__,
        }
        return write_tensors(path, tensors, meta)


def _model_header(path: str | Path, meta: Any) -> tuple[str, dict, dict]:
    """The registry name, hyper-parameters and fitted state a model file's header holds."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} has a corrupt nolabel header: not a JSON object")
    if meta.get("kind") != "model":
        raise CheckpointError(f"{path} is a training checkpoint, not a saved model")
    name, params, state = meta.get("model"), meta.get("params"), meta.get("state")
    if not (isinstance(name, str) and isinstance(params, dict) and isinstance(state, dict)):
        raise CheckpointError(
            f"{path} has a corrupt nolabel header: it needs a model name, a params object and a "
            "state object"
        )
    return name, params, state


def load_model(path: str | Path, device: str | None = None):
    """Load an estimator written by ``save``; refuses anything that is not a nolabel model.

    ``device`` overrides the saved one (e.g. ``"cpu"`` for a model fitted on a GPU)."""
    tensors, meta = read_tensors(path)
    name, params, state = _model_header(path, meta)
    saved_version = meta.get("nolabel_version")
    if saved_version != _version.__version__:
        warnings.warn(
            f"{path} was saved by nolabel {saved_version}; this is nolabel {_version.__version__}",
            stacklevel=2,
        )
    try:
        cls = registry.get(name).cls
    except ParameterError as exc:
        raise CheckpointError(f"{path} holds a model this nolabel does not know: {exc}") from None
    params = dict(params)
    if device is not None and "device" in params:
        params["device"] = device
    try:
        if params.get("init") == "__tensor__":
            params["init"] = tensors.pop("param.init").numpy()
        estimator = cls(**params)
        estimator._set_state(tensors, state)
    except ParameterError as exc:  # e.g. saved for a GPU this machine does not have
        raise ParameterError(f"{path}: {exc}; choose another with load_model(path, device=...) "
                             "(--device on the command line)") from None
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise CheckpointError(
            f"{path} holds a {name} model that cannot be rebuilt ({type(exc).__name__}: {exc}); "
            "the file is damaged or was written by an incompatible nolabel version"
        ) from exc
    return estimator
