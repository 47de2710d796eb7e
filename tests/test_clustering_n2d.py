import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from threadpoolctl import threadpool_limits

from nolabel import N2D, DataError, KMeans, ParameterError, load_model, manifold
from nolabel.manifold import interpolate_embedding
from nolabel.metrics.clustering import nmi
from nolabel.registry import capabilities, get

pytest.importorskip("umap")

SMALL = {"hidden_dims": (64, 64, 128), "latent_dim": 10, "pretrain_epochs": 60,
         "batch_size": 64, "random_state": 0, "device": "cpu"}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.data / 16).astype(np.float32), data.target


@pytest.fixture(scope="module")
def fitted(digits):
    torch.set_num_threads(1)
    with threadpool_limits(1):
        return N2D(10, **SMALL).fit(digits[0])


def test_interpolation_by_hand():
    reference = torch.tensor([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]], dtype=torch.float64)
    embedding = torch.tensor([[1.0], [3.0], [100.0]], dtype=torch.float64)
    codes = torch.tensor([[2.0, 0.0], [1.0, 0.0], [0.5, 0.0]], dtype=torch.float64)
    placed = interpolate_embedding(codes, reference, embedding, n_neighbors=2).squeeze(1)
    # exact match -> its own point; midpoint -> the mean; 1/d² weights 4 and 4/9 at 0.5 and 1.5
    expected = [3.0, 2.0, (4 * 1.0 + 4 / 9 * 3.0) / (4 + 4 / 9)]
    np.testing.assert_allclose(placed.numpy(), expected, rtol=1e-12)


def test_interpolation_in_chunks_matches_one_pass(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    reference, embedding, codes = (torch.randn(shape, generator=generator, dtype=torch.float64)
                                   for shape in ((500, 4), (500, 3), (70, 4)))
    whole = interpolate_embedding(codes, reference, embedding, n_neighbors=6)
    monkeypatch.setattr(manifold, "_DISTANCES_PER_CHUNK", 8 * 500)  # 8 rows at a time
    np.testing.assert_allclose(interpolate_embedding(codes, reference, embedding, 6), whole,
                               rtol=1e-12)


def test_clusters_all_ten_digits_far_better_than_kmeans(fitted, digits):
    X, y = digits
    pixels = KMeans(10, n_init=10, random_state=0).fit_predict(X)
    # measured: k-means on pixels 0.74, N2D with this small autoencoder 0.84
    assert nmi(y, fitted.labels_) >= nmi(y, pixels) + 0.05
    np.testing.assert_array_equal(fitted.predict(X), fitted.labels_)
    proba = fitted.predict_proba(X[:40])
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(1), fitted.labels_[:40])
    assert fitted.transform(X[:7]).shape == (7, 10)
    assert fitted.embedding_.shape == (len(X), 10)
    assert fitted.cluster_centers_.shape == (10, 10)
    np.testing.assert_allclose(fitted.weights_.sum(), 1.0, rtol=1e-5)
    assert fitted.history_["pretrain_loss"][-1] < 0.5 * fitted.history_["pretrain_loss"][0]


def test_new_samples_land_near_their_neighbours(fitted, digits):
    X, _ = digits
    noisy = np.clip(X[:200] + np.random.default_rng(0).normal(0, 0.02, X[:200].shape), 0, 1)
    assert (fitted.predict(noisy.astype(np.float32)) == fitted.labels_[:200]).mean() > 0.9


def test_save_load_and_same_seed(fitted, digits, tmp_path):
    X, _ = digits
    assert get("n2d").cls is N2D and capabilities(N2D).cluster
    loaded = load_model(fitted.save(tmp_path / "n2d.safetensors"))
    np.testing.assert_array_equal(loaded.predict(X), fitted.labels_)
    np.testing.assert_array_equal(loaded.embedding_, fitted.embedding_)
    tiny = N2D(3, hidden_dims=(16,), latent_dim=3, pretrain_epochs=2, n_neighbors=5,
               random_state=4, device="cpu")
    subset = X[:120]
    np.testing.assert_array_equal(tiny.fit(subset).labels_, clone(tiny).fit(subset).labels_)


def test_tsne_manifold_clusters_the_same_codes(fitted, digits):
    X, y = digits
    tsne = N2D(10, manifold="tsne", hidden_dims=SMALL["hidden_dims"],
               pretrained=FrozenEstimator(fitted), random_state=0, device="cpu").fit(X)
    assert tsne.embedding_.shape == (len(X), 2) and tsne.cluster_centers_.shape == (10, 2)
    np.testing.assert_array_equal(tsne.reference_codes_.numpy(),
                                  fitted.reference_codes_.numpy())
    pixels = KMeans(10, n_init=10, random_state=0).fit_predict(X)
    # measured: k-means on pixels 0.742, t-SNE of this small autoencoder's codes 0.797
    # (UMAP of the same codes: 0.840)
    assert nmi(y, tsne.labels_) >= nmi(y, pixels) + 0.02
    np.testing.assert_array_equal(tsne.predict(X), tsne.labels_)
    assert tsne.transform(X[:7]).shape == (7, 2)


@pytest.mark.parametrize("name, value", [("n_neighbors", 1), ("min_dist", -0.5),
                                         ("n_components", 0), ("n_init", 0),
                                         ("pretrain_epochs", -1), ("manifold", "isomap"),
                                         ("perplexity", 0.0)])
def test_bad_parameters_are_named(digits, name, value):
    with pytest.raises(ParameterError, match=name):
        N2D(3, **{name: value}).fit(digits[0][:50])


def test_tsne_in_more_than_three_dimensions_is_refused_before_pretraining(digits):
    model = N2D(3, manifold="tsne", n_components=4, pretrain_epochs=10_000, device="cpu")
    with pytest.raises(ParameterError, match="n_components=4"):
        model.fit(digits[0][:50])
    assert not hasattr(model, "module_")


def test_too_few_samples_and_missing_umap(digits, monkeypatch):
    with pytest.raises(DataError, match="n_neighbors=20"):
        N2D(3, pretrain_epochs=0).fit(digits[0][:15])
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ParameterError, match="umap-learn"):
        N2D(3, hidden_dims=(8,), pretrain_epochs=0, device="cpu").fit(digits[0][:60])
