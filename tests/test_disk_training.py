"""Neural models train from a .npy path read batch by batch, as they do from the array."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import nolabel
from nolabel import DataError
from nolabel.metrics.generation import mode_coverage


def _digits(n=256):
    return (load_digits().data[:n] / 16.0).astype(np.float32)


def _same_weights(a, b):
    for name, value in a.module_.state_dict().items():
        assert torch.equal(b.module_.state_dict()[name], value), name


def test_autoencoder_from_npy_path_matches_in_memory(tmp_path):
    X = _digits()
    np.save(tmp_path / "X.npy", X)
    settings = {"latent_dim": 3, "hidden_dims": (16,), "epochs": 2, "batch_size": 32,
                "random_state": 0, "device": "cpu"}
    from_disk = nolabel.AutoEncoder(**settings).fit(str(tmp_path / "X.npy"))
    in_memory = nolabel.AutoEncoder(**settings).fit(X)
    _same_weights(from_disk, in_memory)
    assert from_disk.history_["loss"] == in_memory.history_["loss"]


def test_image_model_from_npy_keeps_the_image_shape(tmp_path):
    X = _digits().reshape(-1, 1, 8, 8)
    np.save(tmp_path / "images.npy", X)
    model = nolabel.ConvAutoEncoder(latent_dim=3, channels=(4, 8), epochs=1, batch_size=64,
                                    random_state=0, device="cpu").fit(tmp_path / "images.npy")
    assert model.sample_shape_ == (1, 8, 8)
    assert model.transform(X).shape == (len(X), 3)


def test_bad_rows_on_disk_are_named(tmp_path):
    X = _digits()
    X[200, 5] = np.nan
    np.save(tmp_path / "X.npy", X)
    with pytest.raises(DataError, match="row 200"):
        nolabel.AutoEncoder(epochs=1, batch_size=300, device="cpu").fit(tmp_path / "X.npy")


def test_gan_from_npy_path_trains_and_scores_its_coverage(tmp_path):
    X = _digits()
    np.save(tmp_path / "X.npy", X)
    settings = {"latent_dim": 4, "generator_dims": (16,), "discriminator_dims": (16,),
                "epochs": 1, "batch_size": 64, "random_state": 0, "device": "cpu"}
    from_disk = nolabel.GAN(**settings).fit(tmp_path / "X.npy")
    in_memory = nolabel.GAN(**settings).fit(X)
    _same_weights(from_disk, in_memory)
    assert (mode_coverage(from_disk, tmp_path / "X.npy", n_samples=200)
            == mode_coverage(in_memory, X, n_samples=200))
