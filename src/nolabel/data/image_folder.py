"""A folder of images (pillow, optional dependency) -> (n, c, h, w) in [0, 1].

Images directly in the folder are unlabelled; every other image is labelled by the name of
the top-level subfolder it lies under, at any depth (sorted names -> 0, 1, ...), as
torchvision's ImageFolder does. Symbolic links to folders are not followed.

Size: without ``image_size`` every image must have the same size (the error names two that
differ and the option that resizes them). With ``image_size=(height, width)`` every image of
another size is resampled with a Lanczos filter, after centre-cropping it to the target's
aspect ratio (``resize="crop"``, the default) or before padding it with black to that shape
(``resize="pad"``).

Channels: without ``channels`` the images become greyscale when every image is, RGB
otherwise; ``channels=1`` turns colour into luminance (ITU-R 601, as Pillow does) and
``channels=3`` repeats grey into three channels. Alpha is dropped. 16-bit greyscale keeps its
precision (divided by 65535 rather than rounded to 8 bits).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from nolabel.data.dataset import RawData
from nolabel.errors import Argument, DataError, ParameterError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
_WIDE_GRAY_MODES = ("I", "I;16", "I;16B", "I;16L")  # 16-bit (or wider) integer pixels
RESIZE_MODES = ("crop", "pad")
# ITU-R 601-2 luma, the weights of Pillow's convert("L"): colour -> one channel.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _import_pillow():
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise DataError(
            "reading a folder of images needs pillow: pip install nolabel[images]"
        ) from None
    # Pillow's guard against images whose header announces billions of pixels.
    return Image, (UnidentifiedImageError, Image.DecompressionBombError, OSError)


def check_image_size(image_size: object) -> tuple[int, int] | None:
    """``image_size`` as ``(height, width)``; an int means a square. None stays None."""
    if image_size is None:
        return None
    if isinstance(image_size, int | np.integer) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, tuple | list)
        or len(image_size) != 2
        or any(isinstance(s, bool) or not isinstance(s, int | np.integer) for s in image_size)
        or min(image_size) < 1
    ):
        raise ParameterError(
            f"image_size must be (height, width), two whole numbers >= 1, got {image_size!r}",
            arguments=[Argument("image_size")],
        )
    return int(image_size[0]), int(image_size[1])


def check_channels(channels: object) -> int | None:
    if channels is None:
        return None
    if isinstance(channels, bool) or channels not in (1, 3):
        raise ParameterError(
            f"channels must be 1 (greyscale) or 3 (RGB), got {channels!r}",
            arguments=[Argument("channels")],
        )
    return int(channels)


def check_resize(resize: object) -> str:
    if resize not in RESIZE_MODES:
        raise ParameterError(
            f"resize must be 'crop' or 'pad', got {resize!r}", arguments=[Argument("resize")]
        )
    return str(resize)


def _is_image(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and \
        path.suffix.lower() in IMAGE_SUFFIXES


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if _is_image(p))


def _images_under(folder: Path) -> list[Path]:
    """Images at any depth below ``folder``, hidden files and folders skipped: a class folder
    that groups its images further (a class named "T-shirt/top" becomes T-shirt/top/) keeps
    all of them, where a one-level listing dropped them without a word."""
    return sorted(p for p in folder.rglob("*") if _is_image(p)
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _find_images(folder: Path) -> tuple[list[Path], list[int] | None, tuple[str, ...] | None]:
    top = _images_in(folder)
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    labelled = {sub.name: _images_under(sub) for sub in subfolders}
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


def _pixels(image, channels: int) -> np.ndarray:
    """The image as float32 ``(channels, height, width)`` in [0, 1], before any resizing."""
    if image.mode in _WIDE_GRAY_MODES:
        gray = np.clip(np.asarray(image, dtype=np.float32) / 65535.0, 0.0, 1.0)[None]
    elif image.mode in _GRAY_MODES:
        gray = np.asarray(image.convert("L"), dtype=np.float32)[None] / 255.0
    else:
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
        return rgb if channels == 3 else np.tensordot(_LUMA, rgb, axes=1)[None]
    return gray if channels == 1 else np.repeat(gray, 3, axis=0)


def _crop_box(width: int, height: int, aspect: float) -> tuple[float, float, float, float]:
    """The centred region of a ``width`` x ``height`` image whose width/height is ``aspect``."""
    if width / height > aspect:  # too wide: keep the full height
        kept = height * aspect
        return (width - kept) / 2, 0.0, (width + kept) / 2, float(height)
    kept = width / aspect
    return 0.0, (height - kept) / 2, float(width), (height + kept) / 2


def _resample(Image, plane: np.ndarray, size: tuple[int, int], box=None) -> np.ndarray:
    """One channel resampled to ``size`` (width, height) by Pillow's Lanczos filter, in float
    ("F" mode) so that 16-bit precision survives; its overshoot is clipped back to [0, 1]."""
    resized = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32)).resize(
        size, Image.Resampling.LANCZOS, box=box
    )
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def fit_to_size(Image, pixels: np.ndarray, image_size: tuple[int, int], resize: str) -> np.ndarray:
    """``pixels`` (c, h, w) brought to ``image_size`` (height, width) keeping the aspect
    ratio: centre-cropped then resampled (``"crop"``), or resampled then padded with zeros
    (``"pad"``). An image already of that size is returned unchanged."""
    height, width = image_size
    h, w = pixels.shape[1:]
    if (h, w) == (height, width):
        return pixels
    if resize == "crop":
        box = _crop_box(w, h, width / height)
        return np.stack([_resample(Image, p, (width, height), box) for p in pixels])
    scale = min(width / w, height / h)
    inner_w, inner_h = max(1, round(w * scale)), max(1, round(h * scale))
    out = np.zeros((pixels.shape[0], height, width), dtype=np.float32)
    top, left = (height - inner_h) // 2, (width - inner_w) // 2
    for channel, plane in enumerate(pixels):
        out[channel, top : top + inner_h, left : left + inner_w] = _resample(
            Image, plane, (inner_w, inner_h)
        )
    return out


def _size_error(files: list[Path], sizes: list[tuple[int, int]]) -> DataError:
    """Two files that differ in size, and the image_size that would bring all to the most
    common size (width x height as Pillow reports it; image_size is (height, width))."""
    first = files[0]
    other = next(f for f, s in zip(files, sizes, strict=True) if s != sizes[0])
    common_w, common_h = Counter(sizes).most_common(1)[0][0]
    fix = Argument("image_size", (common_h, common_w))
    return DataError(
        f"images differ in size: {first} is {sizes[0][0]}x{sizes[0][1]} but {other} is "
        f"{sizes[files.index(other)][0]}x{sizes[files.index(other)][1]} (width x height); "
        f"pass {fix} (height, width) to resize them all to the most common size, "
        "centre-cropped to keep their proportions",
        arguments=[fix],
    )


def read_image_folder(
    folder: Path,
    *,
    image_size: tuple[int, int] | None = None,
    channels: int | None = None,
    resize: str = "crop",
) -> RawData:
    """Every image of ``folder`` (see the module docstring) and, with class subfolders,
    their labels; ``notes`` say what was resized or converted."""
    image_size, channels = check_image_size(image_size), check_channels(channels)
    resize = check_resize(resize)
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
    if image_size is None:
        if len(set(sizes)) > 1:
            raise _size_error(files, sizes)
        image_size = (sizes[0][1], sizes[0][0])
    gray = [mode in _GRAY_MODES for mode in modes]
    if channels is None:
        channels = 1 if all(gray) else 3
    X = np.empty((len(files), channels, *image_size), dtype=np.float32)
    for i, file in enumerate(files):
        try:
            with Image.open(file) as image:
                X[i] = fit_to_size(Image, _pixels(image, channels), image_size, resize)
        except unreadable as exc:
            raise DataError(f"{file} is not a readable image: {exc}") from None
    y = None if labels is None else np.asarray(labels, dtype=np.int64)
    return RawData(X, y, classes, _notes(sizes, gray, image_size, channels, resize))


def _notes(sizes, gray, image_size, channels, resize) -> tuple[str, ...]:
    height, width = image_size
    resized = sum((h, w) != image_size for w, h in sizes)
    converted = sum(g != (channels == 1) for g in gray)
    how = "centre-cropped" if resize == "crop" else "padded"
    notes = [f"{len(sizes)} images of {height}x{width} (height x width), {channels} "
             f"channel{'s' if channels > 1 else ''}"]
    if resized:
        notes.append(f"{resized} resized to {height}x{width} ({how} to keep proportions, "
                     "Lanczos filter)")
    if converted:
        notes.append(f"{converted} converted to {'greyscale' if channels == 1 else 'RGB'}")
    return tuple(notes)
