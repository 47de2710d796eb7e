"""Figures people look at: image grids and 2-D embeddings, written as PNG (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from nolabel._atomic import atomic_write


def _as_images(X: np.ndarray) -> np.ndarray:
    """(n, c, h, w) or (n, h, w) -> (n, h, w) grey or (n, h, w, 3) colour, for imshow."""
    if X.ndim == 4:
        return X[:, 0] if X.shape[1] == 1 else np.moveaxis(X[:, :3], 1, -1)
    if X.ndim == 3:
        return X
    side = round(float(np.sqrt(X.shape[1])))
    if side * side != X.shape[1]:
        raise ValueError(f"cannot show vectors of length {X.shape[1]} as square images")
    return X.reshape(len(X), side, side)


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    with atomic_write(path) as handle:
        fig.savefig(handle, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def reconstruction_grid(
    originals: np.ndarray, reconstructions: np.ndarray, path: str | Path,
    title: str = "originals (top) vs reconstructions (bottom)",
) -> Path:
    """Two rows: the originals and, under each, its reconstruction."""
    top, bottom = _as_images(originals), _as_images(reconstructions)
    n = len(top)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.6), squeeze=False)
    for column in range(n):
        for row, images in enumerate((top, bottom)):
            axis = axes[row, column]
            axis.imshow(np.clip(images[column], 0, 1), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
    axes[0, 0].set_ylabel("original")
    axes[1, 0].set_ylabel("reconstructed")
    fig.suptitle(title)
    return _save(fig, path)


def sample_grid(images: np.ndarray, path: str | Path, title: str = "samples",
                columns: int = 10) -> Path:
    """Images tiled ``columns`` per row into one picture (one pixel per pixel, no gaps
    other than a 1-pixel grey border), so fine texture such as binary noise stays visible."""
    tiles = np.clip(_as_images(np.asarray(images, dtype=np.float64)), 0, 1)
    if len(tiles) == 0:
        raise ValueError("sample_grid needs at least one image")
    columns = min(columns, len(tiles))
    rows = -(-len(tiles) // columns)
    height, width = tiles.shape[1:3]
    canvas = np.full((rows * (height + 1) + 1, columns * (width + 1) + 1, *tiles.shape[3:]),
                     0.5)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        top, left = 1 + row * (height + 1), 1 + column * (width + 1)
        canvas[top:top + height, left:left + width] = tile
    scale = 0.035
    fig, axis = plt.subplots(figsize=(max(2.0, canvas.shape[1] * scale),
                                      max(2.0, canvas.shape[0] * scale) + 0.4))
    axis.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axis.set_axis_off()
    axis.set_title(title, fontsize=9)
    return _save(fig, path)


def embedding_scatter(
    points: np.ndarray, colourings: Sequence[tuple[str, np.ndarray]], path: str | Path,
    title: str = "2-D embedding",
) -> Path:
    """One scatter panel per (name, labels) colouring of the same 2-D points."""
    fig, axes = plt.subplots(1, len(colourings), figsize=(5.2 * len(colourings), 4.8),
                             squeeze=False)
    for axis, (name, labels) in zip(axes[0], colourings, strict=True):
        values = np.unique(labels)
        cmap = plt.get_cmap("tab10" if len(values) <= 10 else "tab20")
        for index, value in enumerate(values):
            chosen = labels == value
            axis.scatter(points[chosen, 0], points[chosen, 1], s=6, alpha=0.8,
                         color=cmap(index % cmap.N), label=str(value))
        axis.set_title(f"coloured by {name}")
        axis.set_xticks([])
        axis.set_yticks([])
        if len(values) <= 20:
            axis.legend(markerscale=2.5, fontsize=7, loc="best", frameon=False, ncol=2)
    fig.suptitle(title)
    return _save(fig, path)
