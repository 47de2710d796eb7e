import numpy as np
import pytest
import torch

from nolabel.errors import DataError, ParameterError
from nolabel.nets.augment import (
    RandomAffine,
    affine_transform,
    as_images,
    augment_flat,
    square_image_shape,
)

pytestmark = pytest.mark.usefixtures("one_thread")

DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


def _seeded(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


@pytest.fixture(scope="module")
def digits(digit_classes):
    X, _ = digit_classes(0, 1, 6)
    return torch.as_tensor(X[:64]).reshape(-1, 1, 8, 8)


def _dot(shape=(1, 1, 9, 9), row=4, col=4) -> torch.Tensor:
    image = torch.zeros(shape)
    image[..., row, col] = 1.0
    return image


def test_defaults_are_dec_da_keras_settings():
    # ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, rotation_range=10),
    # Keras's fill_mode "nearest" = repeat the border.
    augment = RandomAffine()
    assert augment.shift == (0.1, 0.1) and augment.rotation == 10.0
    assert augment.shear == 0.0 and augment.zoom == 0.0 and augment.padding == "border"


@pytest.mark.parametrize("device", DEVICES)
def test_same_seed_same_output_and_global_rng_untouched(digits, device):
    images = digits.to(device)
    augment = RandomAffine(shear=10.0, zoom=0.1)
    before = torch.get_rng_state()
    first = augment(images, _seeded(5, device))
    np.testing.assert_array_equal(first.cpu(), augment(images, _seeded(5, device)).cpu())
    assert torch.equal(torch.get_rng_state(), before)
    other = augment(images, _seeded(6, device))
    assert not torch.equal(first, other)
    # One transform per sample: two copies of the same image come out differently.
    pair = augment(images[:1].repeat(2, 1, 1, 1), _seeded(5, device))
    assert not torch.equal(pair[0], pair[1])


def test_a_cpu_generator_drives_images_on_any_device(digits):
    augment = RandomAffine()
    for device in DEVICES:
        moved = augment(digits.to(device), _seeded(2))
        assert moved.device.type == device
        torch.testing.assert_close(moved.cpu(), augment(digits, _seeded(2)), rtol=1e-5,
                                   atol=1e-5)


def test_identity_parameters_return_the_input(digits):
    np.testing.assert_allclose(affine_transform(digits), digits, atol=1e-6)
    nothing = RandomAffine(shift=0.0, rotation=0.0)
    np.testing.assert_allclose(nothing(digits, _seeded(0)), digits, atol=1e-6)


@pytest.mark.parametrize("padding", ["border", "zeros"])
def test_a_shift_moves_a_bright_pixel_by_that_many_pixels(padding):
    moved = affine_transform(_dot(), translate=(2.0, -3.0), padding=padding)[0, 0]
    assert torch.nonzero(moved > 0.99).tolist() == [[6, 1]]
    assert float(moved.sum()) == pytest.approx(1.0, abs=1e-5)
    # Per-sample shifts: each sample moves by its own.
    pair = affine_transform(_dot((2, 1, 9, 9)), translate=torch.tensor([[1.0, 0.0],
                                                                         [0.0, 1.0]]))
    assert torch.nonzero(pair[0, 0] > 0.99).tolist() == [[5, 4]]
    assert torch.nonzero(pair[1, 0] > 0.99).tolist() == [[4, 5]]


def test_a_quarter_turn_is_counter_clockwise_about_the_centre():
    turned = affine_transform(_dot(row=1, col=4), angle=90.0)[0, 0]  # above the centre
    assert torch.nonzero(turned > 0.99).tolist() == [[4, 1]]  # now left of it


def test_rotation_and_shear_keep_the_mass(digits):
    masses = digits.sum((1, 2, 3))
    # Digits mostly lie inside their 8x8 frame, so zero padding loses little: measured at
    # most 2.7 % per image (1.3 % in all) at 10 degrees, 0.6 % for a 10-degree shear.
    for kwargs in ({"angle": 10.0}, {"angle": -10.0}, {"shear": 10.0}):
        moved = affine_transform(digits, padding="zeros", **kwargs).sum((1, 2, 3))
        np.testing.assert_allclose(moved, masses, rtol=0.05)
    assert torch.allclose(affine_transform(digits, angle=10.0, padding="zeros").sum(),
                          masses.sum(), rtol=0.03)


def test_zoom_scales_the_distance_from_the_centre():
    dot = _dot(row=4, col=6)  # two pixels right of the centre of a 9x9 image
    zoomed = affine_transform(dot, scale=(1.0, 1.5))[0, 0]  # 3 pixels right: column 7
    assert int(zoomed.sum(0).argmax()) == 7 and int(zoomed.sum(1).argmax()) == 4


@pytest.mark.parametrize("padding", ["border", "zeros", "reflection"])
def test_outputs_stay_in_the_unit_interval(padding):
    images = torch.rand((32, 3, 11, 7), generator=_seeded(1))
    images[0] = 1.0
    images[1] = 0.0
    moved = RandomAffine(shift=0.3, rotation=45, shear=20, zoom=0.3, padding=padding)(
        images, _seeded(3))
    assert moved.min() >= 0.0 and moved.max() <= 1.0
    assert moved.shape == images.shape and moved.dtype == images.dtype


def test_under_autocast_and_in_bfloat16(digits):
    augment = RandomAffine()
    reference = augment(digits, _seeded(4))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = augment(digits, _seeded(4))
    assert inside.dtype == torch.float32
    torch.testing.assert_close(inside, reference)
    half = augment(digits.to(torch.bfloat16), _seeded(4))
    assert half.dtype == torch.bfloat16
    torch.testing.assert_close(half.float(), reference, atol=2e-2, rtol=0)


def test_flat_vectors_round_trip(digits):
    flat = digits.reshape(len(digits), -1)
    same = RandomAffine(shift=0.0, rotation=0.0)(flat, _seeded(0))
    assert same.shape == flat.shape
    np.testing.assert_allclose(same, flat, atol=1e-6)
    moved = augment_flat(flat, _seeded(7), sample_shape=(1, 8, 8))
    np.testing.assert_array_equal(moved.reshape(-1, 1, 8, 8), RandomAffine()(digits, _seeded(7)))
    assert torch.equal(augment_flat(flat, _seeded(7)), moved)  # (1, 8, 8) inferred
    colour = torch.rand((4, 3 * 5 * 6), generator=_seeded(0))
    assert augment_flat(colour, _seeded(1), sample_shape=(3, 5, 6)).shape == (4, 90)
    assert torch.equal(as_images(colour, (3, 5, 6)).reshape(4, -1), colour)
    assert as_images(digits[:, 0]).shape == (64, 1, 8, 8)


def test_square_image_shape():
    assert square_image_shape(784) == (1, 28, 28)
    assert square_image_shape(64) == (1, 8, 8)
    assert square_image_shape(1) == (1, 1, 1)
    for d in (0, 2, 63, 65, 3 * 32 * 32):
        assert square_image_shape(d) is None


@pytest.mark.parametrize("kwargs, name", [
    ({"shift": 1.0}, r"shift\[0\]"),
    ({"shift": (0.1, -0.1)}, r"shift\[1\]"),
    ({"shift": (0.1, 0.1, 0.1)}, "shift"),
    ({"rotation": -1}, "rotation"),
    ({"rotation": 181}, "rotation"),
    ({"shear": 90}, "shear"),
    ({"zoom": "a"}, "zoom"),
    ({"zoom": 1.0}, "zoom"),
    ({"padding": "wrap"}, "padding"),
])
def test_bad_parameters_are_named(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        RandomAffine(**kwargs)


def test_bad_inputs_are_named(digits):
    flat = digits.reshape(len(digits), -1)
    with pytest.raises(ParameterError, match="sample_shape"):
        RandomAffine()(flat, _seeded(0), sample_shape=(1, 7, 7))
    with pytest.raises(ParameterError, match="sample_shape"):
        augment_flat(torch.zeros(3, 10), _seeded(0))
    with pytest.raises(ParameterError, match="generator"):
        RandomAffine()(digits, 0)
    with pytest.raises(DataError, match="flat vectors"):
        augment_flat(digits, _seeded(0))
    with pytest.raises(DataError, match="images"):
        affine_transform(flat)
    with pytest.raises(ParameterError, match="translate"):
        affine_transform(digits, translate=torch.zeros(3, 2))
    with pytest.raises(ParameterError, match="angle"):
        affine_transform(digits, angle=torch.zeros(2))
    with pytest.raises(ParameterError, match="scale"):
        affine_transform(digits, scale=0.0)
    with pytest.raises(ParameterError, match="padding"):
        affine_transform(digits, padding="nearest")
