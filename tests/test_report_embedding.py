import importlib.util
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from nolabel.classical import PCA
from nolabel.errors import DataError, ParameterError
from nolabel.report import embed_2d, plot_embedding

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UMAP_INSTALLED = importlib.util.find_spec("umap") is not None


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """t-SNE's OpenMP threads crawl on a busy shared machine; one thread is fast at this size."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.data[:400].astype(np.float32), data.target[:400]


@pytest.fixture(scope="module")
def tsne_points(digits):
    X, _ = digits
    return embed_2d(X, method="tsne", random_state=0)


@pytest.fixture
def no_umap(monkeypatch):
    """Make ``import umap`` fail (and find_spec report it missing), installed or not."""
    monkeypatch.setitem(sys.modules, "umap", None)


def _read_png(path):
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = plt.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    return image


def test_tsne_separates_digit_classes(digits, tsne_points):
    _, y = digits
    points, indices = tsne_points
    assert points.shape == (400, 2) and points.dtype == np.float32
    assert indices.dtype == np.int64 and np.array_equal(indices, np.arange(400))
    accuracy = cross_val_score(KNeighborsClassifier(5), points, y, cv=3).mean()
    assert accuracy > 0.8


def test_same_random_state_gives_identical_points(digits, tsne_points):
    X, _ = digits
    again, _ = embed_2d(X, method="tsne", random_state=0)
    np.testing.assert_array_equal(again, tsne_points[0])


def test_max_samples_subset_is_aligned_and_reproducible(digits):
    X, _ = digits
    points, indices = embed_2d(X, method="pca", max_samples=150, random_state=3)
    assert points.shape == (150, 2) and indices.shape == (150,)
    assert indices.dtype == np.int64 and len(np.unique(indices)) == 150
    assert indices.min() >= 0 and indices.max() < 400
    # Aligned: the points are the embedding of exactly those rows.
    direct, _ = embed_2d(X[indices], method="pca", random_state=3)
    np.testing.assert_allclose(points, direct, rtol=1e-5, atol=1e-4)
    points_again, indices_again = embed_2d(X, method="pca", max_samples=150, random_state=3)
    np.testing.assert_array_equal(indices, indices_again)
    np.testing.assert_array_equal(points, points_again)
    _, other = embed_2d(X, method="pca", max_samples=150, random_state=4)
    assert not np.array_equal(indices, other)


def test_images_are_flattened_and_tensors_accepted(digits):
    X, _ = digits
    images = torch.from_numpy(X.reshape(-1, 1, 8, 8))
    points, _ = embed_2d(images, method="pca")
    flat, _ = embed_2d(X, method="pca")
    np.testing.assert_allclose(points, flat, rtol=1e-5, atol=1e-4)


def test_auto_keeps_two_column_features_as_they_are():
    X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    points, indices = embed_2d(X, method="auto")
    np.testing.assert_array_equal(points, X)
    assert len(indices) == 50


def test_auto_falls_back_to_tsne_without_umap(digits, tsne_points, no_umap):
    X, _ = digits
    points, _ = embed_2d(X, method="auto", random_state=0)
    np.testing.assert_array_equal(points, tsne_points[0])


def test_small_data_caps_perplexity():
    X = np.random.default_rng(0).normal(size=(12, 5))
    points, _ = embed_2d(X, method="tsne")
    assert points.shape == (12, 2) and np.isfinite(points).all()


def test_plot_embedding_writes_png_with_labels_and_clusters(digits, tmp_path):
    X, y = digits
    clusters = (y + 1) % 10
    path = plot_embedding(None, X, tmp_path / "emb.png", labels=y, clusters=clusters,
                          method="pca")
    assert path == tmp_path / "emb.png"
    image = _read_png(path)
    assert image.shape[1] > image.shape[0]  # two panels side by side


def test_plot_embedding_with_fitted_estimator(digits, tmp_path):
    X, y = digits
    pca = PCA(n_components=10, random_state=0).fit(X)
    path = plot_embedding(pca, X, tmp_path / "pca.png", labels=y, method="tsne",
                          max_samples=200)
    _read_png(path)


def test_plot_embedding_without_colourings(digits, tmp_path):
    X, _ = digits
    path = plot_embedding(None, torch.from_numpy(X), tmp_path / "plain.png", method="pca",
                          max_samples=100, title="just points")
    _read_png(path)


@pytest.mark.skipif(not UMAP_INSTALLED, reason="umap-learn is not installed")
def test_umap_separates_digit_classes(digits):
    X, y = digits
    points, _ = embed_2d(X, method="umap", random_state=0)
    assert points.shape == (400, 2) and points.dtype == np.float32
    assert cross_val_score(KNeighborsClassifier(5), points, y, cv=3).mean() > 0.8


def test_umap_missing_raises_even_when_installed(digits, no_umap):
    X, _ = digits
    with pytest.raises(ParameterError, match="pip install umap-learn"):
        embed_2d(X, method="umap")


def test_wrong_length_labels_name_the_colouring(digits, tmp_path):
    X, y = digits
    with pytest.raises(DataError, match="labels has 399 values but X has 400 rows"):
        plot_embedding(None, X, tmp_path / "x.png", labels=y[:-1], method="pca")
    with pytest.raises(DataError, match="clusters has 10 values but X has 400 rows"):
        plot_embedding(None, X, tmp_path / "x.png", labels=y, clusters=y[:10], method="pca")
    assert not (tmp_path / "x.png").exists()


def test_nan_features_are_refused(digits, tmp_path):
    X = digits[0].copy()
    X[7, 3] = np.nan
    with pytest.raises(DataError, match="features has a NaN at row 7, column 3"):
        embed_2d(X, method="pca")
    with pytest.raises(DataError, match="X has a NaN at row 7, column 3"):
        plot_embedding(None, X, tmp_path / "x.png", method="pca")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "isomap"}, "method must be one of"),
        ({"max_samples": 1}, "max_samples must be >= 2"),
        ({"perplexity": 0.0}, "perplexity must be > 0"),
        ({"random_state": -1}, "random_state must be >= 0"),
    ],
)
def test_bad_settings_raise_parameter_error(digits, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        embed_2d(digits[0], **kwargs)


def test_bad_source_and_bad_shapes(digits, tmp_path):
    X, _ = digits
    with pytest.raises(ParameterError, match="source must be a fitted estimator"):
        plot_embedding(object(), X, tmp_path / "x.png")
    with pytest.raises(ParameterError, match="method must be one of"):
        plot_embedding(None, X, tmp_path / "x.png", method="mds")
    with pytest.raises(DataError, match="needs at least 2"):
        embed_2d(X[:, :1])
    with pytest.raises(DataError, match="labels must be 1-D"):
        plot_embedding(None, X, tmp_path / "x.png", labels=np.zeros((400, 2)))
