"""Sample quality: Fréchet distance, precision/recall, the feature network and its cache."""

import dataclasses
import importlib.machinery
import importlib.util
import sys
import types
from typing import ClassVar

import numpy as np
import pytest
import scipy.linalg
import torch
from scipy.spatial.distance import cdist
from threadpoolctl import threadpool_limits

import nolabel
from nolabel.data import train_test_split
from nolabel.errors import CheckpointError, ChecksumError, DataError, ParameterError
from nolabel.metrics.generation import (
    FeatureNetwork,
    Recipe,
    build_feature_network,
    feature_network_path,
    frechet_distance,
    frechet_distance_from_stats,
    inception_fid,
    manifold,
    precision_recall,
    sample_quality,
    train_feature_network,
)

# Small enough to train on the 1,437 training digits in about a second.
TINY = Recipe(channels=(8, 16), feature_dim=32, epochs=15, batch_size=64)


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits():
    return train_test_split(nolabel.load("digits"), 0.2, random_state=0)


@pytest.fixture(scope="module")
def network(digits):
    train, _ = digits
    with threadpool_limits(1):
        return train_feature_network(train.X, train.y, TINY, dataset="digits")


def _spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


# -- Fréchet distance -------------------------------------------------------------------

def test_fd_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).exponential(size=(2000, 16))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    tensor = torch.from_numpy(features).float()
    assert frechet_distance(tensor, tensor) == pytest.approx(0.0, abs=1e-6)


def test_fd_of_gaussian_samples_matches_the_closed_form():
    rng = np.random.default_rng(1)
    n = 200_000
    mu1, sd1 = np.zeros(4), np.array([1.0, 2.0, 0.5, 1.0])
    mu2, sd2 = np.array([1.0, -1.0, 0.5, 0.0]), np.array([1.5, 1.0, 0.5, 3.0])
    # Diagonal covariances commute: FD = ||mu1 - mu2||² + Σ (sd1 - sd2)² = 2.25 + 5.25.
    exact = np.sum((mu1 - mu2) ** 2) + np.sum((sd1 - sd2) ** 2)
    assert exact == pytest.approx(7.5)
    a = mu1 + sd1 * rng.standard_normal((n, 4))
    b = mu2 + sd2 * rng.standard_normal((n, 4))
    # Sampling error: the mean term moves by 2 Δmu·(ε1 - ε2), sd 2·sqrt(Σ Δmu²(sd1² + sd2²)/n)
    # = 0.013; each covariance term by 2|sd1 - sd2|·sd/sqrt(2n), at most 0.02; bias O(d/n).
    # All together sd ≈ 0.025, so 0.1 is four standard deviations.
    assert frechet_distance(a, b) == pytest.approx(exact, abs=0.1)


def test_fd_from_stats_is_exact_on_known_matrices():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    # sqrt(S1 S2) = diag(2, 4, 3): 5 + (14 + 9 - 2·9) = 10.
    assert frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(10.0, abs=1e-12)
    # S2 = c² S1 for a full S1: sqrt(S1 S2) = c S1, so FD = ||Δmu||² + (1 - c)² Tr S1.
    rng = np.random.default_rng(2)
    s = _spd(rng, 6)
    mu = rng.normal(size=6)
    expected = mu @ mu + (1 - 3.0) ** 2 * np.trace(s)
    assert frechet_distance_from_stats(mu, s, np.zeros(6), 9.0 * s) == pytest.approx(
        expected, rel=1e-10)
    assert frechet_distance_from_stats(mu, s, mu, s) == pytest.approx(0.0, abs=1e-9)


def test_fd_from_stats_agrees_with_sqrtm_on_non_commuting_covariances():
    rng = np.random.default_rng(3)
    mu1, mu2, s1, s2 = rng.normal(size=5), rng.normal(size=5), _spd(rng, 5), _spd(rng, 5)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * root)
    assert frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-9)


