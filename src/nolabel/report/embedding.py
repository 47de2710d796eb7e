"""2-D pictures of learned features: t-SNE, UMAP or PCA, drawn as one PNG of coloured scatters.

:func:`embed_2d` maps a feature matrix to 2-D points; :func:`plot_embedding` takes any fitted
estimator with ``transform`` (PCA, an autoencoder...), embeds its features of ``X`` and writes
one PNG with a panel per colouring (true labels, found clusters). Large data is shown through a
reproducible random subset of ``max_samples`` rows, whose indices are returned so colourings
stay aligned with the points.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nolabel._validation import check_array, check_choice, check_float, check_int
from nolabel.errors import DataError, ParameterError
from nolabel.manifold import tsne_embedding, umap_embedding
from nolabel.report.figures import embedding_scatter

METHODS = ("auto", "tsne", "umap", "pca")
_METHOD_NAMES = {"tsne": "t-SNE", "umap": "UMAP", "pca": "PCA"}


def _umap_installed() -> bool:
    return importlib.util.find_spec("umap") is not None


def _resolve_method(method: str, n_columns: int) -> str:
    """The method actually used: ``"identity"`` when ``"auto"`` meets features that are 2-D."""
    check_choice("method", method, METHODS)
    if method != "auto":
        return method
    if n_columns == 2:
        return "identity"
    return "umap" if _umap_installed() else "tsne"


def _subset_indices(n: int, max_samples: int, random_state: int) -> np.ndarray:
    """All rows, or a sorted random ``max_samples`` of them drawn with ``default_rng``."""
    if n <= max_samples:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=max_samples, replace=False)).astype(np.int64)


def _check_features(
    features: Any, name: str = "features", rows: np.ndarray | None = None
) -> np.ndarray:
    """Finite float32 (n, d); images and other n-D samples are flattened to one row each.

    ``rows``: the row of the whole data each row of ``features`` is, for error messages.
    """
    first_row = 0 if rows is None else rows
    array = check_array(features, name=name, allow_nd=True, min_samples=2, first_row=first_row)
    array = array.reshape(len(array), -1)
    if array.shape[1] < 2:
        raise DataError(
            f"{name} has {array.shape[1]} column; a 2-D embedding needs at least 2 "
            "(a single feature is better shown as a histogram)"
        )
    return array


def _pca(data: np.ndarray, random_state: int) -> np.ndarray:
    from nolabel.classical import PCA

    return PCA(n_components=2, random_state=random_state, device="cpu").fit_transform(data)


def _embed(data: np.ndarray, method: str, random_state: int, perplexity: float) -> np.ndarray:
    if method == "identity":
        points = data
    elif method == "tsne":
        points = tsne_embedding(data, 2, perplexity, random_state)
    elif method == "umap":
        points = umap_embedding(data, 2, 15, seed=random_state)
    else:
        points = _pca(data, random_state)
    return np.ascontiguousarray(points, dtype=np.float32)


def embed_2d(
    features: Any,
    *,
    method: str = "tsne",
    random_state: int = 0,
    max_samples: int = 5000,
    perplexity: float = 30.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Map ``features`` (n, d) to 2-D points for plotting.

    Parameters
    ----------
    features : (n, d) array or tensor; n-D samples such as images (n, c, h, w) are flattened.
    method : ``"tsne"`` (scikit-learn's t-SNE, PCA initialisation, automatic learning rate),
        ``"umap"`` (needs ``pip install umap-learn``), ``"pca"`` (2 principal components:
        cheap, linear) or ``"auto"`` (UMAP if installed, else t-SNE). With ``"auto"``, features
        that already have exactly 2 columns are returned as they are, not embedded.
    random_state : seed of the subset drawn and of the embedding.
    max_samples : at most this many rows are embedded: above it, a random subset of rows
        (``numpy.random.default_rng(random_state)``, no stratification) is used.
    perplexity : t-SNE's perplexity; capped at ``(n - 1) / 3`` for small data.

    Returns
    -------
    points : (m, 2) float32, m = min(n, max_samples).
    indices : (m,) int64, sorted: the rows of ``features`` that ``points`` are of, so that
        labels can be aligned with ``labels[indices]``.
    """
    check_choice("method", method, METHODS)
    random_state = check_int("random_state", random_state, minimum=0)
    max_samples = check_int("max_samples", max_samples, minimum=2)
    perplexity = check_float("perplexity", perplexity, minimum=0.0, strict=True)
    data = _check_features(features)
    indices = _subset_indices(len(data), max_samples, random_state)
    used = _resolve_method(method, data.shape[1])
    return _embed(data[indices], used, random_state, perplexity), indices


