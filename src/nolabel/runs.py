"""Run folders: everything a command produced, each file written atomically."""

from __future__ import annotations

import csv
import io
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nolabel._atomic import atomic_write


def new_run_dir(out: str | Path | None, prefix: str) -> Path:
    """``out`` if given, else ``runs/<prefix>-<timestamp>``; created if missing."""
    path = Path(out) if out else Path("runs") / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"
    if path.exists() and not path.is_dir():
        from nolabel.errors import ParameterError

        raise ParameterError(f"--out {path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def environment() -> dict[str, str]:
    from nolabel import __version__

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
