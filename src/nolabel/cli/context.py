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
from nolabel.runs import Run, load_run


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
    data, spec = reload(DataSpec.from_json(run.config["data"]), getattr(args, "data", None),
                        getattr(args, "split", None), getattr(args, "limit", None))
    seed = run.config.get("seed", 0) if args.seed is None else args.seed
    return Context(run, spec, data, seed, args.verbose)


def default_out(args: argparse.Namespace, name: str) -> Path:
    """``--out`` if given, else ``name`` inside the run folder; parent folders created."""
    path = Path(args.out) if args.out else Path(args.run) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
