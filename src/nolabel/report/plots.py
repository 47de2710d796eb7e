"""Figures of a run's numbers: training curves and clusters against labels (PNG, Agg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nolabel.metrics import cluster_mapping, confusion
from nolabel.report.figures import _save, plt


def training_curves(history: dict[str, Sequence[float]], path: str | Path,
                    title: str = "training curves") -> Path:
    """One panel per logged quantity against the epoch (or iteration) it was logged at, four
    panels to a row: a model that logs a dozen quantities (DAC, the GANs) stays readable."""
    names = sorted(history)
    columns = max(1, min(4, len(names)))
    rows = max(1, -(-len(names) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.8 * rows), squeeze=False)
    for axis in axes.flat[len(names):]:
        axis.set_visible(False)
    for axis, name in zip(axes.flat, names, strict=False):
        values = np.asarray(history[name], dtype=np.float64)
        axis.plot(np.arange(1, len(values) + 1), values, marker="." if len(values) < 30 else "")
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def confusion_plot(labels: np.ndarray, clusters: np.ndarray, path: str | Path,
                   class_names: Sequence[str] | None = None,
                   title: str = "clusters vs labels") -> Path:
    """Counts of every label (rows) in every cluster (columns); clusters ordered by the label
    they are matched to, so a good clustering shows a bright diagonal."""
    table = confusion(labels, clusters)
    mapping = cluster_mapping(labels, clusters)
    rank = {int(c): mapping.get(int(c), len(table.classes) + i)
            for i, c in enumerate(table.clusters)}
    order = np.argsort([rank[int(c)] for c in table.clusters], kind="stable")
    matrix, columns = table.matrix[:, order], table.clusters[order]
    rows = [class_names[int(c)] if class_names is not None and 0 <= c < len(class_names)
            else str(c) for c in table.classes]
    fig, axis = plt.subplots(figsize=(1.2 + 0.45 * len(columns), 1.0 + 0.4 * len(rows)))
    axis.imshow(matrix, cmap="Blues", aspect="auto")
    if matrix.size <= 400:
        high = matrix.max() if matrix.size else 0
        for (row, column), count in np.ndenumerate(matrix):
            axis.text(column, row, str(count), ha="center", va="center", fontsize=7,
                      color="white" if count > 0.6 * high else "black")
    axis.set_xticks(range(len(columns)), [str(c) for c in columns], fontsize=8)
    axis.set_yticks(range(len(rows)), rows, fontsize=8)
    axis.set_xlabel("cluster")
    axis.set_ylabel("label")
    axis.set_title(title)
    return _save(fig, path)
