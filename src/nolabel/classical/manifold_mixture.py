"""Clustering on a neighbour embedding: UMAP (or t-SNE), then a full-covariance Gaussian
mixture, the best separated of several embeddings kept.

This is N2D's clustering step on any representation: raw pixels, a contrastive encoder's
features (``make_pipeline(SimCLR(), ManifoldMixture(10, metric="cosine",
n_embeddings=10))``), a pretrained network's outputs. UMAP keeps local neighbourhoods and
packs each cluster tightly (``min_dist=0``), so a Gaussian mixture separates classes that
overlap in the input space; its clusters are elongated, hence full covariances.

A single UMAP run sometimes joins two classes and splits a third: on SimCLR features of the
8x8 digits (``benchmarks/deep_clustering.py``, ``simclr-umap-gmm``), 9 of 10 runs of one seed
did (ACC 0.906) where the tenth kept every digit apart (0.955). Such runs have the lower
silhouette in the input space, which needs no label, so with ``n_embeddings`` > 1 the
clustering with the highest silhouette there is kept. It helps where the input space itself
is cluster-shaped (contrastive features, compared by cosine); on autoencoder codes the
silhouette of the codes did not pick the better runs (digits, 5 seeds, 10 runs each: 0.879
against 0.884 for the first run), and there the runs differ little.

New samples are placed in the embedding by Shepard interpolation among the training samples
(:func:`nolabel.manifold.interpolate_embedding`), as N2D does: UMAP's own transform needs
its fitted object, which cannot be saved without pickling, and t-SNE has none.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

from nolabel._device import resolve_device, resolve_seed
from nolabel._validation import (
    check_choice,
    check_float,
    check_int,
    check_is_fitted,
    check_n_features,
    check_tensor,
)
from nolabel.classical.gmm import GaussianMixture
from nolabel.errors import DataError, ParameterError
from nolabel.manifold import TSNE_MAX_COMPONENTS, embed, interpolate_embedding
from nolabel.persistence import Persistable
from nolabel.registry import register

#: Silhouettes are measured on at most this many samples (a random subset): the exact one
#: costs n² distances.
SILHOUETTE_SAMPLES = 10_000


@register("manifold-gmm", "UMAP or t-SNE embedding + full-covariance Gaussian mixture (N2D's "
          "clustering on any features), the best separated of several embeddings")
class ManifoldMixture(Persistable, ClusterMixin, TransformerMixin, BaseEstimator):
    """A Gaussian mixture on a UMAP (or t-SNE) embedding of the data.

    Parameters
    ----------
    n_clusters : number of mixture components.
    manifold : ``"umap"`` (default; needs umap-learn) or ``"tsne"`` (scikit-learn's
        Barnes-Hut t-SNE, at most 3-D; its PCA start makes every embedding the same).
    n_components : dimension of the embedding; None means ``n_clusters`` for UMAP (N2D's
        choice), 2 for t-SNE.
    n_neighbors : UMAP's neighbourhood size (20, N2D's), also used to place new samples.
    min_dist : UMAP's minimum distance between embedded points (0: tight clusters).
    perplexity : t-SNE's perplexity.
    n_init : EM restarts of the mixture on each embedding; the most likely is kept.
    n_embeddings : embeddings computed from different seeds; the clustering with the
        highest silhouette in the input space (under ``metric``) is kept. 1 (default) skips
        the silhouettes.
    metric : ``"euclidean"`` or ``"cosine"``: the silhouette's distance in the input space
        (cosine for unit-length features such as SimCLR's).
    random_state : seed; embedding ``r`` uses seed ``random_state * n_embeddings + r`` for
        UMAP and for its mixture, so that consecutive seeds share no run.
    device : where the mixture and the placement of new samples run.

    Attributes
    ----------
    labels_, embedding_ (n_samples, n_components), reference_ (the training samples,
    float32, for placing new ones), mixture_ (the :class:`GaussianMixture` on the embedding),
    silhouettes_ (one per embedding, or empty when ``n_embeddings`` is 1), best_embedding_
    (the index of the one kept).
    """

    def __init__(self, n_clusters: int = 10, *, manifold: str = "umap",
                 n_components: int | None = None, n_neighbors: int = 20,
                 min_dist: float = 0.0, perplexity: float = 30.0, n_init: int = 5,
                 n_embeddings: int = 1, metric: str = "euclidean",
                 random_state: int | None = None, device: str = "auto") -> None:
        self.n_clusters = n_clusters
        self.manifold = manifold
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.perplexity = perplexity
        self.n_init = n_init
        self.n_embeddings = n_embeddings
        self.metric = metric
        self.random_state = random_state
        self.device = device

    def _components(self) -> int:
        if self.n_components is not None:
            return check_int("n_components", self.n_components)
        return 2 if self.manifold == "tsne" else self.n_clusters

    def _check_params(self, n_samples: int) -> None:
        check_int("n_clusters", self.n_clusters)
        check_choice("manifold", self.manifold, ("umap", "tsne"))
        check_choice("metric", self.metric, ("euclidean", "cosine"))
        check_int("n_neighbors", self.n_neighbors, minimum=2)
        check_float("min_dist", self.min_dist, minimum=0.0)
        check_float("perplexity", self.perplexity, minimum=0.0, strict=True)
        check_int("n_init", self.n_init)
        check_int("n_embeddings", self.n_embeddings)
        if self.manifold == "tsne" and self._components() > TSNE_MAX_COMPONENTS:
            raise ParameterError(f"manifold='tsne' embeds in at most {TSNE_MAX_COMPONENTS} "
                                 f"dimensions, got n_components={self._components()}")
        if n_samples <= max(self.n_neighbors, self.n_clusters):
            raise DataError(f"ManifoldMixture needs more samples than n_neighbors="
                            f"{self.n_neighbors} and n_clusters={self.n_clusters}, got "
                            f"{n_samples} sample{'' if n_samples == 1 else 's'}")

    def _silhouette(self, data: np.ndarray, labels: np.ndarray, seed: int) -> float:
        from sklearn.metrics import silhouette_score

        if len(np.unique(labels)) < 2:
            return -1.0  # one cluster separates nothing: the worst silhouette
        return float(silhouette_score(data, labels, metric=self.metric,
                                      sample_size=min(len(data), SILHOUETTE_SAMPLES),
                                      random_state=seed))

    def fit(self, X, y=None) -> ManifoldMixture:
        device = resolve_device(self.device)
        data = check_tensor(X, device=torch.device("cpu"))
        data = data.reshape(len(data), -1).float()
        self._check_params(len(data))
        seed = resolve_seed(self.random_state)
        array = data.numpy()
        best, best_score, silhouettes = None, -np.inf, []
        for run in range(self.n_embeddings):
            run_seed = (seed * self.n_embeddings + run) % 2**32
            embedding = embed(array, self.manifold, self._components(), self.n_neighbors,
                              float(self.min_dist), float(self.perplexity), run_seed)
            mixture = GaussianMixture(self.n_clusters, covariance_type="full",
                                      n_init=self.n_init, random_state=run_seed,
                                      device=self.device).fit(embedding)
            labels = mixture.predict(embedding)
            if self.n_embeddings > 1:
                silhouettes.append(self._silhouette(array, labels, seed))
            score = silhouettes[-1] if silhouettes else 0.0
            if best is None or score > best_score:
                best, best_score = (run, embedding, mixture, labels), score
        self.best_embedding_, self.embedding_, self.mixture_, self.labels_ = best
        self.silhouettes_ = np.asarray(silhouettes, dtype=np.float64)
        self.reference_ = data.to(device)
        self.n_features_in_ = data.shape[1]
        return self

    def _embed(self, X) -> np.ndarray:
        check_is_fitted(self, ["mixture_"])
        data = check_tensor(X, device=self.reference_.device)
        check_n_features(self, tuple(data.shape))
        data = data.reshape(len(data), -1).float()
        embedding = torch.as_tensor(self.embedding_, device=data.device)
        return interpolate_embedding(data, self.reference_, embedding,
                                     self.n_neighbors).cpu().numpy()

    def transform(self, X) -> np.ndarray:
        """The embedding of ``X`` (n_samples, n_components): a training sample gets its own
        point, a new one the 1/d²-weighted mean of its nearest training samples' points."""
        return self._embed(X)

    def predict(self, X) -> np.ndarray:
        embedding = self._embed(X)
        return self.mixture_.predict(embedding)

    def predict_proba(self, X) -> np.ndarray:
        """The mixture's posterior over clusters at each sample's embedded point."""
        embedding = self._embed(X)
        return self.mixture_.predict_proba(embedding)

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X).labels_

    def _get_state(self):
        check_is_fitted(self, ["mixture_"])
        mixture_tensors, mixture_state = self.mixture_._get_state()
        tensors = {f"mixture.{name}": tensor for name, tensor in mixture_tensors.items()}
        tensors.update(reference=self.reference_.cpu(),
                       embedding=torch.from_numpy(self.embedding_),
                       labels=torch.from_numpy(np.asarray(self.labels_)),
                       silhouettes=torch.from_numpy(self.silhouettes_))
        return tensors, {"mixture": mixture_state, "best_embedding_": self.best_embedding_,
                         "n_features_in_": self.n_features_in_}

    def _set_state(self, tensors, state):
        self.mixture_ = GaussianMixture(self.n_clusters, covariance_type="full",
                                        n_init=self.n_init, device=self.device)
        self.mixture_._set_state({name.removeprefix("mixture."): tensor
                                  for name, tensor in tensors.items()
                                  if name.startswith("mixture.")}, state["mixture"])
        self.reference_ = tensors["reference"].to(resolve_device(self.device))
        self.embedding_ = tensors["embedding"].numpy()
        self.labels_ = tensors["labels"].numpy()
        self.silhouettes_ = tensors["silhouettes"].numpy()
        self.best_embedding_ = state["best_embedding_"]
        self.n_features_in_ = state["n_features_in_"]
