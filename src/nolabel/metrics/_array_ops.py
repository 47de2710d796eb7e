"""Operations that run the same formula on numpy arrays and on torch tensors.

Torch versions stay differentiable, and give finite gradients where a probability is exactly
zero (the ``0·log 0 = 0`` convention), so losses can use them on softmax outputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special
import torch

from nolabel._validation import check_float
from nolabel.errors import DataError, ParameterError

Array = np.ndarray | torch.Tensor


def as_float_arrays(**named: Any) -> list[Array]:
    """All values as float tensors if any of them is a tensor, else as float numpy arrays."""
    reference = next((v for v in named.values() if isinstance(v, torch.Tensor)), None)
    if reference is not None:
        dtype = reference.dtype if reference.is_floating_point() else torch.get_default_dtype()
        return [_as_tensor(v, name, dtype, reference.device) for name, v in named.items()]
    return [_as_numpy(v, name) for name, v in named.items()]


def _as_tensor(value: Any, name: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise DataError(f"{name} holds complex numbers; expected real values")
        return value.to(device=device, dtype=dtype)
    return torch.as_tensor(_as_numpy(value, name), dtype=dtype, device=device)


def _as_numpy(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except ValueError as exc:
        raise DataError(f"{name} is not a rectangular array of numbers: {exc}") from None
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    raise DataError(f"{name} must hold real numbers, got dtype {array.dtype}")


def log_of_base(base: Any) -> float:
    base = check_float("base", base, minimum=0.0, strict=True)
    if base == 1.0:
        raise ParameterError("base must not be 1 (log base 1 is undefined); use e, 2 or 10")
    return math.log(base)


def check_axis(x: Array, axis: Any, name: str) -> int:
    if x.ndim == 0:
        raise DataError(f"{name} must be an array with at least one axis, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise ParameterError(f"axis must be an integer, got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ParameterError(f"axis={axis} is out of range for an array of shape {tuple(x.shape)}")
    return int(axis)


def check_broadcastable(**named: Array) -> None:
    shapes = {name: tuple(x.shape) for name, x in named.items()}
    try:
        np.broadcast_shapes(*shapes.values())
    except ValueError:
        described = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise DataError(f"shapes do not match (nor broadcast): {described}") from None


def _host_copy(x: Array) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64).numpy()
    return x


def check_finite(x: Array, name: str) -> None:
    values = _host_copy(x)
    bad = ~np.isfinite(values)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(f"{name} holds a non-finite value {values[index]} at index {index}")


def _machine_epsilon(x: Array) -> float:
    if isinstance(x, torch.Tensor):
        return torch.finfo(x.dtype).eps
    return float(np.finfo(x.dtype).eps)


def check_probabilities(x: Array, name: str, sum_axes: tuple[int, ...] | None = None) -> None:
    """Refuse values outside [0, 1] and, along ``sum_axes``, distributions not summing to 1."""
    check_finite(x, name)
    values = _host_copy(x)
    # Float32 softmax outputs are off by rounding; that must not count as an error.
    tolerance = max(1.0e-6, math.sqrt(_machine_epsilon(x)))
    outside = (values < 0) | (values > 1 + tolerance)
    if outside.any():
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        raise DataError(
            f"{name} must hold probabilities in [0, 1]; index {index} is {values[index]}"
        )
    if not sum_axes:
        return
    sums = np.atleast_1d(values.sum(axis=sum_axes))
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0])
        which = "it sums" if sums.size == 1 else f"the distribution at index {where} sums"
        raise DataError(
            f"{name} must sum to 1 along axis {sum_axes if len(sum_axes) > 1 else sum_axes[0]}, "
            f"but {which} to {sums[where]:.6g}"
        )


def log(x: Array) -> Array:
    if isinstance(x, torch.Tensor):
        return torch.log(x)
    with np.errstate(divide="ignore"):
        return np.log(x)


def exp(x: Array) -> Array:
    return torch.exp(x) if isinstance(x, torch.Tensor) else np.exp(x)


def total(x: Array, axis: int | tuple[int, ...]) -> Array:
    return x.sum(dim=axis) if isinstance(x, torch.Tensor) else x.sum(axis=axis)


def clip_below_zero(x: Array) -> Array:
    return x.clamp_min(0.0) if isinstance(x, torch.Tensor) else np.maximum(x, 0.0)


def xlogy(x: Array, y: Array) -> Array:
    """``x * log(y)``, exactly 0 where ``x == 0`` whatever ``y`` is."""
    if isinstance(x, torch.Tensor):
        # torch.xlogy already returns 0 there, but its gradient x / y would be 0/0 = NaN.
        return torch.xlogy(x, torch.where(x == 0, torch.ones_like(y), y))
    return scipy.special.xlogy(x, y)


def relative_entropy(p: Array, q: Array) -> Array:
    """Elementwise ``p * log(p / q)``: 0 where ``p == 0``, +inf where ``p > 0`` and ``q == 0``."""
    if isinstance(p, torch.Tensor):
        q_where_needed = torch.where(p == 0, torch.ones_like(q), q)
        return xlogy(p, p / q_where_needed)
    return scipy.special.rel_entr(p, q)
