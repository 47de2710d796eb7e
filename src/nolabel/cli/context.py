"""A fitted run opened for a command: its model, its capabilities and the data to use."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nolabel import registry
from nolabel.cli.data import DataSpec, fingerprint, model_input, reload
from nolabel.data import Dataset
from nolabel.errors import Argument, DataError
from nolabel.runs import Run, load_run

READING = ("image_size", "channels", "resize", "delimiter")  # options of how files are read


@dataclass
class Context:
    run: Run
    spec: DataSpec
    data: Dataset
    seed: int
    verbose: int

    @property
    def model(self) -> Any:
        return self.run.model

    @property
    def name(self) -> str:
        return self.run.config["model"]

    @property
    def caps(self) -> registry.Capabilities:
        return registry.capabilities(self.model)

    @property
    def X(self) -> np.ndarray:
        return model_input(self.data, self.caps.any_shape)

    @property
    def same_as_training(self) -> bool:
        return fingerprint(self.data.X) == self.run.config["data_info"]["sha256"]

    def say(self, message: str) -> None:
        if self.verbose:
            print(message, flush=True)


def open_run(args: argparse.Namespace) -> Context:
    """The run named by ``args.run`` with the data of ``--data/--split/--limit``."""
    run = load_run(args.run, device=args.device)
    reading = {name: getattr(args, name, None) for name in READING}
    data, spec = reload(DataSpec.from_json(run.config["data"]), getattr(args, "data", None),
                        getattr(args, "split", None), getattr(args, "limit", None),
                        reading=reading, verbose=args.verbose)
    _check_image_shape(run, data, spec)
    seed = run.config.get("seed", 0) if args.seed is None else args.seed
    return Context(run, spec, data, seed, args.verbose)


def _check_image_shape(run: Run, data: Dataset, spec: DataSpec) -> None:
    """Images of another shape than the run was fitted on: name the size and channels that
    bring them to it (the model would only say it expects another number of features)."""
    fitted = run.config.get("data_info", {}).get("sample_shape")
    if not data.is_image or not fitted or len(fitted) != 3 or list(data.sample_shape) == fitted:
        return
    fixes = []
    if list(data.sample_shape[1:]) != fitted[1:]:
        fixes.append(Argument("image_size", tuple(fitted[1:])))
    if data.sample_shape[0] != fitted[0]:
        fixes.append(Argument("channels", fitted[0]))
    raise DataError(
        f"{spec.source} holds images of shape {data.sample_shape} (channels, height, width) "
        f"but {run.path} was fitted on {tuple(fitted)}; pass "
        f"{' and '.join(map(str, fixes))} to bring them to it",
        arguments=fixes,
    )


def default_out(args: argparse.Namespace, name: str) -> Path:
    """``--out`` if given, else ``name`` inside the run folder; parent folders created."""
    path = Path(args.out) if args.out else Path(args.run) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
