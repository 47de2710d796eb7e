"""Folders of images as people have them: mixed sizes, greyscale, RGB, RGBA, 16-bit and JPEG
files brought to one size and one channel count by load(image_size=, channels=, resize=)."""

import numpy as np
import pytest

from nolabel.data import load
from nolabel.errors import DataError, ParameterError

Image = pytest.importorskip("PIL.Image")

RGB = (200, 100, 50)


def _save(path, array, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **options)  # the mode follows the array's shape and dtype
    return path


@pytest.fixture
def mixed(tmp_path):
    """Five uniform images of five sizes and kinds, so each one's expected value is known."""
    folder = tmp_path / "mixed"
    _save(folder / "a_gray.png", np.full((28, 28), 60, np.uint8))  # L, 28x28
    _save(folder / "b_rgb.png", np.full((32, 32, 3), RGB, np.uint8))  # RGB, 32x32
    rgba = np.zeros((20, 40, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = RGB, 0  # fully transparent: alpha is dropped, colour kept
    _save(folder / "c_rgba.png", rgba)
    _save(folder / "d_16bit.png", np.full((30, 30), 40000, np.uint16))  # I;16, 30x30
    _save(folder / "e_photo.jpg", np.full((50, 30, 3), RGB, np.uint8), quality=95)
    return folder


def test_mixed_sizes_without_image_size_name_the_argument(mixed):
    with pytest.raises(DataError) as caught:
        load(mixed)
    message = str(caught.value)
    assert "a_gray.png is 28x28 but" in message and "b_rgb.png is 32x32" in message
    assert "image_size=(" in message
    (fix,) = caught.value.arguments
    assert fix.name == "image_size" and len(fix.value) == 2
    assert str(fix) in message  # the spelling the command line replaces by --image-size


def test_mixed_folder_is_brought_to_one_size_and_rgb(mixed):
    data = load(mixed, image_size=(24, 24))
    assert data.X.shape == (5, 3, 24, 24) and data.X.dtype == np.float32
    gray, rgb, rgba, wide, jpeg = data.X
    # Uniform images stay uniform through the resampling; grey is repeated into 3 channels.
    np.testing.assert_allclose(gray, 60 / 255, atol=1e-5)
    colour = np.array(RGB, np.float32)[:, None, None] / 255
    np.testing.assert_allclose(rgb, np.broadcast_to(colour, rgb.shape), atol=1e-5)
    np.testing.assert_allclose(rgba, np.broadcast_to(colour, rgba.shape), atol=1e-5)
    np.testing.assert_allclose(jpeg, np.broadcast_to(colour, jpeg.shape), atol=0.02)
    # 16 bits keep their precision: 8-bit rounding would be off by ~1.4e-3.
    np.testing.assert_allclose(wide, 40000 / 65535, atol=1e-5)


def test_channels_one_gives_pillows_luminance(mixed):
    data = load(mixed, image_size=(16, 16), channels=1)
    assert data.X.shape == (5, 1, 16, 16)
    with Image.open(mixed / "b_rgb.png") as image:
        expected = np.asarray(image.convert("L"), np.float32).mean() / 255
    np.testing.assert_allclose(data.X[1], expected, atol=1 / 255)
    np.testing.assert_allclose(data.X[3], 40000 / 65535, atol=1e-5)


def test_channels_three_on_a_greyscale_folder(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        _save(tmp_path / f"{i}.png", rng.integers(0, 256, (6, 5), dtype=np.uint8))
    gray = load(tmp_path)
    rgb = load(tmp_path, channels=3)
    assert gray.X.shape == (2, 1, 6, 5) and rgb.X.shape == (2, 3, 6, 5)
    np.testing.assert_array_equal(rgb.X, np.repeat(gray.X, 3, axis=1))


def test_images_already_of_the_size_are_not_resampled(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(3):
        _save(tmp_path / f"{i}.png", rng.integers(0, 256, (9, 7, 3), dtype=np.uint8))
    np.testing.assert_array_equal(load(tmp_path, image_size=(9, 7)).X, load(tmp_path).X)


def _tall_band(tmp_path):
    """40 high x 20 wide: black top and bottom quarters around a white centre."""
    image = np.zeros((40, 20), np.uint8)
    image[10:30] = 255
    return _save(tmp_path / "tall" / "band.png", image).parent


def test_crop_keeps_the_centre_and_its_proportions(tmp_path):
    folder = _tall_band(tmp_path)
    X = load(folder, image_size=(20, 20)).X  # the centre 20x20 of the 40x20 image
    np.testing.assert_allclose(X, 1.0, atol=1e-6)


def test_pad_keeps_the_whole_image_inside_black_borders(tmp_path):
    folder = _tall_band(tmp_path)
    X = load(folder, image_size=(20, 20), resize="pad").X[0, 0]
    # Halved to 20 high x 10 wide, centred: 5 black columns each side.
    assert np.all(X[:, :5] == 0) and np.all(X[:, 15:] == 0)
    assert X[10, 10] == pytest.approx(1.0, abs=1e-3)  # the white band's centre
    assert X[0, 10] == pytest.approx(0.0, abs=1e-3)  # its black top survives padding


def test_shrinking_smooths_instead_of_aliasing(tmp_path):
    # A one-pixel checkerboard shrunk 4x is mid-grey under a good filter; picking every
    # fourth pixel would give pure black or pure white.
    board = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.uint8)
    _save(tmp_path / "board.png", board)
    X = load(tmp_path, image_size=(8, 8)).X
    assert np.abs(X[:, :, 1:-1, 1:-1] - 0.5).max() < 0.1


def test_labelled_subfolders_of_mixed_sizes(tmp_path):
    _save(tmp_path / "cats" / "0.png", np.zeros((10, 12), np.uint8))
    _save(tmp_path / "dogs" / "0.png", np.full((20, 16, 3), 255, np.uint8))
    data = load(tmp_path, image_size=8)  # an int: a square
    assert data.X.shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(data.y, [0, 1])
    assert data.classes == ("cats", "dogs")


def test_verbose_says_what_was_resized_and_converted(mixed, capsys):
    load(mixed, image_size=(24, 24), verbose=1)
    out = capsys.readouterr().out
    assert "5 images of 24x24" in out and "3 channels" in out
    assert "5 resized to 24x24 (centre-cropped" in out
    assert "2 converted to RGB" in out  # the greyscale and the 16-bit one


@pytest.mark.parametrize(("options", "name"), [
    ({"image_size": (0, 5)}, "image_size"),
    ({"image_size": "28x28"}, "image_size"),
    ({"image_size": (28, 28, 3)}, "image_size"),
    ({"image_size": (8, 8), "channels": 2}, "channels"),
    ({"image_size": (8, 8), "resize": "stretch"}, "resize"),
])
def test_bad_image_options_are_named(mixed, options, name):
    with pytest.raises(ParameterError, match=name) as caught:
        load(mixed, **options)
    assert [a.name for a in caught.value.arguments] == [name]


def test_image_options_are_refused_where_they_do_not_apply(tmp_path):
    (tmp_path / "t.csv").write_text("1,2\n3,4\n")
    with pytest.raises(ParameterError, match=r"image_size= does not apply to \.csv files"):
        load(tmp_path / "t.csv", image_size=(8, 8))
    with pytest.raises(ParameterError, match=r"channels= does not apply"):
        load(tmp_path / "t.csv", channels=1)
    with pytest.raises(ParameterError, match=r"image_size= applies to files and folders"):
        load("digits", image_size=(8, 8))
