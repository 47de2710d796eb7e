"""VaDE and DAC at their defaults on a small folder of images (600 digits as PNG files, as a
user hands nolabel a folder): every cluster stays populated, or a warning names exactly the
clusters that emptied."""

import re
import warnings

import numpy as np
import pytest

from nolabel import DAC, VaDE, load
from nolabel.errors import EmptyClusterWarning


@pytest.fixture(scope="module")
def folder(tmp_path_factory, digit_classes):
    image = pytest.importorskip("PIL.Image")
    X, _ = digit_classes(*range(10))
    path = tmp_path_factory.mktemp("digits")
    for index, pixels in enumerate(X[:600]):
        image.fromarray((pixels.reshape(8, 8) * 255).astype(np.uint8)).save(
            path / f"{index:03d}.png")
    return path


@pytest.mark.parametrize("cls", [VaDE, DAC])
def test_defaults_on_600_images_keep_clusters_or_name_the_empty_ones(cls, folder, one_thread):
    data = load(folder)
    assert data.X.shape == (600, 1, 8, 8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cls(10, random_state=0, device="cpu").fit(data.X)
    empty = set(np.flatnonzero(np.bincount(model.labels_, minlength=10) == 0).tolist())
    named = [w for w in caught if issubclass(w.category, EmptyClusterWarning)]
    if not empty:
        assert not named
        return
    assert len(named) == 1
    message = str(named[0].message)
    listed = re.search(r"\(clusters ([\d, ]+)\)", message).group(1)
    assert {int(c) for c in listed.split(",")} == empty
    assert f"{len(empty)} of 10 clusters hold no training sample" in message
