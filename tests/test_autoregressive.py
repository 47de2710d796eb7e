"""PixelCNN (masked, gated) and PixelRNN (Row LSTM): the same likelihood and sampling API."""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from nolabel import DataError, PixelCNN, PixelRNN, load_model
from nolabel.models.autoregressive import LEVELS, draw_pixel
from nolabel.models.pixelcnn import GatedPixelCNN, MaskedPixelCNN
from nolabel.models.pixelrnn import RowLSTMNetwork

SIDE = 6
NETWORKS = [MaskedPixelCNN, GatedPixelCNN, RowLSTMNetwork]


def _input_gradients(net: torch.nn.Module, position: int) -> torch.Tensor:
    """|d output(position) / d input| for a random image, flattened in raster order."""
    torch.manual_seed(0)
    x = torch.rand(1, 1, SIDE, SIDE, requires_grad=True)
    out = net(x)
    row, column = divmod(position, SIDE)
    out[0, :, row, column].sum().backward()
    return x.grad.abs().flatten()


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("n_outputs", [1, LEVELS])
def test_autoregressive_property_at_every_position(network, n_outputs):
    torch.manual_seed(1)
    net = network(8, 3, n_outputs)
    for position in range(SIDE * SIDE):
        gradient = _input_gradients(net, position)
        assert torch.all(gradient[position:] == 0), f"output {position} sees the future"
        if position % SIDE:
            assert gradient[position - 1] > 0  # the pixel to the left is always seen


def test_gated_has_no_blind_spot():
    torch.manual_seed(2)
    last = SIDE * SIDE - 1
    gated = _input_gradients(GatedPixelCNN(8, SIDE + 1, 1), last)
    assert torch.all(gated[:last] > 0), "the gated PixelCNN misses some earlier pixel"


def test_row_lstm_carries_context_from_far_above():
    # the 7x7 first layer reaches 3 rows up; only the recurrence can carry row 0 to row 5
    torch.manual_seed(3)
    gradient = _input_gradients(RowLSTMNetwork(8, 1, 1), SIDE * (SIDE - 1))
    assert gradient[0] > 0


@pytest.mark.parametrize("model", [PixelCNN(variant="masked", hidden_channels=8, n_layers=2),
                                   PixelCNN(variant="gated", hidden_channels=8, n_layers=3),
                                   PixelRNN(hidden_channels=8, n_layers=2)],
                         ids=["masked", "gated", "rowlstm"])
def test_sampling_shortcut_gives_the_full_forward_logits(model):
    """The row logits used for sampling (window of rows, or carried LSTM states) equal a
    full pass over the image, at every row."""
    images = (np.random.default_rng(0).uniform(size=(4, 1, 9, 7)) < 0.5).astype(np.float32)
    model.set_params(epochs=1, random_state=0).fit(images)
    x = torch.from_numpy(images)
    model.module_.eval()
    with torch.no_grad():
        full = model.module_(x)
        cache: dict = {}
        for row in range(x.shape[2]):
            torch.testing.assert_close(model._row_logits(x, row, cache), full[:, :, row])
            model._row_done(x, row, cache)


def test_untrained_categorical_scores_about_8_bits_on_noise():
    noise = np.random.default_rng(0).integers(0, 256, (20, 1, 8, 8)) / 255.0
    for model in (PixelCNN(likelihood="categorical", hidden_channels=16, n_layers=2),
                  PixelRNN(likelihood="categorical", hidden_channels=16, n_layers=1)):
        model.set_params(epochs=1, random_state=0, lr=1e-9).fit(noise.astype(np.float32))
        assert abs(model.bits_per_dim(noise.astype(np.float32)) - 8.0) < 0.1


def test_categorical_draws_follow_the_softmax():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1] + [0.0] * (LEVELS - 3)]))
    generator = torch.Generator().manual_seed(0)
    values = draw_pixel(logits.repeat(20000, 1), "categorical", generator)
    frequencies = [(values == level / (LEVELS - 1)).float().mean().item() for level in range(3)]
    np.testing.assert_allclose(frequencies, [0.7, 0.2, 0.1], atol=0.015)


@pytest.fixture(scope="module")
def binary_digits():
    images = load_digits().data.reshape(-1, 1, 8, 8) / 16
    return (images > 0.5).astype(np.float32)


@pytest.fixture(scope="module", params=["pixelcnn", "pixelrnn"])
def fitted(request, binary_digits):
    if request.param == "pixelcnn":
        model = PixelCNN(hidden_channels=16, n_layers=3, epochs=8, random_state=0)
    else:
        model = PixelRNN(hidden_channels=16, n_layers=2, epochs=8, random_state=0)
    return model.fit(binary_digits)


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
    assert not np.array_equal(samples, fitted.sample(5, random_state=2))
    loaded = load_model(fitted.save(tmp_path / "model.safetensors"))
    np.testing.assert_array_equal(loaded.sample(5, random_state=1), samples)


def test_samples_look_like_the_data(fitted, binary_digits):
    """Trained samples have about the data's ink density, far from the untrained 50 %."""
    ink = fitted.sample(50, random_state=0).mean()
    assert abs(ink - binary_digits.mean()) < 0.12


def test_bad_input(fitted, binary_digits):
    model = type(fitted)(epochs=1)
    with pytest.raises(DataError, match="needs binary images"):
        model.fit(binary_digits * 0.5)
    with pytest.raises(DataError, match="one-channel"):
        model.fit(np.zeros((4, 3, 8, 8), np.float32))
    with pytest.raises(DataError, match=r"needs X in \[0, 1\]"):
        type(fitted)(likelihood="categorical", epochs=1).fit(binary_digits * 2)
    with pytest.raises(DataError, match=r"fitted on images of shape \(1, 8, 8\)"):
        fitted.score_samples(np.zeros((2, 1, 9, 9), np.float32))
