"""Input validation shared by every estimator: one place turns user input into checked arrays.

Arrays arrive as numpy arrays, torch tensors (any device), or nested lists. They leave as
float32 (numpy or torch), at least 2-D, non-empty and finite, or a :class:`DataError` names
what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from nolabel.errors import DataError, DataTypeError, NotFittedError, ParameterError


def _describe_position(index: tuple[int, ...], first_row: int | np.ndarray = 0) -> str:
    rest = index[1:]
    row = int(first_row[index[0]]) if isinstance(first_row, np.ndarray) else index[0] + first_row
    if len(rest) == 1:
        return f"row {row}, column {rest[0]}"
    if not rest:
        return f"row {row}"
    return f"sample {row}, position {tuple(int(i) for i in rest)}"


def _check_shape(shape: tuple[int, ...], name: str, allow_nd: bool, min_samples: int) -> None:
    if len(shape) == 0:
        raise DataError(f"{name} must be an array of samples, got a scalar")
    if len(shape) == 1:
        raise DataError(
            f"{name} must be 2-D (n_samples, n_features) but is 1-D with shape {shape}. "
            f"Reshape your data: {name}.reshape(-1, 1) for a single feature or "
            f"{name}.reshape(1, -1) for a single sample"
        )
    if len(shape) > 2 and not allow_nd:
        raise DataError(f"{name} must be 2-D (n_samples, n_features), got shape {shape}")
    if shape[0] < min_samples:
        raise DataError(
            f"{name} has {shape[0]} samples but at least {min_samples} are needed"
            + ("" if shape[0] else " (the data is empty)")
        )
    if int(np.prod(shape[1:])) == 0:
        raise DataError(
            f"{name} has no features: 0 feature(s) (shape={shape}) while a minimum of 1 is "
            "required."
        )


def _raise_non_finite(
    bad: np.ndarray,
    values: np.ndarray,
    name: str,
    first_row: int | np.ndarray = 0,
    original: np.ndarray | None = None,
) -> None:
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    value = values[index]
    where = _describe_position(index, first_row)
    if original is not None and np.isfinite(original[index]):
        raise DataError(
            f"{name} holds {float(original[index]):g} at {where}, beyond float32's range "
            f"(±{float(np.finfo(np.float32).max):.3g}), the precision nolabel computes in; "
            "rescale the data first (nolabel.data.standardize)"
        )
    from nolabel.errors import Argument  # the fix, spelt as the command line's --impute there

    kind = "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")
    fix = Argument("impute", "mean", call="nolabel.data.load")
    raise DataError(
        f"{name} has a {kind} at {where} "
        f"({int(bad.sum())} non-finite values in all); clean the data first "
        f"({fix} replaces NaN with column means)",
        arguments=[fix],
    )


def as_rectangular(X: Any, name: str) -> np.ndarray:
    """``np.asarray(X)``, or a DataError when nested lists have rows of different lengths."""
    try:
        return np.asarray(X)
    except ValueError as exc:
        raise DataError(
            f"{name} is not a rectangular array: its rows have different lengths ({exc})"
        ) from None


def _to_numeric_numpy(X: Any, name: str) -> np.ndarray:
    array = as_rectangular(X, name)
    if array.dtype.kind in "fiub":
        return array
    if array.dtype.kind == "c":
        raise DataError(
            f"{name} holds complex numbers: Complex data not supported (nolabel works on "
            "real-valued data)"
        )
    # Object or string arrays: find the first cell that is not a number.
    flat = array.reshape(-1) if array.ndim else array.reshape(1)
    for position, cell in enumerate(flat):
        try:
            float(cell)
        except (TypeError, ValueError):
            index = np.unravel_index(position, array.shape) if array.ndim else (0,)
            where = _describe_position(tuple(int(i) for i in index)) if array.ndim > 1 else (
                f"index {position}")
            raise DataTypeError(
                f"{name} is not numeric: {where} holds {cell!r} ({type(cell).__name__}); "
                "a float() argument must be a string or a real number"
            ) from None
    return array.astype(np.float64)


def check_array(
    X: Any,
    *,
    name: str = "X",
    allow_nd: bool = True,
    min_samples: int = 1,
    first_row: int | np.ndarray = 0,
) -> np.ndarray:
    """Validate ``X`` and return it as a C-contiguous float32 numpy array.

    ``first_row`` is the index of ``X``'s first row in a larger array it was read from (or
    the index of every row, for rows picked out of it), so that errors name the row of the
    whole array.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    array = _to_numeric_numpy(X, name)
    _check_shape(array.shape, name, allow_nd, min_samples)
    given = array
    with np.errstate(over="ignore"):  # values beyond float32's range are reported below
        array = np.ascontiguousarray(array, dtype=np.float32)
    # A finite float64 sum proves every value finite without a boolean copy of the data;
    # only when it is not (a NaN, an inf, or an overflow) is the data scanned value by value.
    if not np.isfinite(array.sum(dtype=np.float64)):
        finite = np.isfinite(array)
        if not finite.all():
            _raise_non_finite(~finite, array, name, first_row, given if given.dtype.kind == "f"
                              else None)
    return array


