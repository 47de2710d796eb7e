import matplotlib.image
import numpy as np
import pytest

from nolabel.report import sample_grid


def test_sample_grid_tiles_every_image_pixel_for_pixel(tmp_path):
    images = np.zeros((12, 1, 8, 8))
    images[::2] = 1.0  # alternate white and black tiles
    path = sample_grid(images, tmp_path / "grid.png", title="alternating", columns=4)
    picture = matplotlib.image.imread(path)[..., :3].mean(-1)
    assert path.exists() and not list(tmp_path.glob("*.tmp*"))
    # white tiles, black tiles and the grey border all survive into the PNG
    assert (picture > 0.95).mean() > 0.1 and (picture < 0.05).mean() > 0.1


def test_sample_grid_accepts_flat_vectors_and_refuses_nothing(tmp_path):
    assert sample_grid(np.random.default_rng(0).uniform(size=(5, 64)), tmp_path / "f.png")
    with pytest.raises(ValueError, match="at least one image"):
        sample_grid(np.zeros((0, 1, 8, 8)), tmp_path / "empty.png")


def test_training_curves_wrap_many_quantities_into_rows(tmp_path):
    """Ten logged quantities (as DAC logs) make a grid four panels wide, not one strip."""
    from nolabel.report.plots import training_curves

    history = {f"quantity_{i}": list(np.linspace(1.0, 0.0, 20) * (i + 1)) for i in range(10)}
    wide = matplotlib.image.imread(training_curves(history, tmp_path / "ten.png"))
    single = matplotlib.image.imread(training_curves({"loss": [3.0, 2.0, 1.0]},
                                                     tmp_path / "one.png"))
    assert wide.shape[1] / wide.shape[0] < 2.5  # three rows of four, not 10 x 1
    assert wide.shape[0] > 2 * single.shape[0]  # rows stacked
