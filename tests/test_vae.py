import math

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_digits

from nolabel import VAE, DataError, ParameterError, load_model
from nolabel.metrics.likelihood import (
    binarize,
    bits_per_dim,
    dequantize,
    iwae,
    log_bernoulli,
    log_diagonal_normal,
    log_gaussian,
)


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    images = (data.data / 16).astype(np.float32)
    binary = (images > 0.5).astype(np.float32)
    return binary, data.target


@pytest.fixture(scope="module")
def fitted(digits):
    return VAE(4, hidden_dims=(64,), epochs=30, random_state=0).fit(digits[0])


# -- the likelihood functions against closed forms ---------------------------------------------
def test_log_densities_match_scipy():
    rng = np.random.default_rng(0)
    x, mean = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    logvar = rng.normal(size=(3, 5))
    expected = stats.norm.logpdf(x, mean, np.exp(0.5 * logvar)).sum(1)
    as_t = [torch.from_numpy(a) for a in (x, mean, logvar)]
    np.testing.assert_allclose(log_gaussian(*as_t).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(log_diagonal_normal(*as_t).numpy(), expected, rtol=1e-12)
    p = rng.uniform(0.05, 0.95, size=(3, 5))
    bits = (rng.uniform(size=(3, 5)) < 0.5).astype(float)
    logits = torch.from_numpy(np.log(p / (1 - p)))
    np.testing.assert_allclose(log_bernoulli(torch.from_numpy(bits), logits).numpy(),
                               stats.bernoulli.logpmf(bits, p).sum(1), rtol=1e-10)


def test_iwae_bits_per_dim_and_dequantisation():
    equal = torch.full((2, 7), -3.0)
    assert torch.allclose(iwae(equal), torch.tensor([-3.0, -3.0]))
    weights = torch.log(torch.tensor([[1.0, 3.0]]))
    assert float(iwae(weights)) == pytest.approx(math.log(2.0))
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    # a uniform density on [0, 1] of 8-bit data is 8 bits per dimension
    assert bits_per_dim(0.0, 10, bins=256) == pytest.approx(8.0)
    x = torch.tensor([[0.0, 1.0, 128 / 255]])
    generator = torch.Generator().manual_seed(0)
    d = dequantize(x, generator)
    assert torch.equal(torch.floor(d * 256), torch.tensor([[0.0, 255.0, 128.0]]))
    b = binarize(torch.full((20000,), 0.3), torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) == {0.0, 1.0} and abs(float(b.mean()) - 0.3) < 0.01


# -- the model ----------------------------------------------------------------------------------
def test_elbo_rises_during_training_and_parts_are_logged(fitted):
    history = fitted.history_
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    np.testing.assert_allclose(history["loss"],
                               np.add(history["reconstruction"], history["kl"]), rtol=1e-5)
    assert min(history["kl"]) > 0


def test_iwae_at_least_elbo_and_rises_with_k(fitted, digits):
    X = digits[0][:300]
    elbo = fitted.elbo(X, n_samples=50)
    iw50 = fitted.score_samples(X, n_importance=50)
    assert (iw50 >= elbo - 1e-4).all()  # same draws: log-mean-exp >= mean, per sample
    means = [fitted.score_samples(X, n_importance=k).mean() for k in (1, 10, 200)]
    assert means[0] < means[1] < means[2]
    assert means[2] - means[0] > 0.05  # well beyond float32 noise


def test_scores_deterministic_and_flag_noise(fitted, digits):
    X = digits[0][:200]
    np.testing.assert_array_equal(fitted.score_samples(X), fitted.score_samples(X))
    noise = (np.random.default_rng(0).uniform(size=X.shape) < 0.5).astype(np.float32)
    assert np.median(fitted.score_samples(X)) > fitted.score_samples(noise).max()


def test_sampling_interpolation_shapes_and_seed(fitted, digits):
    samples = fitted.sample(16, random_state=3)
    assert samples.shape == (16, 64) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, fitted.sample(16, random_state=3))
    assert not np.array_equal(samples, fitted.sample(16, random_state=4))
    path = fitted.interpolate(digits[0][0], digits[0][1], steps=5)
    assert path.shape == (5, 64)
    ends = fitted.reconstruct(digits[0][:2])
    np.testing.assert_allclose(path[[0, -1]], ends, atol=1e-5)
    assert fitted.transform(digits[0][:7]).shape == (7, 4)


def test_same_seed_same_model_and_save_load(tmp_path, digits):
    X = digits[0][:400]
    a = VAE(3, hidden_dims=(32,), epochs=3, binarize=True, random_state=1).fit(X)
    b = clone(a).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    loaded = load_model(a.save(tmp_path / "vae.safetensors"))
    np.testing.assert_array_equal(loaded.score_samples(X), a.score_samples(X))


