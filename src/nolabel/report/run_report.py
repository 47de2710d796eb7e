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
from nolabel.report.model_figures import (
    centre_images,
    centre_profiles,
    cluster_sizes,
    explained_variance,
    reconstruction_scatter,
    rows_against_data,
    samples_against_data,
    score_histogram,
    silhouette_plot,
)
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
    sample_clusters: list[int] = field(default_factory=list)  # the clusters of those rows
    points: np.ndarray | None = None  # 2-D embedding of the rows in ``point_rows``
    point_rows: np.ndarray | None = None
    embedding_method: str = ""
    clusters: np.ndarray | None = None  # one per sample
    labels: np.ndarray | None = None
    class_names: Sequence[str] | None = None
    anomalies: np.ndarray | None = None  # indices, most anomalous first
    anomaly_scores: np.ndarray | None = None  # of every sample
    anomaly_images: np.ndarray | None = None  # the samples at ``anomalies``
    likelihood: bool = False  # anomaly scores are minus log-densities (nats)
    table: np.ndarray | None = None  # the rows as the model sees them, when not images
    feature_names: Sequence[str] | None = None
    table_reconstructions: np.ndarray | None = None  # of every row of ``table``
    cluster_features: np.ndarray | None = None  # where silhouettes are measured, per sample
    cluster_space: str = "the data"  # what ``cluster_features`` are, in words
    cluster_data: np.ndarray | None = None  # the samples whose per-cluster means are shown
    explained_variance_ratio: np.ndarray | None = None
    coverage: Any = None  # nolabel.metrics.generation.ClassCoverage of the samples
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
        if inputs.samples is None or inputs.table is None:
            return None
        path = samples_against_data(inputs.table, inputs.samples, folder / "samples.png",
                                    inputs.feature_names)
        return Section("Samples", figure(path, "samples against the data",
                                         f"{len(inputs.samples)} samples"))
    if inputs.samples_by_cluster is not None:
        per_row = len(inputs.samples_by_cluster[0])
        clusters = inputs.sample_clusters or list(range(len(inputs.samples_by_cluster)))
        every = clusters == list(range(len(clusters)))
        title = ("samples: row c = cluster c" if every else
                 f"samples: one row for each of clusters {', '.join(map(str, clusters))}")
        path = sample_grid(np.concatenate(inputs.samples_by_cluster), folder / "samples.png",
                           title=title, columns=per_row)
        return Section("Samples by cluster", figure(path, "samples by cluster",
                                                    "one row per cluster", grid=True))
    if inputs.samples is None:
        return None
    path = sample_grid(inputs.samples, folder / "samples.png", title="samples")
    return Section("Samples", figure(path, "samples", grid=True))


def _clusters(inputs: ReportInputs, folder: Path) -> Section | None:
    """Sizes, silhouettes and the mean sample of each cluster: what any clusterer found."""
    if inputs.clusters is None:
        return None
    clusters = inputs.clusters
    body = figure(cluster_sizes(clusters, folder / "cluster_sizes.png"), "cluster sizes")
    if inputs.cluster_features is not None:
        png = silhouette_plot(inputs.cluster_features, clusters, folder / "silhouettes.png",
                              title=f"silhouette per cluster, in {inputs.cluster_space}")
        body += (figure(png, "silhouettes", "each bar is a sample; wide blocks with values "
                        "near 1 are compact, separated clusters") if png is not None else
                 paragraph("Fewer than two clusters (noise excluded): no silhouettes.", "note"))
    if inputs.cluster_data is not None:
        found = [c for c in np.unique(clusters) if c != -1]
        if found:
            means = np.stack([inputs.cluster_data[clusters == c].mean(0) for c in found])
            caption = "the mean sample of each cluster" + (
                "" if found == list(range(len(found))) else
                f" (clusters {', '.join(map(str, found))})")
            png = (centre_images(means, folder / "centres.png", title="cluster centres "
                                 "(mean image of each cluster)") if inputs.images else
                   centre_profiles(means, folder / "centres.png", inputs.feature_names,
                                   title="cluster centres (mean of each cluster, in the "
                                   "units the model saw)"))
            body += figure(png, "cluster centres", caption, grid=False)
    return Section("Clusters", body)


