"""SimCLR: the NT-Xent loss and SCARF's corruption against their definitions, and training
that makes the representation keep more neighbourhoods than its own untrained start."""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from sklearn.neighbors import NearestNeighbors

from nolabel import ParameterError, SimCLR, load_model
from nolabel.models.contrastive import corrupt_features, nt_xent


def neighbour_agreement(features: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """The fraction of each sample's k nearest neighbours that share its label."""
    index = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(
        features, return_distance=False)[:, 1:]
    return float((labels[index] == labels[:, None]).mean())


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.data[:600] / 16).astype(np.float32), data.target[:600]


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    return SimCLR(channels=(16, 32, 64), epochs=25, batch_size=128, precision="32",
                  random_state=0).fit(X)


def test_nt_xent_is_the_softmax_cross_entropy_of_the_twins():
    # Twins identical, different samples orthogonal: each view's twin has similarity 1/t,
    # the 2n - 2 other views 0.
    n, temperature = 3, 0.5
    z = torch.eye(n).repeat(2, 1)
    loss, extras = nt_xent(z, temperature)
    expected = -math.log(math.exp(1 / temperature) / (math.exp(1 / temperature) + 2 * n - 2))
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert extras["twin_found"].item() == 1.0
    # Swapping the second views' order pairs each view with a stranger: a larger loss.
    swapped = torch.cat([z[:n], z[n:].roll(1, 0)])
    assert nt_xent(swapped, temperature)[0] > loss + 1.0
    assert nt_xent(swapped, temperature)[1]["twin_found"].item() == 0.0


def test_scarf_corruption_draws_each_feature_from_its_own_column():
    torch.manual_seed(0)
    x = torch.arange(400.0).reshape(100, 4)  # column j holds only values = j (mod 4)
    assert torch.equal(corrupt_features(x, 0.0), x)
    views = corrupt_features(x, 0.6)
    assert torch.equal(views % 4, x % 4)
    changed = (views != x).float().mean().item()
    assert 0.5 < changed < 0.65  # 0.6, less the draws that picked their own row


def test_training_lowers_the_loss_and_finds_the_twins(fitted):
    losses, found = fitted.history_["loss"], fitted.history_["twin_found"]
    assert losses[-1] < losses[0] - 0.3
    assert found[-1] > found[0] + 0.1


def test_representation_keeps_more_digit_neighbourhoods_than_its_start(fitted, digits):
    X, y = digits
    start = SimCLR(channels=(16, 32, 64), epochs=1, batch_size=128, precision="32",
                   random_state=0, lr=1e-12).fit(X)  # the same network, left untrained
    assert neighbour_agreement(fitted.transform(X), y) > neighbour_agreement(
        start.transform(X), y) + 0.03


def test_transform_is_unit_length_deterministic_and_takes_any_image_layout(fitted, digits):
    X, _ = digits
    features = fitted.transform(X[:50])
    assert features.shape == (50, fitted.n_components_) == (50, 64)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(features, fitted.transform(X[:50]))
    images = SimCLR(channels=(4, 8), epochs=1, random_state=0).fit(X.reshape(-1, 8, 8))
    assert images.module_.image_shape == (1, 8, 8)
    assert images.transform(X[:5].reshape(-1, 8, 8)).shape == (5, 8)


def test_saved_model_gives_the_same_representation(fitted, digits, tmp_path):
    X, _ = digits
    path = fitted.save(tmp_path / "simclr.safetensors")
    np.testing.assert_allclose(load_model(path).transform(X[:20]), fitted.transform(X[:20]),
                               rtol=1e-6, atol=1e-6)


def test_tables_train_an_mlp_on_scarf_views():
    X, y = make_blobs(400, n_features=12, centers=4, cluster_std=3.0, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    model = SimCLR(hidden_dims=(64, 32), epochs=30, batch_size=100, precision="32",
                   random_state=0).fit(X)
    assert model.module_.image_shape is None and model.n_components_ == 32
    assert model.history_["loss"][-1] < model.history_["loss"][0]
    assert neighbour_agreement(model.transform(X), y) > 0.9


def test_conv_on_vectors_that_are_not_images_is_refused_by_name():
    X = np.random.default_rng(0).random((20, 10), dtype=np.float32)
    with pytest.raises(ParameterError, match="architecture='conv'"):
        SimCLR(architecture="conv", epochs=1).fit(X)
    assert SimCLR(epochs=1, hidden_dims=(8,)).fit(X).module_.image_shape is None
