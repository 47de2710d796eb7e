"""Run folders: everything a command produced, each file written atomically."""

from __future__ import annotations

import csv
import io
import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nolabel._atomic import atomic_write
from nolabel.errors import CheckpointError


def new_run_dir(out: str | Path | None, prefix: str) -> Path:
    """``out`` if given, else ``runs/<prefix>-<timestamp>``; created if missing."""
    path = Path(out) if out else Path("runs") / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"
    if path.exists() and not path.is_dir():
        from nolabel.errors import ParameterError

        raise ParameterError(f"--out {path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def environment() -> dict[str, str]:
    from nolabel._version import __version__

    return {"nolabel": __version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def write_json(path: str | Path, document: Any) -> Path:
    with atomic_write(path) as handle:
        handle.write((json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
    return Path(path)


def write_history_csv(path: str | Path, history: dict[str, list[float]]) -> Path:
    """One row per epoch, one column per logged quantity."""
    names = sorted(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["epoch", *names])
    for epoch in range(max((len(v) for v in history.values()), default=0)):
        writer.writerow([epoch + 1, *(history[n][epoch] if epoch < len(history[n]) else ""
                                      for n in names)])
    with atomic_write(path) as handle:
        handle.write(buffer.getvalue().encode())
    return Path(path)


# -- run folders of `nolabel fit` --------------------------------------------------------------

CONFIG = "config.json"
MODEL = "model.safetensors"
METRICS = "metrics.json"
HISTORY = "history.csv"


@dataclass
class Run:
    """A fitted run folder: where it is, its config.json and its model."""

    path: Path
    config: dict[str, Any]
    model: Any

    def metrics(self) -> dict[str, Any]:
        path = self.path / METRICS
        return json.loads(path.read_text()) if path.is_file() else {}


def history_of(model: Any) -> dict[str, list[float]]:
    """The model's per-epoch (or per-iteration) history as ``{name: values}``; empty if none."""
    history = getattr(model, "history_", None)
    if isinstance(history, dict):
        return {str(k): [float(v) for v in values] for k, values in history.items()
                if isinstance(values, list | tuple) and values}
    if isinstance(history, list | tuple | np.ndarray) and len(history):
        return {"log_likelihood": [float(v) for v in history]}
    return {}


def write_run(path: str | Path, model: Any, config: dict[str, Any]) -> Path:
    """Write the fitted ``model``, its ``config`` and its history into the run folder."""
    path = Path(path)
    model.save(path / MODEL)
    write_json(path / CONFIG, config)
    history = history_of(model)
    if history:
        write_history_csv(path / HISTORY, history)
    return path


def read_config(path: str | Path) -> dict[str, Any]:
    """config.json of a run folder; a clear CheckpointError for anything that is not one."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path} is not a run folder (no such folder); "
                              "make one with `nolabel fit`")
    if not (path / CONFIG).is_file() or not (path / MODEL).is_file():
        raise CheckpointError(f"{path} is not a run folder: it needs {CONFIG} and {MODEL} "
                              "(written by `nolabel fit`)")
    try:
        config = json.loads((path / CONFIG).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path / CONFIG} is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or "model" not in config or "data" not in config:
        raise CheckpointError(f"{path / CONFIG} is not the config of a `nolabel fit` run")
    return config


def load_run(path: str | Path, device: str | None = None) -> Run:
    """The run folder's config and fitted model (on ``device`` when given)."""
    from nolabel.persistence import load_model

    config = read_config(path)
    return Run(Path(path), config, load_model(Path(path) / MODEL, device=device))
