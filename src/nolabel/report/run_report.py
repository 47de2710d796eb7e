"""The report of a fitted run: figures written beside it and one HTML page embedding them.

The caller (``nolabel report``) gives arrays, not a model: each section is drawn only when
its inputs are there, so a section that does not apply to a model is left out, never faked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nolabel.metrics import cluster_mapping
from nolabel.report.figures import embedding_scatter, reconstruction_grid, sample_grid
from nolabel.report.html import Section, figure, paragraph, table, write_html
from nolabel.report.plots import confusion_plot, training_curves


@dataclass
class ReportInputs:
    title: str
    summary: list[tuple[str, Any]]
    metrics: dict[str, Any]
    images: bool  # the samples are images (n, c, h, w)
    history: dict[str, list[float]] = field(default_factory=dict)
    originals: np.ndarray | None = None
    reconstructions: np.ndarray | None = None
    samples: np.ndarray | None = None
    samples_by_cluster: list[np.ndarray] | None = None
    points: np.ndarray | None = None  # 2-D embedding of the rows in ``point_rows``
    point_rows: np.ndarray | None = None
    embedding_method: str = ""
    clusters: np.ndarray | None = None  # one per sample
    labels: np.ndarray | None = None
    class_names: Sequence[str] | None = None
    anomalies: np.ndarray | None = None  # indices, most anomalous first
    anomaly_scores: np.ndarray | None = None  # of every sample
    anomaly_images: np.ndarray | None = None  # the samples at ``anomalies``
    notes: list[str] = field(default_factory=list)


def flatten_metrics(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"clustering": {"acc": 0.8}}`` -> ``[("clustering.acc", 0.8)]``."""
    rows: list[tuple[str, Any]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flatten_metrics(value, name + ".")
        elif not isinstance(value, list):
            rows.append((name, value))
    return rows


def _summary(inputs: ReportInputs) -> Section:
    body = table(inputs.summary, ("setting", "value"))
    body += "<h3>metrics</h3>" + table(flatten_metrics(inputs.metrics), ("metric", "value"))
    body += "".join(paragraph(note, "note") for note in inputs.notes)
    return Section("Summary", body)


def _named(labels: np.ndarray, names: Sequence[str] | None) -> np.ndarray:
    if names is None:
        return labels
    return np.array([names[v] if 0 <= v < len(names) else str(v) for v in labels])


def _embedding(inputs: ReportInputs, folder: Path) -> Section | None:
    if inputs.points is None:
        return None
    rows = inputs.point_rows
    colourings = []
    if inputs.clusters is not None:
        clusters = inputs.clusters
        if inputs.labels is not None:  # name clusters by their matched label: shared colours
            mapping = cluster_mapping(inputs.labels, clusters)
            clusters = np.array([mapping.get(int(c), -1) for c in clusters])
            clusters = _named(clusters, inputs.class_names)
        colourings.append(("cluster" + (" (matched label)" if inputs.labels is not None
                                        else ""), clusters[rows]))
    if inputs.labels is not None:
        colourings.append(("label", _named(inputs.labels, inputs.class_names)[rows]))
    if not colourings:
        colourings.append(("nothing", np.full(len(rows), "sample")))
    path = embedding_scatter(inputs.points, colourings, folder / "embedding.png",
                             title=inputs.embedding_method)
    return Section("2-D embedding", figure(path, "2-D embedding",
                                           f"{len(rows)} samples; {inputs.embedding_method}"))


def _samples(inputs: ReportInputs, folder: Path) -> Section | None:
    if not inputs.images:
        return None
    if inputs.samples_by_cluster is not None:
        per_row = len(inputs.samples_by_cluster[0])
        path = sample_grid(np.concatenate(inputs.samples_by_cluster), folder / "samples.png",
                           title="samples: row c = cluster c", columns=per_row)
        return Section("Samples by cluster", figure(path, "samples by cluster",
                                                    "one row per cluster", grid=True))
    if inputs.samples is None:
        return None
    path = sample_grid(inputs.samples, folder / "samples.png", title="samples")
    return Section("Samples", figure(path, "samples", grid=True))


def _anomalies(inputs: ReportInputs, folder: Path) -> Section | None:
    if inputs.anomalies is None or inputs.anomaly_scores is None:
        return None
    rows = [(int(i), float(inputs.anomaly_scores[i]),
             *(() if inputs.labels is None else (_named(inputs.labels[[i]],
                                                        inputs.class_names)[0],)))
            for i in inputs.anomalies]
    header = ("row", "anomaly score", *(() if inputs.labels is None else ("label",)))
    body = ""
    if inputs.images and inputs.anomaly_images is not None:
        path = sample_grid(inputs.anomaly_images, folder / "anomalies.png",
                           title="most anomalous first (left to right, top to bottom)")
        body += figure(path, "most anomalous samples", grid=True)
    return Section("Most anomalous samples", body + table(rows, header))


def write_run_report(path: str | Path, inputs: ReportInputs) -> Path:
    """Write the page at ``path`` and its figures (PNG) beside it; returns ``path``."""
    path = Path(path)
    folder = path.parent
    sections: list[Section | None] = [_summary(inputs)]
    if inputs.history:
        png = training_curves(inputs.history, folder / "training_curves.png")
        sections.append(Section("Training curves", figure(png, "training curves")))
    if inputs.images and inputs.reconstructions is not None:
        png = reconstruction_grid(inputs.originals, inputs.reconstructions,
                                  folder / "reconstructions.png")
        sections.append(Section("Reconstructions", figure(png, "originals vs reconstructions")))
    sections.append(_samples(inputs, folder))
    sections.append(_embedding(inputs, folder))
    if inputs.clusters is not None and inputs.labels is not None:
        png = confusion_plot(inputs.labels, inputs.clusters, folder / "confusion.png",
                             inputs.class_names)
        sections.append(Section("Clusters vs labels", figure(png, "confusion matrix")))
    sections.append(_anomalies(inputs, folder))
    return write_html(path, inputs.title,
                      [s for s in sections if s is not None])
