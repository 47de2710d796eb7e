"""A folder of images (pillow, optional dependency) -> (n, c, h, w) in [0, 1].

Images directly in the folder are unlabelled; images in subfolders are labelled by the
subfolder's name (sorted names -> 0, 1, ...). All images must share one size. They become
grayscale when every image is, RGB otherwise (alpha dropped).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nolabel.data.dataset import RawData
from nolabel.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def _import_pillow():
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise DataError(
            "reading a folder of images needs pillow: pip install nolabel[images]"
        ) from None
    # Pillow's guard against images whose header announces billions of pixels.
    return Image, (UnidentifiedImageError, Image.DecompressionBombError, OSError)


def _images_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _find_images(folder: Path) -> tuple[list[Path], list[int] | None, tuple[str, ...] | None]:
    top = _images_in(folder)
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    labelled = {sub.name: _images_in(sub) for sub in subfolders}
    labelled = {name: files for name, files in labelled.items() if files}
    if top and labelled:
        raise DataError(
            f"{folder} holds images both directly ({top[0].name}, ...) and in subfolders "
            f"({', '.join(labelled)}); put all of them in class subfolders, or none"
        )
    if top:
        return top, None, None
    if not labelled:
        raise DataError(
            f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}), directly or in subfolders"
        )
    classes = tuple(labelled)
    files = [f for name in classes for f in labelled[name]]
    labels = [k for k, name in enumerate(classes) for _ in labelled[name]]
    return files, labels, classes


def _to_array(image, rgb: bool) -> np.ndarray:
    if rgb:
        return np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
    if image.mode.startswith("I;16"):
        return np.asarray(image, dtype=np.float32)[None] / 65535.0
    return np.asarray(image.convert("L"), dtype=np.float32)[None] / 255.0


def read_image_folder(folder: Path) -> RawData:
    Image, unreadable = _import_pillow()
    files, labels, classes = _find_images(folder)
    # First pass reads only the headers: sizes and modes, so a mismatch is reported early.
    sizes, modes = [], []
    for file in files:
        try:
            with Image.open(file) as image:
                sizes.append(image.size)
                modes.append(image.mode)
        except unreadable as exc:
            raise DataError(f"{file} is not a readable image: {exc}") from None
    for file, size in zip(files, sizes, strict=True):
        if size != sizes[0]:
            raise DataError(
                f"images differ in size: {files[0]} is {sizes[0][0]}x{sizes[0][1]} but {file} "
                f"is {size[0]}x{size[1]} (width x height); resize them to one size first"
            )
    rgb = any(mode not in _GRAY_MODES for mode in modes)
    X = np.empty((len(files), 3 if rgb else 1, sizes[0][1], sizes[0][0]), dtype=np.float32)
    for i, file in enumerate(files):
        try:
            with Image.open(file) as image:
                X[i] = _to_array(image, rgb)
        except unreadable as exc:
            raise DataError(f"{file} is not a readable image: {exc}") from None
    y = None if labels is None else np.asarray(labels, dtype=np.int64)
    return RawData(X, y, classes)
