import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits

from nolabel import ConvAutoEncoder, DataError, DeepAutoEncoder, ParameterError, load_model
from nolabel.models.autoencoder import corrupt, layerwise_error
from nolabel.nets import ConvDecoder, ConvEncoder


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.data / 16).astype(np.float32).reshape(-1, 1, 8, 8), data.target


@pytest.fixture(scope="module")
def conv(digits):
    return ConvAutoEncoder(8, channels=(16, 32), epochs=15, random_state=0).fit(digits[0])


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (2, 13, 17), (1, 8, 8)])
def test_conv_blocks_round_trip_any_size_and_channels(shape):
    encoder = ConvEncoder(shape, (8, 16), 5)
    decoder = ConvDecoder(5, shape, (8, 16))
    x = torch.rand(4, *shape)
    assert encoder(x).shape == (4, 5)
    assert decoder(encoder(x)).shape == (4, *shape)


def test_conv_autoencoder_learns_digits(conv, digits):
    images, labels = digits
    losses = conv.history_["loss"]
    assert losses[-1] < 0.5 * losses[0]
    error = ((conv.reconstruct(images) - images) ** 2).mean()
    assert error < 0.5 * images.var()
    codes = conv.transform(images)
    assert codes.shape == (len(images), 8)
    # codes keep class information: 1-NN on codes far above chance (0.1)
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    assert cross_val_score(KNeighborsClassifier(1), codes, labels, cv=3).mean() > 0.7


def test_conv_autoencoder_three_channel_odd_size_and_3d_input():
    rng = np.random.default_rng(0)
    rgb = rng.random((40, 3, 11, 9), dtype=np.float32)
    model = ConvAutoEncoder(4, channels=(8,), epochs=2, random_state=0).fit(rgb)
    assert model.reconstruct(rgb[:3]).shape == (3, 3, 11, 9)
    assert model.inverse_transform(np.zeros((2, 4), np.float32)).shape == (2, 3, 11, 9)
    grey = rng.random((40, 10, 10), dtype=np.float32)  # (n, h, w): one channel
    model = ConvAutoEncoder(4, channels=(8,), epochs=1, random_state=0).fit(grey)
    assert model.sample_shape_ == (1, 10, 10)
    assert model.transform(grey).shape == (40, 4)


def test_conv_score_samples_deterministic_and_flags_noise(conv, digits):
    images = digits[0]
    scores = conv.score_samples(images)
    np.testing.assert_array_equal(scores, conv.score_samples(images))
    noise = np.random.default_rng(1).uniform(0, 1, images[:200].shape).astype(np.float32)
    assert np.median(scores) > conv.score_samples(noise).max()


def test_conv_same_seed_same_weights_and_save_load(tmp_path, digits):
    images = digits[0][:300]
    a = ConvAutoEncoder(4, channels=(8,), batch_norm=True, epochs=2, random_state=3).fit(images)
    b = clone(a).fit(images)
    np.testing.assert_array_equal(a.transform(images), b.transform(images))
    loaded = load_model(a.save(tmp_path / "conv.safetensors"))
    np.testing.assert_array_equal(loaded.reconstruct(images), a.reconstruct(images))


