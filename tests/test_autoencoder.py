import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from nolabel import AutoEncoder, CheckpointError, DataError, NotFittedError, load_model


@pytest.fixture(scope="module")
def images():
    return (load_digits().data / 16).astype(np.float32).reshape(-1, 1, 8, 8)


@pytest.fixture(scope="module")
def fitted(images):
    return AutoEncoder(latent_dim=6, hidden_dims=(128,), epochs=30, random_state=0).fit(images)


def test_loss_falls(fitted):
    losses = fitted.history_["loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_shapes_follow_the_input(fitted, images):
    assert fitted.transform(images).shape == (len(images), 6)
    assert fitted.reconstruct(images[:5]).shape == (5, 1, 8, 8)
    assert fitted.inverse_transform(np.zeros((3, 6), np.float32)).shape == (3, 1, 8, 8)
    codes = fitted.transform(torch.from_numpy(images[:4]))
    assert isinstance(codes, torch.Tensor) and codes.shape == (4, 6)


def test_reconstruction_beats_pca_at_the_same_dimension(fitted, images):
    flat = images.reshape(len(images), -1)
    pca = PCA(6).fit(flat)
    pca_error = ((pca.inverse_transform(pca.transform(flat)) - flat) ** 2).mean()
    error = ((fitted.reconstruct(images) - images) ** 2).mean()
    assert error < pca_error


def test_score_samples_is_deterministic_and_flags_noise(fitted, images):
    scores = fitted.score_samples(images)
    np.testing.assert_array_equal(scores, fitted.score_samples(images))
    noise = np.random.default_rng(0).uniform(0, 1, images[:200].shape).astype(np.float32)
    assert scores.mean() > fitted.score_samples(noise).max()


def test_bce_loss_trains_on_unit_interval_data(images):
    model = AutoEncoder(latent_dim=4, hidden_dims=(32,), likelihood="bernoulli", epochs=3,
                        random_state=0).fit(images)
    assert model.history_["loss"][-1] < model.history_["loss"][0]
    out = model.reconstruct(images[:10])
    assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(DataError, match=r"likelihood='bernoulli' needs X in \[0, 1\]"):
        AutoEncoder(likelihood="bernoulli", epochs=1).fit(images * 16)


def test_same_seed_same_codes(images):
    a = AutoEncoder(latent_dim=3, hidden_dims=(16,), epochs=2, random_state=4).fit(images)
    b = clone(a).fit(images)
    np.testing.assert_array_equal(a.transform(images), b.transform(images))


def test_save_load_identical_outputs(tmp_path, fitted, images):
    path = fitted.save(tmp_path / "ae.safetensors")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.transform(images), fitted.transform(images))
    np.testing.assert_array_equal(loaded.score_samples(images), fitted.score_samples(images))
    assert loaded.history_ == fitted.history_
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 40)
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "junk.safetensors")


def test_misuse_gets_clear_errors(fitted, images):
    with pytest.raises(NotFittedError):
        AutoEncoder().transform(images)
    with pytest.raises(DataError, match="has 10 features, but AutoEncoder is expecting"):
        fitted.transform(np.zeros((2, 10), np.float32))
    with pytest.raises(DataError, match="Z has 2 columns but latent_dim is 6"):
        fitted.inverse_transform(np.zeros((2, 2), np.float32))
    with pytest.raises(DataError, match="at least 2"):
        AutoEncoder(epochs=1).fit(images[:1])


def planted_outliers(seed=0, n=400, n_outliers=20, d=12):
    """A standardised table whose rows lie near a 3-dimensional subspace, with
    ``n_outliers`` rows off it and three times as spread (tabular anomalies are often both);
    labels 1 for the planted rows."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(3, d))
    inliers = rng.normal(size=(n, 3)) @ mixing + 0.1 * rng.normal(size=(n, d))
    outliers = 3 * rng.normal(size=(n_outliers, d)) * inliers.std(0)
    X = np.vstack([inliers, outliers])
    X = (X - X.mean(0)) / X.std(0)
    return X.astype(np.float32), np.r_[np.zeros(n), np.ones(n_outliers)]


def test_defaults_flag_planted_outliers_in_a_standardised_table():
    from sklearn.metrics import roc_auc_score

    X, y = planted_outliers()
    model = AutoEncoder(random_state=0).fit(X)
    # sizes from the 12 features: one hidden layer of 6, a code of 3, tanh
    assert (model.latent_dim_, model.hidden_dims_, model.activation_) == (3, (6,), "tanh")
    assert model.latent_dim is None and model.hidden_dims is None  # stored as given
    assert roc_auc_score(y, -model.score_samples(X)) > 0.95


def test_default_sizes_follow_the_number_of_features(images, tmp_path):
    wide = AutoEncoder(epochs=1, random_state=0).fit(images)  # 64 pixels: image sizes
    assert (wide.latent_dim_, wide.hidden_dims_, wide.activation_) == (10, (256, 128), "relu")
    narrow = AutoEncoder(epochs=1, random_state=0).fit(np.eye(5, 3, dtype=np.float32))
    assert (narrow.latent_dim_, narrow.hidden_dims_) == (2, (4,))  # the code stays below d
    given = AutoEncoder(4, hidden_dims=(8, 8), activation="elu", epochs=1).fit(images)
    assert (given.latent_dim_, given.hidden_dims_, given.activation_) == (4, (8, 8), "elu")
    narrow.save(tmp_path / "narrow")
    loaded = load_model(tmp_path / "narrow")
    assert (loaded.latent_dim_, loaded.hidden_dims_) == (2, (4,))
    assert np.allclose(loaded.transform(np.eye(5, 3, dtype=np.float32)),
                       narrow.transform(np.eye(5, 3, dtype=np.float32)))


def test_an_int_is_one_hidden_layer(images):
    """What ``--param hidden_dims=32`` gives now that the default is None."""
    model = AutoEncoder(4, hidden_dims=32, epochs=1, random_state=0).fit(images)
    assert model.hidden_dims_ == (32,) and model.hidden_dims == 32
