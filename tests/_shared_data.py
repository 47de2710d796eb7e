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