def _components(inputs: ReportInputs, folder: Path) -> Section | None:
    if inputs.explained_variance_ratio is None:
        return None
    png = explained_variance(inputs.explained_variance_ratio, folder / "explained_variance.png")
    return Section("Explained variance", figure(png, "explained variance"))


def _reconstructions(inputs: ReportInputs, folder: Path) -> Section | None:
    if inputs.images and inputs.reconstructions is not None:
        png = reconstruction_grid(inputs.originals, inputs.reconstructions,
                                  folder / "reconstructions.png")
        return Section("Reconstructions", figure(png, "originals vs reconstructions"))
    if inputs.table is not None and inputs.table_reconstructions is not None:
        png = reconstruction_scatter(inputs.table, inputs.table_reconstructions,
                                     folder / "reconstructions.png", inputs.feature_names)
        return Section("Reconstructions", figure(png, "reconstructed vs original values"))
    return None


def _coverage(inputs: ReportInputs) -> Section | None:
    result = inputs.coverage
    if result is None:
        return None
    rows = [("classes found among the real samples", result.real_classes),
            ("classes the generated samples cover", result.sample_classes),
            ("mode collapse", "yes" if result.mode_collapse else "no")]
    body = table(rows, ("mode coverage", "value"))
    body += paragraph(result.warning or "The samples cover at least half of the classes.",
                      "note")
    return Section("Mode coverage of the samples", body)


def _anomalies(inputs: ReportInputs, folder: Path) -> Section | None:
    if inputs.anomalies is None or inputs.anomaly_scores is None:
        return None
    rows = [(int(i), float(inputs.anomaly_scores[i]),
             *(() if inputs.labels is None else (_named(inputs.labels[[i]],
                                                        inputs.class_names)[0],)))
            for i in inputs.anomalies]
    what = "minus log-density (nats)" if inputs.likelihood else "anomaly score"
    header = ("row", what, *(() if inputs.labels is None else ("label",)))
    scores = inputs.anomaly_scores
    shown = (-scores if inputs.likelihood else scores)
    body = figure(score_histogram(shown, folder / "scores.png",
                                  "log-density (nats)" if inputs.likelihood else what,
                                  marked=inputs.anomalies), "score histogram",
                  "the samples shown below are ticked in red")
    if inputs.images and inputs.anomaly_images is not None:
        path = sample_grid(inputs.anomaly_images, folder / "anomalies.png",
                           title="most anomalous first (left to right, top to bottom)")
        body += figure(path, "most anomalous samples", grid=True)
    elif inputs.table is not None:
        path = rows_against_data(inputs.table, inputs.anomalies, folder / "anomalies.png",
                                 inputs.feature_names,
                                 title=("lowest-density" if inputs.likelihood else
                                        "most anomalous") + " rows against the data")
        body += figure(path, "most anomalous rows")
    title = "Lowest-density samples" if inputs.likelihood else "Most anomalous samples"
    return Section(title, body + table(rows, header))


def write_run_report(path: str | Path, inputs: ReportInputs) -> Path:
    """Write the page at ``path`` and its figures (PNG) beside it; returns ``path``."""
    path = Path(path)
    folder = path.parent
    sections: list[Section | None] = [_summary(inputs)]
    if inputs.history:
        png = training_curves(inputs.history, folder / "training_curves.png")
        sections.append(Section("Training curves", figure(png, "training curves")))
    sections.append(_components(inputs, folder))
    sections.append(_reconstructions(inputs, folder))
    sections.append(_samples(inputs, folder))
    sections.append(_coverage(inputs))
    sections.append(_embedding(inputs, folder))
    sections.append(_clusters(inputs, folder))
    if inputs.clusters is not None and inputs.labels is not None:
        png = confusion_plot(inputs.labels, inputs.clusters, folder / "confusion.png",
                             inputs.class_names)
        sections.append(Section("Clusters vs labels", figure(png, "confusion matrix")))
    sections.append(_anomalies(inputs, folder))
    return write_html(path, inputs.title,
                      [s for s in sections if s is not None])