def test_conv_and_gaussian_variants(digits):
    images = load_digits().data.astype(np.float32).reshape(-1, 1, 8, 8) / 16
    conv = VAE(4, architecture="conv", channels=(16,), epochs=5, random_state=0).fit(images)
    assert conv.history_["loss"][-1] < conv.history_["loss"][0]
    assert conv.sample(3).shape == (3, 1, 8, 8)
    assert conv.reconstruct(images[:2]).shape == (2, 1, 8, 8)
    learned = VAE(4, hidden_dims=(64,), likelihood="gaussian", epochs=15,
                  random_state=0).fit(images * 16)
    assert learned.history_["loss"][-1] < learned.history_["loss"][0]
    assert learned.module_.logvar.requires_grad
    fixed = VAE(4, hidden_dims=(64,), likelihood="gaussian", variance=0.5, epochs=1,
                random_state=0).fit(images)
    assert not fixed.module_.logvar.requires_grad
    assert torch.allclose(fixed.module_.logvar, torch.tensor(math.log(0.5)))


def test_bad_input_and_settings(fitted, digits):
    with pytest.raises(DataError, match=r"likelihood='bernoulli' needs X in \[0, 1\]"):
        VAE(likelihood="bernoulli", epochs=1).fit(digits[0] * 3)
    with pytest.raises(ParameterError, match="binarize=True needs likelihood='bernoulli'"):
        VAE(likelihood="gaussian", binarize=True, epochs=1).fit(digits[0])
    with pytest.raises(ParameterError, match="variance"):
        VAE(likelihood="gaussian", variance=-1.0, epochs=1).fit(digits[0])
    with pytest.raises(DataError, match="expecting 64 features"):
        fitted.score_samples(np.zeros((2, 10), np.float32))
    with pytest.raises(ParameterError, match="n_importance"):
        fitted.score_samples(digits[0][:2], n_importance=0)


def test_auto_likelihood_follows_the_data(digits):
    """Bernoulli for data in [0, 1]; a standardised table gets a Gaussian and trains."""
    X = digits[0]
    assert VAE(epochs=1, random_state=0).fit(X).likelihood_ == "bernoulli"
    table = (X - X.mean(0)) / (X.std(0) + 1e-3)
    model = VAE(epochs=3, random_state=0).fit(table)
    assert model.likelihood_ == "gaussian"
    assert model.history_["loss"][-1] < model.history_["loss"][0]
    assert np.isfinite(model.score_samples(table[:5])).all()


def test_learned_variance_has_a_floor(digits):
    """A constant feature (digits have always-blank pixels) cannot drive the likelihood to +∞."""
    X = digits[0]
    model = VAE(likelihood="gaussian", epochs=2, random_state=0).fit(X)
    net = model.module_
    with torch.no_grad():
        net.logvar.fill_(-50.0)
    assert np.isfinite(model.score_samples(X[:5])).all()
    assert float(net.log_likelihood(torch.zeros(1, 64), torch.zeros(1, 64))) < 64 * 5.0


def test_defaults_flag_planted_outliers_in_a_standardised_table():
    """At its defaults a VAE takes a standardised table (Gaussian likelihood, sizes from the
    12 features) and its log-likelihood ranks rows off the data's subspace lowest."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    inliers = rng.normal(size=(400, 3)) @ rng.normal(size=(3, 12))
    inliers += 0.1 * rng.normal(size=inliers.shape)
    outliers = 3 * rng.normal(size=(20, 12)) * inliers.std(0)
    X = np.vstack([inliers, outliers])
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    y = np.r_[np.zeros(400), np.ones(20)]
    model = VAE(random_state=0).fit(X)
    assert model.likelihood_ == "gaussian"
    assert (model.latent_dim_, model.hidden_dims_, model.activation_) == (3, (24, 12), "tanh")
    assert roc_auc_score(y, -model.score_samples(X)) > 0.95
    # the same table rescaled into [0, 1] gets a Bernoulli
    unit = (X - X.min(0)) / (X.max(0) - X.min(0))
    assert VAE(epochs=1, random_state=0).fit(unit).likelihood_ == "bernoulli"


def test_default_sizes_follow_the_data(digits, tmp_path):
    X = digits[0]  # 64 pixels: the image sizes
    wide = VAE(epochs=1, random_state=0).fit(X)
    assert (wide.latent_dim_, wide.hidden_dims_, wide.activation_) == (10, (512, 256), "relu")
    assert wide.sample(2).shape == (2, 64)
    conv = VAE(architecture="conv", channels=(4,), epochs=1).fit(X[:64, :16].reshape(-1, 1, 4, 4))
    assert (conv.latent_dim_, conv.activation_) == (10, "relu")  # 16 pixels, still an image
    narrow = VAE(epochs=1, random_state=0).fit(X[:, :20])
    assert (narrow.latent_dim_, narrow.hidden_dims_) == (5, (40, 20))
    path = narrow.save(tmp_path / "narrow")
    loaded = load_model(path)
    assert (loaded.latent_dim_, loaded.hidden_dims_, loaded.activation_) == (5, (40, 20), "tanh")
    np.testing.assert_allclose(loaded.transform(X[:5, :20]), narrow.transform(X[:5, :20]))
