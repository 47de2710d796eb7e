"""A safetensors file with a SHA-256 sidecar (``<file>.sha256``, ``sha256sum`` format).

The sidecar is checked before the file is parsed, so a damaged or swapped weights file is
reported as such instead of loading wrong weights. Both are written atomically; the sidecar
last, so an interrupted save leaves a mismatch that is reported, never a silent half-update.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from nolabel._atomic import atomic_write
from nolabel.data.download import sha256_file
from nolabel.errors import CheckpointError, ChecksumError
from nolabel.train.checkpoint import read_tensors, write_tensors

_DIGEST = re.compile(r"[0-9a-f]{64}")


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def write_verified(
    path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> Path:
    path = write_tensors(path, tensors, meta)
    with atomic_write(sidecar_path(path)) as handle:
        handle.write(f"{sha256_file(path)}  {path.name}\n".encode())
    return path


def read_verified(path: str | Path, remedy: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and metadata of ``path`` once its SHA-256 matches the sidecar's.

    ``remedy`` ends the error messages: how to re-create the file.
    """
    path = Path(path)
    sidecar = sidecar_path(path)
    if not path.is_file() or not sidecar.is_file():
        missing = path if not path.is_file() else sidecar
        raise CheckpointError(f"{missing} does not exist; {remedy}")
    fields = sidecar.read_text(encoding="ascii", errors="replace").split()
    if not fields or not _DIGEST.fullmatch(fields[0].lower()):
        raise CheckpointError(f"{sidecar} does not hold a SHA-256 digest; {remedy}")
    actual = sha256_file(path)
    if actual != fields[0].lower():
        raise ChecksumError(
            f"{path} has SHA-256 {actual} but {sidecar.name} records {fields[0]}: the file is "
            f"corrupt or was changed; {remedy}"
        )
    return read_tensors(path)
