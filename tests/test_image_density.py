"""ImageKernelDensity: a kernel density of blurred images, the image anomaly detector."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from nolabel import DataError, ImageKernelDensity, KernelDensity, load_model
from nolabel.classical.image_density import gaussian_blur


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.images / 16).astype(np.float32)[:, None], data.target


def test_blur_is_a_normalised_gaussian_with_replicated_edges():
    flat = torch.full((2, 3, 9, 9), 0.7)
    torch.testing.assert_close(gaussian_blur(flat, 1.0), flat)  # no dark border
    point = torch.zeros(1, 1, 15, 15)
    point[0, 0, 7, 7] = 1.0
    blurred = gaussian_blur(point, 1.0)[0, 0]
    assert float(blurred.sum()) == pytest.approx(1.0, abs=1e-5)
    profile = blurred[7, 7:11] / blurred[7, 7]
    expected = torch.exp(-0.5 * torch.arange(4.0) ** 2)
    torch.testing.assert_close(profile, expected, atol=1e-5, rtol=1e-4)
    assert gaussian_blur(point, 0.0) is point


def test_without_blur_it_is_the_isotropic_kernel_density(digits):
    images, _ = digits
    ours = ImageKernelDensity(blur=0.0).fit(images[:300])
    reference = KernelDensity(covariance="identity").fit(images[:300].reshape(300, -1))
    np.testing.assert_allclose(ours.score_samples(images[300:400]),
                               reference.score_samples(images[300:400].reshape(100, -1)))


def test_one_class_digits(digits):
    images, labels = digits
    model = ImageKernelDensity().fit(images[labels == 0][:120])
    held_out = np.concatenate([images[labels == 0][120:], images[labels != 0][:500]])
    is_anomaly = np.r_[np.zeros((labels == 0).sum() - 120), np.ones(500)]
    assert roc_auc_score(is_anomaly, -model.score_samples(held_out)) > 0.95


def _bars(rows, vertical=False, seed=0):
    """16x16 images of one 10-pixel bar each, at the given rows (or columns), plus noise."""
    images = np.zeros((len(rows), 1, 16, 16), np.float32)
    for image, row in zip(images, rows, strict=True):
        image[0, row, 3:13] = 1.0
    images += 0.05 * np.random.default_rng(seed).normal(size=images.shape).astype(np.float32)
    return images.transpose(0, 1, 3, 2).copy() if vertical else images


def test_the_blur_makes_one_pixel_shifts_normal():
    """Trained on horizontal bars in even rows, a bar one row off is normal and a vertical
    bar is not. In raw pixels the shifted bar shares no pixel with any training bar, so it
    is further from them than the vertical bar (which crosses them): only the blur ranks
    the two right."""
    train = _bars(np.repeat(np.arange(2, 15, 2), 20), seed=0)
    shifted, vertical = _bars(np.arange(3, 14, 2), seed=1), _bars(np.arange(3, 14, 2),
                                                                   vertical=True, seed=2)
    queries = np.concatenate([shifted, vertical])
    is_anomaly = np.r_[np.zeros(len(shifted)), np.ones(len(vertical))]
    aurocs = {blur: roc_auc_score(is_anomaly, -ImageKernelDensity(blur=blur).fit(train)
                                  .score_samples(queries)) for blur in (0.0, 1.0)}
    assert aurocs[0.0] < 0.5 and aurocs[1.0] == 1.0, aurocs


def test_shapes_save_and_load(digits, tmp_path):
    images, _ = digits
    model = ImageKernelDensity().fit(images[:100, 0])  # (n, h, w): one channel
    assert model.image_shape_ == (1, 8, 8)
    assert model.sample(3, random_state=0).shape == (3, 1, 8, 8)
    loaded = load_model(model.save(tmp_path / "kde"))
    np.testing.assert_array_equal(loaded.score_samples(images[:50]),
                                  model.score_samples(images[:50]))
    with pytest.raises(DataError, match="images"):
        ImageKernelDensity().fit(images[:100].reshape(100, -1))
    with pytest.raises(DataError, match=r"fitted on \(1, 8, 8\)"):
        model.score_samples(np.zeros((2, 1, 9, 9), np.float32))


def test_scoring_its_own_training_images_finds_the_odd_one(digits):
    """What ``nolabel detect`` does: fit on a folder, score the same folder. Each image's
    own kernel must not decide its score (it would tie every image)."""
    images, labels = digits
    folder = np.concatenate([images[labels == 0][:100], images[labels == 7][:3]])
    scores = np.asarray(ImageKernelDensity().fit(folder).score_samples(folder))
    assert len(np.unique(np.round(scores, 6))) > 90
    assert set(np.argsort(scores)[:3]) == {100, 101, 102}