def check_tensor(
    X: Any,
    *,
    device: torch.device,
    name: str = "X",
    allow_nd: bool = True,
    min_samples: int = 1,
) -> torch.Tensor:
    """Validate ``X`` and return a float32 tensor on ``device`` (tensors are not copied to host)."""
    if not isinstance(X, torch.Tensor):
        return torch.from_numpy(check_array(X, name=name, allow_nd=allow_nd,
                                            min_samples=min_samples)).to(device)
    if X.is_complex():
        raise DataError(
            f"{name} holds complex numbers: Complex data not supported (nolabel works on "
            "real-valued data)"
        )
    _check_shape(tuple(X.shape), name, allow_nd, min_samples)
    tensor = X.detach().to(device=device, dtype=torch.float32)
    if not bool(torch.isfinite(tensor.sum(dtype=torch.float64))):
        finite = torch.isfinite(tensor)
        if not bool(finite.all()):
            _raise_non_finite((~finite).cpu().numpy(), tensor.cpu().numpy(), name)
    return tensor


def check_n_features(estimator: Any, X_shape: tuple[int, ...], name: str = "X") -> None:
    """Refuse data whose per-sample shape differs from what ``estimator`` was fitted on."""
    expected = getattr(estimator, "n_features_in_", None)
    got = int(np.prod(X_shape[1:]))
    if expected is not None and got != expected:
        raise DataError(
            f"{name} has {got} features, but {type(estimator).__name__} is expecting "
            f"{expected} features as input (the number it was fitted on)"
        )


def check_is_fitted(estimator: Any, attributes: Iterable[str]) -> None:
    missing = [a for a in attributes if not hasattr(estimator, a)]
    if missing:
        raise NotFittedError(
            f"this {type(estimator).__name__} is not fitted yet: call fit(X) before using it"
        )