def test_conv_bad_input_gets_clear_errors(conv, digits):
    images = digits[0]
    with pytest.raises(DataError, match=r"images of shape \(1, 10, 10\).*fitted on images of "
                                        r"shape \(1, 8, 8\)"):
        conv.transform(np.zeros((2, 1, 10, 10), np.float32))
    with pytest.raises(DataError, match=r"images of shape \(3, 8, 8\)"):
        conv.score_samples(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(DataError, match=r"must be images shaped \(n_samples, channels, height, "
                                        r"width\) for ConvAutoEncoder, got shape \(64,\)"):
        conv.transform(images[0].ravel())
    with pytest.raises(DataError, match=r"must be images.*got shape \(1797, 64\)"):
        ConvAutoEncoder(epochs=1).fit(images.reshape(len(images), -1))
    with pytest.raises(ParameterError, match="channels"):
        ConvAutoEncoder(channels=(), epochs=1).fit(images)


@pytest.mark.parametrize("noise, level", [("gaussian", 0.3), ("masking", 0.4)])
def test_denoising_training_and_clean_inference(noise, level, digits):
    images = digits[0]
    torch.manual_seed(0)
    x = torch.from_numpy(images[:500])
    corrupted = corrupt(x, noise, level)
    if noise == "masking":
        zeroed = ((corrupted == 0) & (x != 0)).sum() / (x != 0).sum()
        assert abs(float(zeroed) - level) < 0.05
    else:
        assert abs(float((corrupted - x).std()) - level) < 0.02
    model = ConvAutoEncoder(8, channels=(16,), noise=noise, noise_level=level, epochs=6,
                            random_state=0).fit(images)
    assert model.history_["loss"][-1] < model.history_["loss"][0]
    # denoising: a corrupted image is reconstructed closer to its clean original
    torch.manual_seed(1)
    noisy = corrupt(x, noise, level).numpy()
    restored = model.reconstruct(noisy)
    assert ((restored - images[:500]) ** 2).mean() < ((noisy - images[:500]) ** 2).mean()
    np.testing.assert_array_equal(model.score_samples(images[:50]),
                                  model.score_samples(images[:50]))
    with pytest.raises(ParameterError, match="noise_level"):
        ConvAutoEncoder(noise="masking", noise_level=1.0, epochs=1).fit(images)
    with pytest.raises(ParameterError, match="noise must be one of"):
        ConvAutoEncoder(noise="salt", epochs=1).fit(images)


def test_layerwise_error_matches_hand_computation():
    h1, h2 = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0]])
    mirror2, mirror1 = torch.tensor([[1.0]]), torch.tensor([[0.0, 0.0]])
    # decoder order is mirrored: (ĥ2, ĥ1); terms are means over units
    assert float(layerwise_error([h1, h2], [mirror2, mirror1])) == pytest.approx(2.5 + 4.0)


def test_deep_autoencoder_layerwise_term_falls_and_is_weighted(digits):
    flat = digits[0].reshape(len(digits[0]), -1)
    deep = DeepAutoEncoder(6, hidden_dims=(64, 32), layer_weight=1.0, epochs=10,
                           random_state=0).fit(flat)
    history = deep.history_
    assert history["layerwise"][-1] < 0.5 * history["layerwise"][0]
    assert history["reconstruction"][-1] < history["reconstruction"][0]
    np.testing.assert_allclose(
        history["loss"], np.add(history["reconstruction"], history["layerwise"]), rtol=1e-5)
    # the layer-wise term really shapes training: λ=0 trains different weights
    plain = DeepAutoEncoder(6, hidden_dims=(64, 32), layer_weight=0.0, epochs=10,
                            random_state=0).fit(flat)
    assert not np.allclose(plain.transform(flat), deep.transform(flat))
    assert deep.transform(flat).shape == (len(flat), 6)
    with pytest.raises(ParameterError, match="layer_weight"):
        DeepAutoEncoder(layer_weight=-1.0, epochs=1).fit(flat)


def test_hidden_features_are_the_layer_before_the_code(conv, digits):
    images = digits[0][:20]
    hidden = conv.hidden_features(images)
    assert hidden.shape == (20, 32 * 2 * 2)  # channels (16, 32) on 8x8: 2x2 maps
    codes = conv.module_.encoder.linear(torch.from_numpy(hidden))
    np.testing.assert_allclose(codes.detach().numpy(), conv.transform(images), atol=1e-5)
    flat = digits[0].reshape(len(digits[0]), -1)[:50]
    deep = DeepAutoEncoder(3, hidden_dims=(16, 8), epochs=1, random_state=0).fit(flat)
    assert deep.hidden_features(flat).shape == (50, 8)
    assert (deep.hidden_features(flat) >= 0).all()  # after the ReLU


def _fashion_mnist_or_skip():
    from nolabel import load

    try:
        return load("fashion-mnist", split="test", download=False)
    except DataError as exc:
        pytest.skip(f"Fashion-MNIST not available: {exc}")


def test_one_class_protocol_on_a_fashion_mnist_slice():
    """Train on trousers only, score other test images: trousers must rank as most normal."""
    from nolabel.metrics.anomaly import anomaly_scores

    data = _fashion_mnist_or_skip()
    trousers = data.X[data.y == 1]
    train, held_out = trousers[:600], trousers[600:]
    others = data.X[data.y != 1][:1500]
    model = ConvAutoEncoder(16, channels=(16, 32), epochs=6, random_state=0).fit(train)
    assert model.history_["loss"][-1] < 0.5 * model.history_["loss"][0]
    scored = np.concatenate([held_out, others])
    is_anomaly = np.r_[np.zeros(len(held_out), bool), np.ones(len(others), bool)]
    assert anomaly_scores(is_anomaly, model.score_samples(scored))["auroc"] > 0.9
