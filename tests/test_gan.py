import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from torch import nn

from nolabel import DCGAN, GAN, DataError, NotFittedError, ParameterError, load_model
from nolabel.metrics.generation import mode_coverage
from nolabel.models.gan import (
    critic_loss,
    discriminator_loss,
    generator_loss,
    gradient_penalty,
)

SMALL = {"latent_dim": 16, "generator_dims": (64, 64), "discriminator_dims": (64, 64),
         "lr": 1e-3}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    return (load_digits().data / 16).astype(np.float32)  # (1797, 64) in [0, 1]


@pytest.fixture(scope="module")
def images(digits):
    return digits.reshape(-1, 1, 8, 8)


def _history(model):
    return {k: v for k, v in model.history_.items() if k != "epoch_time"}


def _mean_image_error(model, data):
    samples = model.sample(500, random_state=1)
    return float(((samples.mean(0) - data.mean(0)) ** 2).mean())


# -- the losses against closed forms ------------------------------------------------------------
def test_logistic_losses_and_label_smoothing():
    zeros = torch.zeros(4)
    loss, extras = discriminator_loss(zeros, zeros)
    assert float(loss) == pytest.approx(2 * math.log(2))  # D undecided: log 4
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([-3.0, 0.5])
    loss, extras = discriminator_loss(real, fake, label_smoothing=0.1)
    p, q = torch.sigmoid(real), torch.sigmoid(fake)
    expected = -(0.9 * p.log() + 0.1 * (1 - p).log()).mean() - (1 - q).log().mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)
    assert float(extras["d_real_accuracy"]) == 0.5 and float(extras["d_fake_accuracy"]) == 0.5
    assert float(generator_loss(zeros, "non-saturating")) == pytest.approx(math.log(2))
    assert float(generator_loss(zeros, "minimax")) == pytest.approx(-math.log(2))


def test_non_saturating_loss_keeps_gradients_when_d_rejects_samples():
    gradients = {}
    for name in ("non-saturating", "minimax"):
        logit = torch.tensor([-5.0], requires_grad=True)  # D is sure the sample is fake
        generator_loss(logit, name).backward()
        gradients[name] = abs(float(logit.grad))
    assert gradients["non-saturating"] == pytest.approx(torch.sigmoid(torch.tensor(5.0)).item())
    assert gradients["minimax"] == pytest.approx(torch.sigmoid(torch.tensor(-5.0)).item())
    assert gradients["non-saturating"] > 100 * gradients["minimax"]


def test_gradient_penalty_of_a_linear_critic_is_known_in_closed_form():
    critic = nn.Linear(6, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0, 0.0, 0.0]]))  # ||w|| = 5
    real, fake = torch.rand(8, 6), torch.rand(8, 6)
    penalty = gradient_penalty(critic, real, fake)
    assert float(penalty.detach()) == pytest.approx(16.0)  # (5 - 1)², wherever x̂ lies
    penalty.backward()  # differentiable in the weights: d/dw (||w|| - 1)² = 2 (||w|| - 1) w / ||w||
    torch.testing.assert_close(critic.weight.grad, 2 * 4 * critic.weight.detach() / 5)


def test_gradient_penalty_is_taken_between_real_and_fake():
    real, fake = torch.rand(5, 1, 2, 2), torch.rand(5, 1, 2, 2)
    mix = torch.rand(5)
    penalty = gradient_penalty(lambda x: 0.5 * (x**2).flatten(1).sum(1), real, fake, mix).detach()
    between = mix[:, None, None, None] * real + (1 - mix[:, None, None, None]) * fake
    expected = ((between.flatten(1).norm(dim=1) - 1) ** 2).mean()  # ∇ ½||x||² = x
    assert float(penalty) == pytest.approx(float(expected), rel=1e-6)
    loss, extras = critic_loss(torch.tensor([2.0, 4.0]), torch.tensor([1.0]), penalty, 10.0)
    assert float(extras["wasserstein_estimate"]) == 2.0
    assert float(loss) == pytest.approx(-2.0 + 10 * float(penalty))


# -- training on real digits --------------------------------------------------------------------
def test_gan_players_move_as_expected_early_on(digits):
    early = GAN(**SMALL, epochs=1, random_state=0).fit(digits[:512])
    model = GAN(**SMALL, epochs=8, random_state=0).fit(digits[:512])
    h = model.history_
    assert set(h) == {"discriminator_loss", "generator_loss", "d_real_accuracy",
                      "d_fake_accuracy", "epoch_time"}
    # D learns to separate real from fake first: its loss falls below log 4 (chance), G's
    # loss rises above log 2.
    assert h["d_real_accuracy"][1] > 0.8 and h["d_fake_accuracy"][1] > 0.8
    assert h["discriminator_loss"][2] < 2 * math.log(2) - 0.3
    assert h["generator_loss"][2] > math.log(2) + 0.3
    # ...then G catches up: D stops rejecting all real samples as it did.
    assert h["d_real_accuracy"][-1] < h["d_real_accuracy"][1]
    assert _mean_image_error(model, digits) < 0.5 * _mean_image_error(early, digits)