def test_fd_handles_singular_covariances_and_refuses_bad_input():
    rng = np.random.default_rng(4)
    few = frechet_distance(rng.normal(size=(5, 32)), rng.normal(size=(5, 32)))
    assert np.isfinite(few) and few > 0
    with pytest.raises(DataError, match=r"16 features.*12"):
        frechet_distance(rng.normal(size=(10, 16)), rng.normal(size=(10, 12)))
    with pytest.raises(DataError, match="at least 2 samples"):
        frechet_distance(rng.normal(size=(1, 4)), rng.normal(size=(10, 4)))
    with pytest.raises(DataError, match="not symmetric"):
        frechet_distance_from_stats(np.zeros(2), [[1, 1], [0, 1]], np.zeros(2), np.eye(2))
    with pytest.raises(DataError, match=r"\(3, 3\)"):
        frechet_distance_from_stats(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))


# -- precision / recall -------------------------------------------------------------------

def test_precision_recall_of_a_set_with_itself_is_one():
    features = np.random.default_rng(5).normal(size=(500, 8))
    assert precision_recall(features, features) == (1.0, 1.0)


def test_shifted_fakes_lose_precision_and_partial_fakes_lose_recall():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(1000, 8))
    near = precision_recall(real, rng.normal(size=(1000, 8)))
    assert near.precision > 0.85 and near.recall > 0.85  # 0.89, 0.91
    far = precision_recall(real, rng.normal(size=(1000, 8)) + 3.0)
    assert far.precision < 0.2
    half = precision_recall(real, real[real[:, 0] > 0.5])
    assert half.precision == 1.0 and half.recall < 0.75


def test_precision_recall_in_blocks_matches_brute_force(monkeypatch):
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(300, 5)), rng.normal(size=(200, 5)) + 0.5
    monkeypatch.setattr(manifold, "_BLOCK_ELEMENTS", 1000)  # blocks of 3 to 5 rows
    got = precision_recall(real, fake, k=4)

    def radii(x):
        return np.sort(cdist(x, x), axis=1)[:, 4]

    cross = cdist(fake, real)
    precision = np.mean((cross <= radii(real)[None, :]).any(axis=1))
    recall = np.mean((cross <= radii(fake)[:, None]).any(axis=0))
    assert got == pytest.approx((precision, recall))


def test_precision_recall_needs_more_samples_than_k():
    with pytest.raises(DataError, match="k=3 needs more than 3"):
        precision_recall(np.zeros((3, 2)), np.ones((10, 2)))
    with pytest.raises(ParameterError):
        precision_recall(np.zeros((10, 2)), np.ones((10, 2)), k=0)


# -- the feature network ---------------------------------------------------------------------

def test_feature_network_classifies_held_out_digits(network, digits):
    _, test = digits
    assert network.accuracy(test.X, test.y) > 0.8
    features = network.features(test.X)
    assert features.shape == (len(test.X), 32) and features.dtype == np.float32
    assert (features >= 0).all()
    # Flat rows and (n, h, w) images of one channel are the same images.
    assert np.array_equal(network.predict(test.X.reshape(len(test.X), -1)), network.predict(test.X))
    assert np.array_equal(network.features(test.X[:, 0]), features)


def test_same_seed_gives_identical_weights(network, digits):
    train, _ = digits
    again = train_feature_network(train.X, train.y, TINY)
    for key, value in network.module.state_dict().items():
        assert torch.equal(value, again.module.state_dict()[key]), key
    other = train_feature_network(train.X, train.y, dataclasses.replace(TINY, seed=1))
    assert not torch.equal(other.module.head.weight, network.module.head.weight)


def test_saved_weights_reload_identical_and_pickles_are_refused(network, digits, tmp_path):
    _, test = digits
    path = network.save(tmp_path / "net.safetensors")
    loaded = FeatureNetwork.load(path)
    assert loaded.recipe == TINY and loaded.image_shape == (1, 8, 8) and loaded.n_classes == 10
    assert np.array_equal(loaded.features(test.X), network.features(test.X))
    pickled = tmp_path / "pickled.safetensors"
    torch.save(network.module.state_dict(), pickled)
    (tmp_path / "pickled.safetensors.sha256").write_text(
        f"{nolabel.data.sha256_file(pickled)}  pickled.safetensors\n")
    with pytest.raises(CheckpointError, match="never unpickles"):
        FeatureNetwork.load(pickled)


