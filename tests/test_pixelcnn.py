import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from nolabel import DataError, PixelCNN, load_model
from nolabel.models.pixelcnn import LEVELS, GatedPixelCNN, MaskedPixelCNN

SIDE = 6


def _input_gradients(net: torch.nn.Module, position: int, n_outputs: int) -> torch.Tensor:
    """|d output(position) / d input| for a random image, flattened in raster order."""
    torch.manual_seed(0)
    x = torch.rand(1, 1, SIDE, SIDE, requires_grad=True)
    out = net(x)
    row, column = divmod(position, SIDE)
    out[0, :, row, column].sum().backward()
    return x.grad.abs().flatten()


@pytest.mark.parametrize("network", [MaskedPixelCNN, GatedPixelCNN])
@pytest.mark.parametrize("n_outputs", [1, LEVELS])
def test_autoregressive_property_at_every_position(network, n_outputs):
    torch.manual_seed(1)
    net = network(8, 3, n_outputs)
    for position in range(SIDE * SIDE):
        gradient = _input_gradients(net, position, n_outputs)
        assert torch.all(gradient[position:] == 0), f"output {position} sees the future"
        if position % SIDE:
            assert gradient[position - 1] > 0  # the pixel to the left is always seen


def test_gated_has_no_blind_spot():
    torch.manual_seed(2)
    last = SIDE * SIDE - 1
    gated = _input_gradients(GatedPixelCNN(8, SIDE + 1, 1), last, 1)
    assert torch.all(gated[:last] > 0), "the gated PixelCNN misses some earlier pixel"


def test_untrained_categorical_scores_about_8_bits_on_noise():
    noise = np.random.default_rng(0).integers(0, 256, (20, 1, 8, 8)) / 255.0
    model = PixelCNN(output="categorical", channels=16, n_layers=2, epochs=1,
                     random_state=0, lr=1e-9).fit(noise.astype(np.float32))
    assert abs(model.bits_per_dim(noise.astype(np.float32)) - 8.0) < 0.1


@pytest.fixture(scope="module")
def binary_digits():
    images = load_digits().data.reshape(-1, 1, 8, 8) / 16
    return (images > 0.5).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(binary_digits):
    return PixelCNN(channels=16, n_layers=3, epochs=8, random_state=0).fit(binary_digits)


def test_loss_falls_and_likelihood_beats_independent_pixels(fitted, binary_digits):
    history = fitted.history_["loss"]
    assert history[-1] < 0.7 * history[0]
    mean = binary_digits.mean(0).clip(1e-3, 1 - 1e-3)
    independent = -(binary_digits * np.log(mean) + (1 - binary_digits) * np.log(1 - mean))
    assert fitted.nll(binary_digits) < independent.reshape(len(binary_digits), -1).sum(1).mean()
    assert fitted.bits_per_dim(binary_digits) == pytest.approx(
        fitted.nll(binary_digits) / (64 * math.log(2)))


def test_samples_shape_range_and_seed(fitted, tmp_path):
    samples = fitted.sample(5, random_state=1)
    assert samples.shape == (5, 1, 8, 8) and set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_array_equal(samples, fitted.sample(5, random_state=1))
    loaded = load_model(fitted.save(tmp_path / "pixelcnn.safetensors"))
    np.testing.assert_array_equal(loaded.sample(5, random_state=1), samples)


def test_bad_input(fitted, binary_digits):
    with pytest.raises(DataError, match="needs binary images"):
        PixelCNN(epochs=1).fit(binary_digits * 0.5)
    with pytest.raises(DataError, match="one-channel"):
        PixelCNN(epochs=1).fit(np.zeros((4, 3, 8, 8), np.float32))
    with pytest.raises(DataError, match=r"fitted on images of shape \(1, 8, 8\)"):
        fitted.score_samples(np.zeros((2, 1, 9, 9), np.float32))