def test_each_objective_steps_only_its_own_player(digits):
    model = GAN(**SMALL, d_steps=3, epochs=1, random_state=0)
    model.fit(digits[:64])
    d_objective, g_objective = model._objectives(model.module_)
    assert d_objective.steps == 3 and g_objective.steps == 1
    owned = [{id(p) for group in o.optimizer.param_groups for p in group["params"]}
             for o in (d_objective, g_objective)]
    assert owned[0] == {id(p) for p in model.discriminator_.parameters()}
    assert owned[1] == {id(p) for p in model.generator_.parameters()}
    assert d_objective.optimizer.defaults["betas"] == (0.5, 0.999)


def test_dcgan_on_digit_images(images):
    model = DCGAN(16, channels=(16, 32), lr=1e-3, epochs=4, random_state=0).fit(images[:1000])
    h = model.history_
    assert h["d_real_accuracy"][0] > 0.5 and h["d_fake_accuracy"][1] > 0.5
    assert h["discriminator_loss"][-1] < 2 * math.log(2) - 0.1
    assert h["generator_loss"][-1] > math.log(2)
    samples = model.sample(10, random_state=0)
    assert samples.shape == (10, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.generator_.modules())
    assert any(isinstance(m, nn.Dropout) for m in model.discriminator_.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.discriminator_.modules())


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (2, 10, 10)])
def test_dcgan_image_sizes_and_channels(shape):
    X = np.random.default_rng(0).uniform(size=(8, *shape)).astype(np.float32)
    model = DCGAN(8, channels=(8, 16), epochs=1, batch_size=4, random_state=0).fit(X)
    assert model.sample(3).shape == (3, *shape)
    assert model.interpolate(4).shape == (4, *shape)


