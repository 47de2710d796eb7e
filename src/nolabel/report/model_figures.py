"""Figures that describe one kind of model: clusterers (sizes, silhouettes, centres), PCA
(explained variance, reconstructions of a table), densities and anomaly scores (score
histogram, where the lowest-density rows sit), samplers on tables (samples against the data).

Each function takes arrays, never a model, and writes one PNG (matplotlib, Agg).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import silhouette_samples

from nolabel.report.figures import _as_images, _save, plt

_SHOWN_FEATURES = 8  # columns drawn in per-feature panels
_SILHOUETTE_ROWS = 2000  # silhouettes are quadratic in the rows


def _column_names(n: int, names: Sequence[str] | None) -> list[str]:
    return list(names) if names is not None and len(names) == n else [f"column {i}"
                                                                        for i in range(n)]


def cluster_sizes(clusters: np.ndarray, path: str | Path, title: str = "cluster sizes") -> Path:
    """Samples per cluster, largest first; DBSCAN's noise (-1) drawn in grey."""
    values, counts = np.unique(np.asarray(clusters), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    values, counts = values[order], counts[order]
    fig, axis = plt.subplots(figsize=(max(3.5, 0.4 * len(values) + 1.5), 3.0))
    colours = ["0.6" if v == -1 else "C0" for v in values]
    axis.bar(range(len(values)), counts, color=colours)
    axis.set_xticks(range(len(values)),
                    ["noise" if v == -1 else str(v) for v in values], fontsize=8,
                    rotation=90 if len(values) > 20 else 0)
    axis.set_xlabel("cluster")
    axis.set_ylabel("samples")
    axis.set_title(f"{title} ({len(clusters)} samples, {int((values != -1).sum())} clusters)",
                   fontsize=10)
    axis.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def silhouette_plot(features: np.ndarray, clusters: np.ndarray, path: str | Path,
                    random_state: int = 0, title: str = "silhouette per cluster") -> Path | None:
    """Every sample's silhouette, grouped by cluster and sorted (Rousseeuw 1987): a wide
    block is a well separated cluster, values below 0 sit closer to another cluster. None
    when there are fewer than 2 clusters (noise excluded): a silhouette needs two."""
    features = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    clusters = np.asarray(clusters)
    keep = np.flatnonzero(clusters != -1)
    if len(keep) > _SILHOUETTE_ROWS:
        keep = np.sort(np.random.default_rng(random_state).choice(keep, _SILHOUETTE_ROWS,
                                                                  replace=False))
    found = np.unique(clusters[keep])
    if len(found) < 2 or len(found) >= len(keep):
        return None
    values = silhouette_samples(features[keep], clusters[keep])
    fig, axis = plt.subplots(figsize=(5.5, max(3.0, 0.25 * len(found) + 2)))
    cmap = plt.get_cmap("tab10" if len(found) <= 10 else "tab20")
    low = 0
    for index, cluster in enumerate(found):
        mine = np.sort(values[clusters[keep] == cluster])
        axis.fill_betweenx(np.arange(low, low + len(mine)), 0, mine,
                           color=cmap(index % cmap.N), alpha=0.85)
        axis.text(-0.02, low + len(mine) / 2, str(cluster), ha="right", va="center",
                  fontsize=7)
        low += len(mine) + 5
    mean = float(values.mean())
    axis.axvline(mean, color="red", linestyle="--", linewidth=1)
    axis.set_xlabel(f"silhouette (mean {mean:.3f}, red line)")
    axis.set_yticks([])
    axis.set_xlim(min(-0.1, float(values.min()) - 0.05), 1)
    axis.set_title(title + ("" if len(keep) == int((clusters != -1).sum())
                            else f" ({len(keep)} samples)"), fontsize=10)
    return _save(fig, path)


def centre_images(centres: np.ndarray, path: str | Path,
                  title: str = "cluster centres") -> Path:
    """One image per cluster centre, numbered by cluster."""
    tiles = np.clip(_as_images(np.asarray(centres, dtype=np.float64)), 0, 1)
    columns = min(10, len(tiles))
    rows = -(-len(tiles) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.0 * columns, 1.15 * rows + 0.4),
                             squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.set_axis_off()
        if index < len(tiles):
            axis.imshow(tiles[index], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axis.set_title(str(index), fontsize=8)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def centre_profiles(centres: np.ndarray, path: str | Path,
                    feature_names: Sequence[str] | None = None,
                    title: str = "cluster centres (feature values)") -> Path:
    """Heat map of the centres of a table: one row per cluster, one column per feature."""
    centres = np.asarray(centres, dtype=np.float64).reshape(len(centres), -1)
    names = _column_names(centres.shape[1], feature_names)
    fig, axis = plt.subplots(figsize=(min(14.0, 1.5 + 0.6 * centres.shape[1]),
                                      1.2 + 0.35 * len(centres)))
    limit = float(np.abs(centres).max()) or 1.0
    image = axis.imshow(centres, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
    if centres.size <= 400:
        for (row, column), value in np.ndenumerate(centres):
            axis.text(column, row, f"{value:.2g}", ha="center", va="center", fontsize=7)
    axis.set_yticks(range(len(centres)), [str(i) for i in range(len(centres))], fontsize=8)
    axis.set_ylabel("cluster")
    if centres.shape[1] <= 40:
        axis.set_xticks(range(centres.shape[1]), names, fontsize=8, rotation=45, ha="right")
    fig.colorbar(image, ax=axis, fraction=0.04)
    axis.set_title(title, fontsize=10)
    return _save(fig, path)


def explained_variance(ratios: np.ndarray, path: str | Path,
                       title: str = "explained variance") -> Path:
    """Variance explained by each component (bars) and cumulated (line)."""
    ratios = np.asarray(ratios, dtype=np.float64)
    steps = np.arange(1, len(ratios) + 1)
    fig, axis = plt.subplots(figsize=(5.5, 3.2))
    axis.bar(steps, ratios, color="C0", alpha=0.6, label="per component")
    axis.plot(steps, np.cumsum(ratios), color="C3", marker="." if len(ratios) < 40 else "",
              label="cumulative")
    axis.set_ylim(0, 1.02)
    axis.set_xlabel("component")
    axis.set_ylabel("fraction of the variance")
    axis.legend(fontsize=8, loc="center right", frameon=False)
    axis.grid(alpha=0.3)
    axis.set_title(f"{title}: {np.sum(ratios):.1%} with {len(ratios)} components", fontsize=10)
    return _save(fig, path)


def reconstruction_scatter(originals: np.ndarray, reconstructions: np.ndarray,
                           path: str | Path, feature_names: Sequence[str] | None = None,
                           title: str = "reconstructed against original values") -> Path:
    """For a table: each feature's reconstructed value against its original, one panel per
    feature (the first few); points on the diagonal are reconstructed exactly."""
    originals = np.asarray(originals, dtype=np.float64).reshape(len(originals), -1)
    recon = np.asarray(reconstructions, dtype=np.float64).reshape(len(originals), -1)
    names = _column_names(originals.shape[1], feature_names)
    shown = min(_SHOWN_FEATURES, originals.shape[1])
    columns = min(4, shown)
    rows = -(-shown // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.5 * rows),
                             squeeze=False)
    for index, axis in enumerate(axes.flat):
        if index >= shown:
            axis.set_axis_off()
            continue
        x, r = originals[:, index], recon[:, index]
        low, high = float(min(x.min(), r.min())), float(max(x.max(), r.max()))
        axis.plot([low, high], [low, high], color="0.6", linewidth=1)
        axis.scatter(x, r, s=4, alpha=0.6)
        error = float(np.mean((x - r) ** 2))
        axis.set_title(f"{names[index]} (MSE {error:.3g})", fontsize=8)
        axis.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("reconstructed")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def score_histogram(scores: np.ndarray, path: str | Path, xlabel: str,
                    marked: np.ndarray | None = None, title: str = "") -> Path:
    """Histogram of per-sample scores; ``marked`` rows (e.g. the most anomalous) are ticked
    under the axis."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = scores[np.isfinite(scores)]
    fig, axis = plt.subplots(figsize=(5.5, 3.0))
    axis.hist(finite, bins=min(60, max(10, len(finite) // 10)), color="C0", alpha=0.8)
    if marked is not None and len(marked):
        chosen = scores[marked]
        axis.plot(chosen[np.isfinite(chosen)], np.zeros(int(np.isfinite(chosen).sum())), "|",
                  color="C3", markersize=14, label="shown below")
        axis.legend(fontsize=8, frameon=False)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("samples")
    axis.grid(alpha=0.3)
    hidden = len(scores) - len(finite)
    axis.set_title((title or f"{xlabel} of {len(scores)} samples")
                   + (f" ({hidden} not finite)" if hidden else ""), fontsize=10)
    return _save(fig, path)


def rows_against_data(data: np.ndarray, rows: np.ndarray, path: str | Path,
                      feature_names: Sequence[str] | None = None,
                      title: str = "lowest-density rows against the data") -> Path:
    """For a table: each feature's distribution (box plots) with the chosen rows drawn as
    lines across the features, so one sees in which features they are unusual."""
    data = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    shown = min(40, data.shape[1])
    names = _column_names(data.shape[1], feature_names)[:shown]
    fig, axis = plt.subplots(figsize=(min(14.0, 2.0 + 0.55 * shown), 3.6))
    axis.boxplot(data[:, :shown], positions=np.arange(shown), widths=0.6, showfliers=False)
    cmap = plt.get_cmap("autumn")
    for rank, row in enumerate(rows):
        axis.plot(np.arange(shown), data[row, :shown], marker="o", markersize=3,
                  linewidth=1, color=cmap(rank / max(1, len(rows) - 1)),
                  label=f"row {int(row)}" if rank < 5 else None)
    axis.set_xticks(np.arange(shown), names, fontsize=8, rotation=45, ha="right")
    axis.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    axis.grid(alpha=0.3)
    axis.set_title(title, fontsize=10)
    return _save(fig, path)


def samples_against_data(data: np.ndarray, samples: np.ndarray, path: str | Path,
                         feature_names: Sequence[str] | None = None,
                         title: str = "generated samples against the data") -> Path:
    """For a table: histograms of the first features, data and samples overlaid."""
    data = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    names = _column_names(data.shape[1], feature_names)
    shown = min(_SHOWN_FEATURES, data.shape[1])
    columns = min(4, shown)
    rows = -(-shown // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.3 * rows),
                             squeeze=False)
    for index, axis in enumerate(axes.flat):
        if index >= shown:
            axis.set_axis_off()
            continue
        both = np.concatenate([data[:, index], samples[:, index]])
        both = both[np.isfinite(both)]
        bins = np.linspace(both.min(), both.max() + 1e-12, 30)
        axis.hist(data[:, index], bins=bins, density=True, alpha=0.5, label="data")
        axis.hist(samples[:, index], bins=bins, density=True, alpha=0.5, label="samples")
        axis.set_title(names[index], fontsize=8)
        axis.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