# -- plot_embedding ----------------------------------------------------------------------------


def _n_rows(X: Any) -> int:
    try:
        return len(X)
    except TypeError:
        raise DataError(f"X must be an array of samples, got {type(X).__name__}") from None


def _take_rows(X: Any, indices: np.ndarray) -> Any:
    """Rows ``indices`` of X, keeping its kind (tensor, DataFrame, array)."""
    if isinstance(X, torch.Tensor):
        return X[torch.from_numpy(indices).to(X.device)]
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    return np.asarray(X)[indices]


def _check_colouring(values: Any, name: str, n: int) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        raise DataError(f"{name} must be 1-D (one value per row of X), got shape {array.shape}")
    if len(array) != n:
        raise DataError(f"{name} has {len(array)} values but X has {n} rows; they must match")
    return array


def _colourings(labels: Any, clusters: Any, n: int) -> list[tuple[str, np.ndarray]]:
    given = [(name, values) for name, values in (("label", labels), ("cluster", clusters))
             if values is not None]
    return [(name, _check_colouring(values, name + "s", n)) for name, values in given]


def _check_source(source: Any) -> None:
    if source is not None and not callable(getattr(source, "transform", None)):
        raise ParameterError(
            "source must be a fitted estimator with a transform method (or None to plot X "
            f"itself), got {type(source).__name__}"
        )


def plot_embedding(
    source: Any,
    X: Any,
    path: str | Path,
    *,
    labels: Any = None,
    clusters: Any = None,
    method: str = "auto",
    random_state: int = 0,
    max_samples: int = 5000,
    title: str | None = None,
) -> Path:
    """Write one PNG of the 2-D embedding of ``source.transform(X)`` (or of ``X``).

    Parameters
    ----------
    source : a fitted estimator with ``transform`` (PCA, an autoencoder...), or None to embed
        ``X`` itself.
    X : the data, in whatever form ``source.transform`` accepts.
    path : where the PNG goes (written atomically).
    labels, clusters : one value per row of ``X``; each given one is a panel coloured by it.
        With neither, a single uncoloured panel is drawn.
    method, random_state, max_samples : as in :func:`embed_2d` (``"auto"`` shows features
        with 2 columns as they are). The subset of rows is drawn before ``transform``, so
        large data is transformed only where it is shown.
    title : defaults to e.g. ``"t-SNE of PCA features"``.

    Returns the path of the PNG.
    """
    _check_source(source)
    check_choice("method", method, METHODS)
    random_state = check_int("random_state", random_state, minimum=0)
    max_samples = check_int("max_samples", max_samples, minimum=2)
    n = _n_rows(X)
    colourings = _colourings(labels, clusters, n)
    indices = _subset_indices(n, max_samples, random_state)
    rows = X if len(indices) == n else _take_rows(X, indices)
    what = "X" if source is None else f"{type(source).__name__} features"
    features = rows if source is None else source.transform(rows)
    data = _check_features(features, name=what, rows=indices)
    used = _resolve_method(method, data.shape[1])
    points = _embed(data, used, random_state, perplexity=30.0)
    colourings = [(name, values[indices]) for name, values in colourings]
    if not colourings:
        colourings = [("nothing", np.full(len(points), "all points"))]
    if title is None:
        title = f"{what} (2-D)" if used == "identity" else f"{_METHOD_NAMES[used]} of {what}"
    return embedding_scatter(points, colourings, path, title=title)