def test_gan_samples_keep_the_training_shape_and_interpolate_linearly(digits, images):
    flat = GAN(**SMALL, epochs=1, random_state=0).fit(digits[:64])
    square = GAN(**SMALL, epochs=1, random_state=0).fit(images[:64])
    assert flat.sample(4).shape == (4, 64)
    samples = square.sample(4)
    assert samples.shape == (4, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    five, three = square.interpolate(5, random_state=2), square.interpolate(3, random_state=2)
    np.testing.assert_allclose(five[[0, 2, 4]], three, atol=1e-6)  # same ends, evenly spaced
    assert not np.allclose(five[0], five[4])
    np.testing.assert_array_equal(five, square.interpolate(5, random_state=2))


def test_same_seed_same_training_and_samples_and_save_load(tmp_path, images):
    a = GAN(**SMALL, epochs=3, random_state=1).fit(images[:256])
    b = clone(a).fit(images[:256])
    assert _history(a) == _history(b)
    np.testing.assert_array_equal(a.sample(20), b.sample(20))
    np.testing.assert_array_equal(a.sample(20, random_state=5), a.sample(20, random_state=5))
    assert not np.array_equal(a.sample(20, random_state=5), a.sample(20, random_state=6))
    loaded = load_model(a.save(tmp_path / "gan.safetensors"))
    np.testing.assert_array_equal(loaded.sample(20, random_state=5), a.sample(20, random_state=5))
    assert loaded.history_ == a.history_


def test_dcgan_resume_matches_uninterrupted_and_save_load(tmp_path, images):
    X = images[:128]
    settings = {"latent_dim": 8, "channels": (8, 16), "batch_size": 32, "random_state": 0}
    straight = DCGAN(**settings, epochs=4).fit(X)
    path = tmp_path / "checkpoint.safetensors"
    DCGAN(**settings, epochs=2, checkpoint_path=str(path)).fit(X)
    resumed = DCGAN(**settings, epochs=4).fit(X, resume_from=path)
    assert _history(resumed) == _history(straight)
    np.testing.assert_array_equal(resumed.sample(8), straight.sample(8))
    loaded = load_model(straight.save(tmp_path / "dcgan.safetensors"))
    np.testing.assert_array_equal(loaded.sample(8), straight.sample(8))  # batch-norm stats too


@pytest.mark.parametrize("loss", ["minimax", "wgan-gp"])
def test_other_losses_train_without_nan(loss, digits):
    settings = {"d_steps": 2, "betas": (0.0, 0.9)} if loss == "wgan-gp" else {}
    model = GAN(**SMALL, loss=loss, epochs=5, random_state=0, **settings).fit(digits[:512])
    assert all(np.isfinite(v).all() for v in model.history_.values())
    if loss == "wgan-gp":
        penalty = model.history_["gradient_penalty"]
        assert penalty[-1] < 0.5 * penalty[0]  # the critic learns to keep ||∇D|| near 1
        assert "d_real_accuracy" not in model.history_
    else:
        assert max(model.history_["generator_loss"]) < 0  # log(1 − D(G(z))) is negative
    assert np.isfinite(model.sample(5)).all()


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("params, name", [
    ({"loss": "foo"}, "loss"),
    ({"d_steps": 0}, "d_steps"),
    ({"label_smoothing": 1.5}, "label_smoothing"),
    ({"label_smoothing": -0.1}, "label_smoothing"),
    ({"loss": "wgan-gp", "label_smoothing": 0.1}, "label_smoothing"),
    ({"gp_weight": -1.0}, "gp_weight"),
    ({"betas": (0.5,)}, "betas"),
    ({"betas": (0.5, 1.0)}, r"betas\[1\]"),
    ({"latent_dim": 0}, "latent_dim"),
    ({"generator_dims": (64, 0)}, r"generator_dims\[1\]"),
])
def test_bad_parameters_name_the_parameter(params, name, digits):
    with pytest.raises(ParameterError, match=name):
        GAN(**params, epochs=1).fit(digits[:16])


@pytest.mark.parametrize("params, name", [
    ({"channels": ()}, "channels"),
    ({"dropout": 1.0}, "dropout"),
    ({"generator_activation": "swish"}, "generator_activation"),
])
def test_bad_dcgan_parameters_name_the_parameter(params, name, images):
    with pytest.raises(ParameterError, match=name):
        DCGAN(**params, epochs=1).fit(images[:16])


def test_bad_data_and_unfitted_use(digits, images):
    with pytest.raises(DataError, match=r"GAN needs X in \[0, 1\]"):
        GAN(epochs=1).fit(digits[:16] * 16)
    with pytest.raises(DataError, match=r"DCGAN needs X in \[0, 1\]"):
        DCGAN(epochs=1).fit(images[:16] - 0.5)
    with pytest.raises(DataError, match="channels, height, width"):
        DCGAN(epochs=1).fit(digits[:16])
    with pytest.raises(NotFittedError):
        GAN().sample(2)
    with pytest.raises(NotFittedError):
        _ = DCGAN().generator_


# -- the mode-collapse check, an explicit function ----------------------------------------------
def _fitted_with_samples(digits, samples):
    model = GAN(**SMALL, epochs=1, random_state=0).fit(digits[:1200])
    model.sample = lambda n, random_state=None: samples[np.arange(n) % len(samples)]
    return model


def test_mode_coverage_flags_samples_collapsed_onto_one_mode(digits):
    coverage = mode_coverage(_fitted_with_samples(digits, digits[1200:1201]), digits[:1200])
    assert coverage.mode_collapse and coverage.sample_classes <= 2
    assert "mode collapse" in coverage.warning


def test_mode_coverage_passes_samples_that_cover_the_data(digits):
    coverage = mode_coverage(_fitted_with_samples(digits, digits[1200:]), digits[:1200])
    assert not coverage.mode_collapse and coverage.sample_classes >= 8


def test_fit_runs_no_coverage_check(digits, recwarn):
    model = GAN(**SMALL, epochs=1, random_state=0).fit(digits[:300])
    assert not hasattr(model, "coverage_")
    assert not [w for w in recwarn if "mode collapse" in str(w.message)]


def test_feature_network_argument_is_checked(digits):
    model = GAN(**SMALL, epochs=1, random_state=0).fit(digits[:300])
    with pytest.raises(ParameterError, match="feature_network"):
        mode_coverage(model, digits[:300], feature_network=3)


# -- WGAN-GP: the paper's settings unless the user sets them --------------------------------------
def test_wgan_gp_takes_its_papers_settings_and_a_critic_without_dropout(digits):
    images = digits[:64].reshape(-1, 1, 8, 8)
    model = DCGAN(8, channels=(4, 8), loss="wgan-gp", epochs=1, random_state=0).fit(images)
    assert model._training_settings() == (5, 1e-4, (0.0, 0.9))
    assert not [m for m in model.discriminator_.modules() if isinstance(m, nn.Dropout)
                and m.p > 0]
    optimizer_settings = DCGAN(8, loss="wgan-gp", lr=3e-4, d_steps=2)._training_settings()
    assert optimizer_settings == (2, 3e-4, (0.0, 0.9))
    assert DCGAN()._training_settings() == (1, 2e-4, (0.5, 0.999))
    with pytest.raises(ParameterError, match="without dropout"):
        DCGAN(8, channels=(4, 8), loss="wgan-gp", dropout=0.3, epochs=1).fit(images)


def test_gradient_penalty_is_unchanged_by_the_loss_scale():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake, mix = torch.randn(5, 3), torch.randn(5, 3), torch.rand(5)
    plain = gradient_penalty(lambda x: critic(x).squeeze(1), real, fake, mix)
    scaled = gradient_penalty(lambda x: critic(x).squeeze(1), real, fake, mix, scale=65536.0)
    assert torch.allclose(plain, scaled, rtol=1e-5)
