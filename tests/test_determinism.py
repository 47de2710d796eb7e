"""Same random_state, same result on CPU, bit for bit, for every model family; and a
different seed gives a different result, so these tests can fail.

Already covered elsewhere, not repeated here: randomized PCA (test_pca.py,
test_randomized_is_seeded) and the training loop itself (test_train_loop.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from nolabel import (
    DBSCAN,
    DCGAN,
    DEC,
    GAN,
    VAE,
    AutoEncoder,
    GaussianMixture,
    KMeans,
    MiniBatchKMeans,
    PixelCNN,
    VaDE,
)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits():
    return (load_digits().data[:200] / 16).astype(np.float32)


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.module_.state_dict().items()}


def _identical(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


NEURAL = {
    "autoencoder": lambda seed: AutoEncoder(3, hidden_dims=(16,), epochs=2, batch_size=32,
                                            random_state=seed, device="cpu"),
    "denoising-autoencoder": lambda seed: AutoEncoder(
        3, hidden_dims=(16,), noise="gaussian", epochs=2, batch_size=32, random_state=seed,
        device="cpu"),
    "vae": lambda seed: VAE(3, hidden_dims=(16,), epochs=2, batch_size=32, random_state=seed,
                            device="cpu"),
    "gan": lambda seed: GAN(latent_dim=4, generator_dims=(16,), discriminator_dims=(16,),
                            epochs=2, batch_size=32, random_state=seed, device="cpu"),
    "dcgan": lambda seed: DCGAN(latent_dim=4, channels=(4, 8), epochs=1, batch_size=32,
                                random_state=seed, device="cpu"),
    "pixelcnn": lambda seed: PixelCNN(hidden_channels=8, n_layers=2, epochs=1, batch_size=32,
                                      random_state=seed, device="cpu"),
}
DEEP_CLUSTERING = {
    "dec": lambda seed: DEC(3, hidden_dims=(16,), latent_dim=2, pretrain_epochs=2, epochs=2,
                            n_init=2, update_interval=5, batch_size=32, random_state=seed,
                            device="cpu"),
    "vade": lambda seed: VaDE(3, hidden_dims=(16,), latent_dim=2, pretrain_epochs=2, epochs=2,
                              n_init=2, batch_size=32, random_state=seed, device="cpu"),
}


def _data_for(name: str, digits: np.ndarray) -> np.ndarray:
    if name == "dcgan":  # its convolutions want 28x28 or 32x32 images
        return np.pad(digits.reshape(-1, 1, 8, 8), ((0, 0), (0, 0), (12, 12), (12, 12)))[:64]
    if name == "pixelcnn":
        return (digits.reshape(-1, 1, 8, 8) > 0.5).astype(np.float32)
    return digits


@pytest.mark.parametrize("name", list(NEURAL))
def test_neural_model_same_seed_same_weights(name, digits):
    X = _data_for(name, digits)
    first, again, other = (NEURAL[name](seed).fit(X) for seed in (3, 3, 4))
    assert _identical(_weights(first), _weights(again))
    assert not _identical(_weights(first), _weights(other))


@pytest.mark.parametrize("name", list(DEEP_CLUSTERING))
def test_deep_clusterer_same_seed_same_labels_and_weights(name, digits):
    first, again, other = (DEEP_CLUSTERING[name](seed).fit(digits) for seed in (3, 3, 4))
    np.testing.assert_array_equal(first.labels_, again.labels_)
    assert _identical(_weights(first), _weights(again))
    assert not _identical(_weights(first), _weights(other))


def test_kmeans_and_minibatch_same_seed_same_centres(digits):
    for cls in (KMeans, MiniBatchKMeans):
        first, again, other = (cls(8, init="random", n_init=1, random_state=seed,
                                   device="cpu").fit(digits) for seed in (3, 3, 4))
        np.testing.assert_array_equal(first.labels_, again.labels_)
        np.testing.assert_array_equal(first.cluster_centers_, again.cluster_centers_)
        assert not np.array_equal(first.cluster_centers_, other.cluster_centers_), cls


def test_gmm_same_seed_same_parameters(digits):
    first, again, other = (GaussianMixture(4, covariance_type="diag", init_params="random",
                                           random_state=seed, device="cpu").fit(digits)
                           for seed in (3, 3, 4))
    np.testing.assert_array_equal(first.predict(digits), again.predict(digits))
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.means_, other.means_)


def test_dbscan_has_no_randomness(digits):
    first, again = (DBSCAN(eps=1.0, min_samples=4, device="cpu").fit(digits) for _ in range(2))
    np.testing.assert_array_equal(first.labels_, again.labels_)
    assert len(set(first.labels_.tolist())) > 1  # not a trivial all-noise answer
