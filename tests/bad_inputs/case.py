"""One bad-input case: what to call, and how nolabel must answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nolabel.errors import NolabelError


@dataclasses.dataclass(frozen=True)
class Case:
    """``run(corpus)`` feeds one bad input to nolabel; ``corpus`` is the generated folder.

    ``error``: the NolabelError subclass it must raise, whose message must match ``match``
    (a regex naming the culprit: file, row, column, parameter). ``error=None``: it must
    succeed, and every number it returns must be finite. ``finite_ok``: a finite result is
    accepted instead of the error. ``xfail``: a known bug, left for the file's owner.
    For ``cli`` cases ``run`` returns the argument list; the command must exit with 2.
    """

    id: str
    run: Callable[[Path], Any]
    error: type[NolabelError] | None
    match: str = ""
    finite_ok: bool = False
    cli: bool = False
    xfail: str | None = None


def fails(
    id: str, run: Callable[[Path], Any], error: type[NolabelError], match: str, **options: Any
) -> Case:
    return Case(id, run, error, match, **options)


def succeeds(id: str, run: Callable[[Path], Any]) -> Case:
    """A case whose input is odd but legal: the result must hold no NaN or inf."""
    return Case(id, run, None)


def cli(id: str, argv: list[str], match: str) -> Case:
    return Case(id, lambda corpus: [a.format(corpus=corpus) for a in argv], NolabelError,
                match, cli=True)
