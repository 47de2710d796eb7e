"""Where the third-party benchmark data lives: ``$NOLABEL_SHARED_DATASETS`` or ../shared/datasets.

Tests that read it skip, naming the path, when it is absent (a clone outside the workspace).
"""

import os
from pathlib import Path

SHARED_DATASETS = Path(os.environ.get(
    "NOLABEL_SHARED_DATASETS",
    Path(__file__).resolve().parents[1].parent / "shared" / "datasets"))
CLUSTBENCH = SHARED_DATASETS / "clustbench"
FCPS = CLUSTBENCH / "fcps"
ADBENCH = SHARED_DATASETS / "adbench"


def adbench_table(filename: str):
    """An ADBench table standardised (float32) and its anomaly flags; skips when absent."""
    import numpy as np
    import pytest

    path = ADBENCH / filename
    if not path.is_file():
        pytest.skip(f"ADBench data not found at {path} (see shared/datasets/README.md)")
    with np.load(path, allow_pickle=False) as archive:
        X, y = archive["X"].astype(np.float64), archive["y"] == 1
    return ((X - X.mean(0)) / X.std(0)).astype(np.float32), y
