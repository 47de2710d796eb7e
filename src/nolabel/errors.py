"""The one exception hierarchy of nolabel.

Every error a user can cause (bad files, bad arrays, bad hyper-parameters, misuse of an
estimator) is raised as a subclass of :class:`NolabelError`, with a message that names the
file, row, column or parameter at fault. The classes also derive from the builtin a caller
would expect (``ValueError``, ``RuntimeError``...) so generic ``except`` clauses keep working.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


class NolabelError(Exception):
    """Base class of every error nolabel raises on purpose."""


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