def test_cache_builds_reloads_and_detects_corruption(monkeypatch, tmp_path, digits):
    monkeypatch.setenv("NOLABEL_CACHE", str(tmp_path))
    path = feature_network_path("digits")
    assert path == tmp_path / "feature-networks" / "digits.safetensors"
    built = build_feature_network("digits", recipe=TINY, verbose=0)
    assert path.is_file() and path.with_name("digits.safetensors.sha256").is_file()
    assert built.dataset == "digits" and built.test_accuracy > 0.8
    cached = build_feature_network("digits", recipe=TINY)
    assert cached.train_seconds == built.train_seconds  # loaded, not trained again
    for key, value in built.module.state_dict().items():
        assert torch.equal(value, cached.module.state_dict()[key])

    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="force=True"):
        build_feature_network("digits", recipe=TINY)
    rebuilt = build_feature_network("digits", recipe=TINY, force=True, verbose=0)
    assert torch.equal(rebuilt.module.head.weight, built.module.head.weight)
    assert FeatureNetwork.load(path).test_accuracy == rebuilt.test_accuracy


def test_training_refuses_bad_data():
    images = np.random.default_rng(8).random((20, 1, 8, 8))
    with pytest.raises(DataError, match="single class"):
        train_feature_network(images, np.zeros(20, dtype=int), TINY)
    with pytest.raises(DataError, match="19 values"):
        train_feature_network(images, np.arange(19) % 2, TINY)
    with pytest.raises(DataError, match=r"\(n_samples, channels, height, width\)"):
        train_feature_network(images.reshape(20, -1), np.arange(20) % 2, TINY)


# -- sample quality -------------------------------------------------------------------------

class _Model:
    """Stands for any generative model: ``sample`` draws from a fixed pool of images."""

    def __init__(self, pool):
        self.pool = pool

    def sample(self, n_samples, random_state=None):
        rng = np.random.default_rng(random_state)
        return self.pool[rng.choice(len(self.pool), n_samples)].reshape(n_samples, -1)


def test_real_held_out_data_scores_well_without_a_warning(network, digits, recwarn):
    train, test = digits
    result = sample_quality(train, test, network, n_samples=300)
    assert result.n_samples == result.n_real == 300 and result.k == 3
    assert not result.mode_collapse and result.warning is None and len(recwarn) == 0
    assert result.sample_classes == result.real_classes == 10
    assert result.precision > 0.7 and result.recall > 0.7
    assert result.fid is None and "not asked" in result.fid_note
    shifted = sample_quality(np.clip(train.X + 0.5, 0, 1), test, network, n_samples=300)
    assert shifted.fd > 5 * result.fd and shifted.precision < result.precision


def test_mode_collapse_warning_fires_for_copies_of_one_class(network, digits):
    train, test = digits
    zeros = train.X[train.y == 0]
    with pytest.warns(UserWarning, match="mode collapse"):
        result = sample_quality(_Model(zeros), test, network, n_samples=200)
    assert result.mode_collapse and result.sample_classes <= 2 and result.real_classes == 10
    assert "of the 10 classes" in result.warning
    assert result.recall < 0.5


def test_samples_from_a_model_are_reproducible(network, digits):
    train, test = digits
    first = sample_quality(_Model(train.X), test, network, n_samples=100, random_state=3)
    again = sample_quality(_Model(train.X), test, network, n_samples=100, random_state=3)
    assert first == again and first.n_samples == 100


