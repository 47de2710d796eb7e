"""Validation of image batches given to a feature network: layout and value range."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nolabel._validation import check_array
from nolabel.data.dataset import Dataset
from nolabel.errors import DataError

# Sigmoid outputs and 8-bit images divided by 255 can overshoot [0, 1] by rounding only.
_RANGE_TOLERANCE = 1e-4


def _layout(array: np.ndarray, image_shape: tuple[int, ...], name: str) -> np.ndarray:
    channels, height, width = image_shape
    per_sample = tuple(array.shape[1:])
    if per_sample == image_shape:
        return array
    if channels == 1 and per_sample == (height, width):
        return array[:, None]
    if per_sample == (channels * height * width,):
        return array.reshape(len(array), *image_shape)
    raise DataError(
        f"{name} has shape {array.shape}, i.e. samples of shape {per_sample}, but the feature "
        f"network takes images of shape {image_shape} (channels, height, width), or the same "
        f"flattened to {channels * height * width} values"
    )


def check_images(
    images: Any,
    image_shape: Sequence[int] | None = None,
    *,
    name: str = "images",
    clip: bool = False,
) -> np.ndarray:
    """``images`` as float32 (n, c, h, w) in [0, 1], or a DataError naming what is wrong.

    With ``image_shape``, (n, h, w) for one channel and flat (n, c*h*w) rows are reshaped to
    it; without, the images must already be 4-D. Values outside [0, 1] are refused unless
    ``clip`` (e.g. the means of a Gaussian decoder, which may overshoot a little).
    """
    if isinstance(images, Dataset):
        images = images.X
    array = check_array(images, name=name)
    if image_shape is not None:
        array = _layout(array, tuple(int(s) for s in image_shape), name)
    elif array.ndim != 4:
        raise DataError(
            f"{name} must be images shaped (n_samples, channels, height, width), "
            f"got shape {array.shape}"
        )
    low, high = float(array.min()), float(array.max())
    if clip or (low >= -_RANGE_TOLERANCE and high <= 1.0 + _RANGE_TOLERANCE):
        return np.clip(array, 0.0, 1.0) if low < 0.0 or high > 1.0 else array
    raise DataError(
        f"{name} spans [{low:.4g}, {high:.4g}] but the feature network takes pixel values in "
        "[0, 1]; rescale tanh outputs with (x + 1) / 2, or pass clip=True to clip them"
    )