def check_int(name: str, value: Any, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_float(
    name: str, value: Any, *, minimum: float | None = None, strict: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ParameterError(f"{name} must be finite, got {value}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ParameterError(f"{name} must be {'>' if strict else '>='} {minimum}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        options = ", ".join(map(repr, choices))
        raise ParameterError(f"{name} must be one of {options}; got {value!r}")
    return value


def as_output(result: torch.Tensor, like: Any) -> np.ndarray | torch.Tensor:
    """Return ``result`` in the kind of container the user passed in: tensors stay tensors."""
    if isinstance(like, torch.Tensor):
        return result.to(like.device)
    return result.detach().cpu().numpy()


def check_betas(betas: Any) -> tuple[float, float]:
    """Adam's (β1, β2): two numbers in [0, 1)."""
    if not (isinstance(betas, list | tuple) and len(betas) == 2):
        raise ParameterError(f"betas must be Adam's two numbers (β1, β2), got {betas!r}")
    for index, beta in enumerate(betas):
        if check_float(f"betas[{index}]", beta, minimum=0.0) >= 1.0:
            raise ParameterError(f"betas[{index}] must be below 1, got {beta}")
    return float(betas[0]), float(betas[1])


# -- hyper-parameters, declared once per class and checked at fit -------------------------------
class Constraint:
    """One hyper-parameter's allowed values; ``check`` raises a ParameterError naming it."""

    def check(self, name: str, value: Any) -> None:
        raise NotImplementedError


class Int(Constraint):
    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def check(self, name: str, value: Any) -> None:
        check_int(name, value, minimum=self.minimum)


class Float(Constraint):
    """A finite number ``>= minimum`` (``>`` when ``strict``) and ``< below`` when given."""

    def __init__(self, minimum: float | None = None, *, strict: bool = False,
                 below: float | None = None, at_most: float | None = None) -> None:
        self.minimum, self.strict, self.below, self.at_most = minimum, strict, below, at_most

    def check(self, name: str, value: Any) -> None:
        number = check_float(name, value, minimum=self.minimum, strict=self.strict)
        if self.below is not None and number >= self.below:
            raise ParameterError(f"{name} must be below {self.below:g}, got {number:g}")
        if self.at_most is not None and number > self.at_most:
            raise ParameterError(f"{name} must be at most {self.at_most:g}, got {number:g}")


class Choice(Constraint):
    def __init__(self, *choices: Any) -> None:
        self.choices = choices

    def check(self, name: str, value: Any) -> None:
        check_choice(name, value, self.choices)


class Bool(Constraint):
    def check(self, name: str, value: Any) -> None:
        if not isinstance(value, bool | np.bool_):
            raise ParameterError(f"{name} must be True or False, got {value!r}")


class Sizes(Constraint):
    """Layer sizes: a sequence of positive integers, at least ``min_length`` of them."""

    def __init__(self, min_length: int = 0, what: str = "layer") -> None:
        self.min_length, self.what = min_length, what

    def check(self, name: str, value: Any) -> None:
        if isinstance(value, str) or not isinstance(value, list | tuple | np.ndarray):
            raise ParameterError(f"{name} must be a sequence of sizes, got {value!r}")
        if len(value) < self.min_length:
            raise ParameterError(f"{name} needs at least {self.min_length} {self.what}(s), "
                                 f"got {tuple(value)}")
        for index, size in enumerate(value):
            check_int(f"{name}[{index}]", size)


class Betas(Constraint):
    def check(self, name: str, value: Any) -> None:
        check_betas(value)


class Seed(Constraint):
    def check(self, name: str, value: Any) -> None:
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, int | np.integer)):
            raise ParameterError(f"{name} must be an int or None, got {value!r}")


class Optional(Constraint):
    """``None`` or a value ``inner`` accepts."""

    def __init__(self, inner: Constraint) -> None:
        self.inner = inner

    def check(self, name: str, value: Any) -> None:
        if value is not None:
            self.inner.check(name, value)


class OneOf(Constraint):
    """A value one of ``constraints`` accepts; the first one's message otherwise."""

    def __init__(self, *constraints: Constraint) -> None:
        self.constraints = constraints

    def check(self, name: str, value: Any) -> None:
        errors = []
        for constraint in self.constraints:
            try:
                constraint.check(name, value)
                return
            except ParameterError as exc:
                errors.append(exc)
        raise errors[0]


class Anything(Constraint):
    """Checked elsewhere (e.g. ``pretrained``, resolved when it is used)."""

    def check(self, name: str, value: Any) -> None:
        return None


def validate_parameters(estimator: Any) -> None:
    """Check every hyper-parameter of ``estimator`` against the ``_parameter_constraints``
    its classes declare (merged along the MRO, subclasses win), then the cross-parameter
    ``_parameter_rules``: functions of the estimator that return an error message or None.

    The one place hyper-parameters are validated, run at the start of ``fit`` only, as in
    scikit-learn, so ``set_params``, ``clone`` and loading never raise on them.
    """
    constraints: dict[str, Constraint] = {}
    rules: list = []
    for cls in reversed(type(estimator).__mro__):
        constraints.update(cls.__dict__.get("_parameter_constraints", {}))
        rules.extend(cls.__dict__.get("_parameter_rules", ()))
    params = estimator.get_params(deep=False)  # a base may declare what a subclass lacks
    for name, constraint in constraints.items():
        if name in params:
            constraint.check(name, params[name])
    for rule in rules:
        message = rule(estimator)
        if message:
            raise ParameterError(message)


Constraints = dict[str, Constraint]  # a class's ``_parameter_constraints``