def test_a_mixture_model_with_sklearn_style_sample_is_scored(network, digits):
    train, test = digits
    gmm = nolabel.GaussianMixture(10, covariance_type="diag", random_state=0,
                                  device="cpu").fit(train.flat())
    # sample(n) takes no random_state and returns (X, labels); X is flat and leaves [0, 1].
    result = sample_quality(gmm, test, network, n_samples=300, clip=True)
    assert result.n_samples == 300 and 0 < result.precision < 1 and not result.mode_collapse


def test_sample_quality_names_shape_and_range_problems(network, digits):
    train, test = digits
    with pytest.raises(DataError, match=r"samples has shape \(10, 1, 28, 28\).*\(1, 8, 8\)"):
        sample_quality(np.zeros((10, 1, 28, 28)), test, network)
    with pytest.raises(DataError, match=r"real_images .*\(7,\)"):
        sample_quality(train.X, np.zeros((10, 7)), network)
    tanh = train.X[:100] * 2 - 1
    with pytest.raises(DataError, match=r"samples spans \[-1, 1\].*clip=True"):
        sample_quality(tanh, test, network)
    assert sample_quality(tanh, test, network, clip=True).n_samples == 100
    with pytest.raises(ParameterError, match="FeatureNetwork or a dataset name"):
        sample_quality(train.X, test, object())


# -- optional Inception FID ------------------------------------------------------------------

def _fake_package(monkeypatch, name, **modules):
    for module_name, attributes in {name: {}, **modules}.items():
        module = types.ModuleType(module_name)
        module.__spec__ = importlib.machinery.ModuleSpec(module_name, None)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, module_name, module)


def test_inception_fid_is_none_with_the_reason_when_unavailable(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    images = np.zeros((4, 1, 8, 8), dtype=np.float32)
    if importlib.util.find_spec("torch_fidelity") is None and (
            importlib.util.find_spec("pytorch_fid") is None):
        result = inception_fid(images, images)
        assert result.value is None and "neither" in result.note
    _fake_package(monkeypatch, "pytorch_fid")
    result = inception_fid(images, images)
    assert result.value is None and "never downloads" in result.note


def test_inception_fid_uses_an_installed_backend(monkeypatch, tmp_path):
    class InceptionV3(torch.nn.Module):
        """Channel means in place of Inception's pool features."""

        BLOCK_INDEX_BY_DIM: ClassVar[dict[int, int]] = {2048: 3}

        def __init__(self, blocks):
            super().__init__()

        def forward(self, x):
            return [x.mean(dim=(2, 3), keepdim=True)]

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # not importable
    _fake_package(monkeypatch, "pytorch_fid",
                  **{"pytorch_fid.inception": {"InceptionV3": InceptionV3}})
    weights = tmp_path / "hub" / "checkpoints" / "pt_inception-2015-12-05-6726825d.pth"
    weights.parent.mkdir(parents=True)
    torch.save({"w": torch.zeros(1)}, weights)
    rng = np.random.default_rng(9)
    # Two clearly different sets: between two draws of one distribution the distance is
    # near 0 (1e-5), where float32 summation order alone moves it by 1e-5 of itself.
    real = rng.random((40, 1, 8, 8), np.float32)
    fake = 0.5 * rng.random((30, 1, 8, 8), np.float32)
    result = inception_fid(real, fake, device="cpu")
    means = [np.repeat(x.mean(axis=(2, 3)), 3, axis=1) for x in (real, fake)]
    assert result.value > 0.1
    assert result.value == pytest.approx(frechet_distance(*means), rel=1e-5)
    assert "pytorch_fid" in result.note


# -- the real Fashion-MNIST feature network ----------------------------------------------------

@pytest.mark.slow
def test_fashion_mnist_feature_network():
    network = FeatureNetwork.for_dataset("fashion-mnist", verbose=0)
    assert network.image_shape == (1, 28, 28) and network.test_accuracy > 0.88
    test = nolabel.load("fashion-mnist", split="test")
    first, second = test.subset(np.arange(5000)), test.subset(np.arange(5000, 10000))
    result = sample_quality(first, second, network)
    assert not result.mode_collapse and result.precision > 0.7 and result.recall > 0.7
