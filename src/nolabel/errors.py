"""The one exception hierarchy of nolabel.

Every error a user can cause (bad files, bad arrays, bad hyper-parameters, misuse of an
estimator) is raised as a subclass of :class:`NolabelError`, with a message that names the
file, row, column or parameter at fault. The classes also derive from the builtin a caller
would expect (``ValueError``, ``RuntimeError``...) so generic ``except`` clauses keep working.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


@dataclasses.dataclass(frozen=True)
class Argument:
    """A keyword argument that an error message names, usually as the fix.

    The message spells it as Python, ``str(argument)``: ``impute='mean'``, or
    ``nolabel.data.load(..., impute='mean')`` with ``call``, or ``label_column=`` with no
    ``value`` (``...``). The error keeps the argument in ``arguments``, so the command line,
    which has the same setting as an option, can print the same message with its own
    spelling (``--impute mean``): one message, named where the user is.
    """

    name: str
    value: Any = ...
    call: str | None = None

    @property
    def has_value(self) -> bool:
        return self.value is not ...

    def __str__(self) -> str:
        text = f"{self.name}=" + (repr(self.value) if self.has_value else "")
        return f"{self.call}(..., {text})" if self.call else text


class NolabelError(Exception):
    """Base class of every error nolabel raises on purpose.

    ``arguments``: the :class:`Argument` s the message names, spelt as ``str(argument)``.
    """

    arguments: tuple[Argument, ...] = ()

    def __init__(self, *args: Any, arguments: Iterable[Argument] = ()) -> None:
        super().__init__(*args)
        self.arguments = tuple(arguments)


class DataError(NolabelError, ValueError):
    """Input data is missing, malformed, of the wrong shape, or holds invalid values."""


class DataTypeError(DataError, TypeError):
    """Input data holds values that are not numbers (strings, dicts, other objects)."""


class ChecksumError(DataError):
    """A downloaded or cached file does not match its expected SHA-256."""


class DownloadError(DataError):
    """A dataset could not be fetched from any of its mirrors."""


class ParameterError(NolabelError, ValueError):
    """A hyper-parameter or argument has an invalid value."""


class NotFittedError(NolabelError, _SklearnNotFittedError):
    """An estimator was used before ``fit``."""


class TrainingError(NolabelError, RuntimeError):
    """Training diverged (NaN/inf loss) or could not continue."""


class CheckpointError(NolabelError, ValueError):
    """A checkpoint or saved model is missing, corrupt, or not a nolabel file."""


__all__ = [
    "Argument",
    "CheckpointError",
    "ChecksumError",
    "DataError",
    "DownloadError",
    "NolabelError",
    "NotFittedError",
    "ParameterError",
    "TrainingError",
]


class EmptyClusterWarning(UserWarning):
    """A clusterer ended with clusters that hold no training sample; the message names them."""
