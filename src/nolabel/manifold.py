"""Neighbour embeddings (UMAP and t-SNE) shared by N2D, ManifoldMixture and the 2-D report
pictures, so that each is called, seeded and guarded in one place, and the placement of new
samples in an embedding that has no transform of its own.

Both keep local neighbourhoods and give up global distances, which is why a mixture or k-means
on their output separates classes that overlap in the input space: on the 8x8 digits a
full-covariance Gaussian mixture on the 2-D t-SNE of the raw pixels reaches ACC 0.95, against
0.795 for k-means on the pixels and 0.88 on their 10-d UMAP (``benchmarks/deep_clustering.py``).
"""

from __future__ import annotations

import numpy as np
import torch

from nolabel.errors import ParameterError

#: scikit-learn's Barnes-Hut t-SNE (the O(n log n) one) works in at most 3 dimensions.
TSNE_MAX_COMPONENTS = 3
_DISTANCES_PER_CHUNK = 2**24


def umap_embedding(data: np.ndarray, n_components: int, n_neighbors: int,
                   min_dist: float = 0.1, seed: int = 0) -> np.ndarray:
    """UMAP of ``data`` (n, d): (n, n_components) float32; ``n_neighbors`` is capped at n - 1.
    A fixed seed makes UMAP single-threaded and its result reproducible."""
    try:
        import umap
    except ImportError:
        raise ParameterError("UMAP needs the umap-learn package: pip install umap-learn "
                             "(or use t-SNE: method='tsne' for pictures, manifold='tsne' for "
                             "N2D)") from None
    reducer = umap.UMAP(n_components=n_components, n_neighbors=min(n_neighbors, len(data) - 1),
                        min_dist=min_dist, random_state=seed, transform_seed=seed, n_jobs=1)
    return np.asarray(reducer.fit_transform(data), dtype=np.float32)


def tsne_embedding(data: np.ndarray, n_components: int = 2, perplexity: float = 30.0,
                   seed: int = 0) -> np.ndarray:
    """scikit-learn's Barnes-Hut t-SNE of ``data`` (n, d): (n, n_components) float32.

    PCA initialisation keeps the global layout and makes the result deterministic (the seed
    does not change it); the learning rate grows with n (scikit-learn's ``"auto"``, after
    Belkina et al. 2019), where a fixed one leaves large data poorly converged. The
    perplexity is capped at (n - 1) / 3, the usual rule for small data."""
    from sklearn.manifold import TSNE

    if not 1 <= n_components <= TSNE_MAX_COMPONENTS:
        raise ParameterError(f"t-SNE embeds in 1 to {TSNE_MAX_COMPONENTS} dimensions "
                             f"(Barnes-Hut), got n_components={n_components}")
    perplexity = min(perplexity, max((len(data) - 1) / 3.0, 1.0))
    tsne = TSNE(n_components=n_components, perplexity=perplexity, init="pca",
                learning_rate="auto", random_state=seed)
    return np.asarray(tsne.fit_transform(data), dtype=np.float32)


def embed(data: np.ndarray, manifold: str, n_components: int, n_neighbors: int,
          min_dist: float, perplexity: float, seed: int) -> np.ndarray:
    """The ``"umap"`` or ``"tsne"`` embedding of ``data``, as N2D and ManifoldMixture make it:
    UMAP takes ``n_neighbors`` and ``min_dist``, t-SNE ``perplexity``."""
    if manifold == "tsne":
        return tsne_embedding(data, n_components, perplexity, seed)
    return umap_embedding(data, n_components, n_neighbors, min_dist, seed)


def interpolate_embedding(points: torch.Tensor, reference: torch.Tensor,
                          reference_embedding: torch.Tensor, n_neighbors: int) -> torch.Tensor:
    """Embed ``points`` (n, d) as the 1/d²-weighted mean of the embeddings of their
    ``n_neighbors`` nearest ``reference`` points (Shepard interpolation); a point equal to a
    reference gets its embedding. UMAP's own transform needs its fitted object, which cannot
    be saved without pickling; t-SNE has no transform at all."""
    k = min(n_neighbors, len(reference))
    rows = max(1, _DISTANCES_PER_CHUNK // len(reference))  # bounds the distance matrix
    placed = []
    for chunk in torch.split(points, rows):
        squared = torch.cdist(chunk, reference).pow_(2)
        nearest, index = torch.topk(squared, k, dim=1, largest=False)
        weights = 1.0 / nearest.clamp_min(torch.finfo(squared.dtype).tiny)
        weights = weights / weights.sum(1, keepdim=True)
        placed.append((weights[..., None] * reference_embedding[index]).sum(1))
    return torch.cat(placed)
