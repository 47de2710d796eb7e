import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from nolabel import ParameterError
from nolabel.manifold import tsne_embedding

pytestmark = pytest.mark.usefixtures("one_thread")


def test_tsne_keeps_digit_classes_apart_and_is_seeded():
    data = load_digits()
    X, y = (data.data[:300] / 16).astype(np.float32), data.target[:300]
    points = tsne_embedding(X, 2, seed=3)
    assert points.shape == (300, 2) and points.dtype == np.float32
    assert cross_val_score(KNeighborsClassifier(5), points, y, cv=3).mean() > 0.85
    np.testing.assert_array_equal(points, tsne_embedding(X, 2, seed=3))


def test_tsne_on_tiny_data_caps_the_perplexity():
    points = tsne_embedding(np.random.default_rng(0).normal(size=(8, 5)), 1, perplexity=30.0)
    assert points.shape == (8, 1) and np.isfinite(points).all()


def test_tsne_beyond_three_dimensions_names_n_components():
    with pytest.raises(ParameterError, match="n_components=4"):
        tsne_embedding(np.zeros((20, 5)), 4)
