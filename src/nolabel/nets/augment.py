"""Random affine image augmentation in torch: shifts, rotations, shears and zooms.

One random transform per sample, drawn from a ``torch.Generator`` the caller passes (so the
same seed gives the same batch and no global generator is touched), applied with
``torch.nn.functional.affine_grid`` + ``grid_sample`` (bilinear) on whatever device the
images are on. Written here because torchvision is not a dependency.

The default ranges are the DEC-DA recipe's (Guo et al. 2018, "Deep Embedded Clustering with
Data Augmentation", ACML; reference code github.com/XifengGuo/DEC-DA, ``FcDEC.py`` and
``ConvDEC.py``): Keras ``ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
rotation_range=10)``, i.e. shifts of up to 10 % of the width and of the height, rotations of
up to 10 degrees, no shear, no zoom, and Keras's default ``fill_mode="nearest"`` (pixels
outside the image repeat the border: ``padding="border"`` here). Shears and zooms are
available but off by default, as in DEC-DA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from nolabel._validation import check_choice, check_float
from nolabel.errors import DataError, ParameterError

PADDINGS = ("border", "zeros", "reflection")


def square_image_shape(n_features: int) -> tuple[int, int, int] | None:
    """``(1, s, s)`` when ``n_features == s * s`` (flat grey square images, e.g. 784 ->
    (1, 28, 28), 64 -> (1, 8, 8)); None otherwise."""
    n_features = int(n_features)
    if n_features < 1:
        return None
    side = math.isqrt(n_features)
    return (1, side, side) if side * side == n_features else None


# Flat vectors of a square length are taken for images by ``architecture="auto"`` from 8x8 up.
SMALLEST_FLAT_IMAGE = 64


def flat_image_shape(n_features: int) -> tuple[int, int, int] | None:
    """:func:`square_image_shape` for vectors of at least :data:`SMALLEST_FLAT_IMAGE`
    values, the flat vectors that image networks chosen by ``"auto"`` view as images."""
    return square_image_shape(n_features) if n_features >= SMALLEST_FLAT_IMAGE else None


def _per_sample(name: str, value, n: int, width: int, device: torch.device) -> torch.Tensor:
    """``value`` as a float32 tensor (n, width): a number for all; for pairs (width 2) also
    one pair for all, (2,); else one value (or pair) per sample, (n,) or (n, 2)."""
    tensor = torch.as_tensor(value, dtype=torch.float32, device=device)
    if tensor.dim() == 0 or (width == 2 and tuple(tensor.shape) == (2,)):
        return tensor.expand(n, width)
    if width == 1 and tuple(tensor.shape) == (n,):
        return tensor.reshape(n, 1)
    if width == 2 and tuple(tensor.shape) == (n, 2):
        return tensor
    expected = "a number, a pair, or (n, 2)" if width == 2 else "a number or (n,)"
    raise ParameterError(f"{name} must be {expected} with n={n} samples, got shape "
                         f"{tuple(tensor.shape)}")


def affine_transform(images: torch.Tensor, *, translate=0.0, angle=0.0, shear=0.0,
                     scale=1.0, padding: str = "border") -> torch.Tensor:
    """Move the content of images (n, c, h, w) by given affine transforms, one per sample.

    The content is zoomed by ``scale`` (a number, or (sy, sx) for height and width),
    sheared by ``shear`` degrees (x ← x + tan(shear)·y), rotated by ``angle`` degrees
    counter-clockwise about the image centre, then translated by ``translate`` pixels
    ((down, right), or one number for both). Each may be a number, or one value per sample.
    ``padding`` fills what comes from outside the image: ``"border"`` (repeat the edge,
    Keras's ``fill_mode="nearest"``), ``"zeros"`` or ``"reflection"``. The output has the
    input's dtype and stays within the input's [min, max] (bilinear interpolation is a
    convex combination; the clamp only removes rounding).
    """
    if not torch.is_tensor(images) or images.dim() != 4:
        shape = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise DataError(f"images must be a tensor shaped (n, channels, height, width), got "
                        f"{shape}")
    padding = check_choice("padding", padding, PADDINGS)
    n, _, height, width = images.shape
    device = images.device
    shift = _per_sample("translate", translate, n, 2, device)  # (down, right) pixels
    theta_deg = _per_sample("angle", angle, n, 1, device)[:, 0]
    shear_deg = _per_sample("shear", shear, n, 1, device)[:, 0]
    zoom = _per_sample("scale", scale, n, 2, device)  # (height, width) factors
    if bool((zoom <= 0).any()):
        raise ParameterError("scale must be positive")
    # Forward map of content in pixel coordinates about the centre (x right, y down):
    # A = R(angle) @ Shear @ diag(sx, sy); "counter-clockwise" as seen on screen.
    theta, phi = torch.deg2rad(theta_deg), torch.deg2rad(shear_deg)
    cos, sin, tan = torch.cos(theta), torch.sin(theta), torch.tan(phi)
    sx, sy = zoom[:, 1], zoom[:, 0]
    a00, a01 = cos * sx, (cos * tan + sin) * sy
    a10, a11 = -sin * sx, (-sin * tan + cos) * sy
    # grid_sample needs the inverse map, output -> input (elementwise: no autocast matmul).
    det = a00 * a11 - a01 * a10
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    tx, ty = shift[:, 1], shift[:, 0]
    # In affine_grid's normalised coordinates (align_corners=False): x_pix = u * width / 2.
    ratio = height / width
    theta_grid = torch.stack([
        torch.stack([i00, i01 * ratio, -(i00 * tx + i01 * ty) * 2 / width], 1),
        torch.stack([i10 / ratio, i11, -(i10 * tx + i11 * ty) * 2 / height], 1),
    ], 1)
    with torch.autocast(device.type, enabled=False):
        source = images.float()
        grid = F.affine_grid(theta_grid, list(source.shape), align_corners=False)
        moved = F.grid_sample(source, grid, mode="bilinear", padding_mode=padding,
                              align_corners=False)
        moved = moved.clamp(source.min(), source.max())
    return moved.to(images.dtype)


class RandomAffine:
    """Random shifts, rotations, shears and zooms, one transform per sample.

    Parameters
    ----------
    shift : largest shift, as a fraction of the height (vertically) and of the width
        (horizontally); each drawn uniformly in [-shift, shift]. A number or (height, width).
    rotation : largest rotation in degrees, drawn uniformly in [-rotation, rotation].
    shear : largest shear angle in degrees, drawn uniformly in [-shear, shear].
    zoom : zoom factors drawn uniformly in [1 - zoom, 1 + zoom], separately for height and
        width (as Keras does).
    padding : ``"border"``, ``"zeros"`` or ``"reflection"`` (see :func:`affine_transform`).

    The defaults are DEC-DA's (see the module docstring): shift 0.1, rotation 10, no shear,
    no zoom, border padding.

    ``augment(X, generator)`` takes images (n, c, h, w), (n, h, w), or flat vectors (n, d)
    with ``sample_shape`` (e.g. (1, 28, 28); inferred for square d, see
    :func:`square_image_shape`), and returns a tensor shaped like ``X``.
    """

    def __init__(self, shift: float | Sequence[float] = 0.1, rotation: float = 10.0,
                 shear: float = 0.0, zoom: float = 0.0, padding: str = "border") -> None:
        shifts = tuple(shift) if isinstance(shift, list | tuple) else (shift, shift)
        if len(shifts) != 2:
            raise ParameterError(f"shift must be a number or (height, width), got {shift!r}")
        self.shift = tuple(_bounded(f"shift[{i}]", s, 1.0) for i, s in enumerate(shifts))
        self.rotation = _bounded("rotation", rotation, 180.0, closed=True)
        self.shear = _bounded("shear", shear, 90.0)
        self.zoom = _bounded("zoom", zoom, 1.0)
        self.padding = check_choice("padding", padding, PADDINGS)

    def __repr__(self) -> str:
        return (f"RandomAffine(shift={self.shift}, rotation={self.rotation}, "
                f"shear={self.shear}, zoom={self.zoom}, padding={self.padding!r})")

    def parameters(self, n: int, height: int, width: int, generator: torch.Generator) -> dict:
        """The random transform of each of ``n`` samples, drawn from ``generator`` on its
        own device: keyword arguments of :func:`affine_transform`."""
        draws = torch.rand((n, 6), generator=generator, device=generator.device) * 2 - 1
        size = torch.tensor([height, width], dtype=torch.float32, device=draws.device)
        return {"translate": draws[:, 0:2] * torch.tensor(self.shift, device=draws.device)
                * size,
                "angle": draws[:, 2] * self.rotation, "shear": draws[:, 3] * self.shear,
                "scale": 1 + draws[:, 4:6] * self.zoom}

    def __call__(self, X: torch.Tensor, generator: torch.Generator,
                 sample_shape: Sequence[int] | None = None) -> torch.Tensor:
        if not isinstance(generator, torch.Generator):
            raise ParameterError(f"generator must be a torch.Generator, got "
                                 f"{type(generator).__name__}")
        images = as_images(X, sample_shape)
        n, _, height, width = images.shape
        drawn = {k: v.to(images.device) for k, v in
                 self.parameters(n, height, width, generator).items()}
        return affine_transform(images, padding=self.padding, **drawn).reshape(X.shape)


def as_images(X: torch.Tensor, sample_shape: Sequence[int] | None = None) -> torch.Tensor:
    """A view of ``X`` as images (n, c, h, w): images as they are, (n, h, w) as one channel,
    flat vectors (n, d) through ``sample_shape`` ((c, h, w) or (h, w)), which defaults to
    (1, s, s) when d = s * s. Reshape the result with ``X.shape`` to go back."""
    if not torch.is_tensor(X):
        raise DataError(f"X must be a torch tensor, got {type(X).__name__}")
    if X.dim() == 4:
        return X
    if X.dim() == 3:
        return X.unsqueeze(1)
    if X.dim() != 2:
        raise DataError(f"X must be images (n, c, h, w) or (n, h, w), or vectors (n, d) with "
                        f"sample_shape; got shape {tuple(X.shape)}")
    if sample_shape is None:
        sample_shape = square_image_shape(X.shape[1])
        if sample_shape is None:
            raise ParameterError(f"sample_shape is needed for vectors of length {X.shape[1]} "
                                 "(not a square): e.g. (3, 32, 32)")
    shape = tuple(int(s) for s in sample_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or math.prod(shape) != X.shape[1]:
        raise ParameterError(f"sample_shape must be (channels, height, width) or (height, "
                             f"width) with {X.shape[1]} values in all, got {tuple(sample_shape)}")
    return X.reshape(len(X), *shape)


def augment_flat(X: torch.Tensor, generator: torch.Generator,
                 sample_shape: Sequence[int] | None = None,
                 augmentation: RandomAffine | None = None) -> torch.Tensor:
    """Augment flat vectors (n, d) seen as images of ``sample_shape`` (default: (1, s, s)
    for d = s * s) with ``augmentation`` (default: DEC-DA's :class:`RandomAffine`); flat
    again, (n, d)."""
    if not torch.is_tensor(X) or X.dim() != 2:
        shape = tuple(X.shape) if torch.is_tensor(X) else type(X).__name__
        raise DataError(f"X must be a tensor of flat vectors (n, d), got {shape}")
    return (augmentation or RandomAffine())(X, generator, sample_shape)


def _bounded(name: str, value, upper: float, closed: bool = False) -> float:
    value = check_float(name, value, minimum=0.0)
    if value > upper or (value == upper and not closed):
        raise ParameterError(f"{name} must be in [0, {upper:g}{']' if closed else ')'}, "
                             f"got {value}")
    return value
