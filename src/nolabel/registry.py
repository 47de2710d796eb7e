"""The one registry of estimators: name -> class, with a one-line description.

The CLI, saved models, configs and benchmarks find estimators here by name, so adding a
model means registering it, never adding an ``if/elif`` branch somewhere else.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from nolabel.errors import ParameterError


@dataclass(frozen=True)
class Entry:
    name: str
    cls: type
    description: str


_ENTRIES: dict[str, Entry] = {}


def register(name: str, description: str):
    """Class decorator: make an estimator findable by ``name``."""

    def decorate(cls: type) -> type:
        if name in _ENTRIES and _ENTRIES[name].cls is not cls:
            raise RuntimeError(f"two estimators registered as {name!r}")
        _ENTRIES[name] = Entry(name, cls, description)
        cls._registry_name = name
        return cls

    return decorate


def get(name: str) -> Entry:
    import nolabel  # noqa: F401  (importing the package registers every estimator)

    key = name.lower().replace("_", "-")
    if key not in _ENTRIES:
        close = difflib.get_close_matches(key, list(_ENTRIES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ParameterError(
            f"unknown model {name!r}{hint} Known models: {', '.join(sorted(_ENTRIES))}"
        )
    return _ENTRIES[key]


def entries() -> list[Entry]:
    import nolabel  # noqa: F401

    return [_ENTRIES[name] for name in sorted(_ENTRIES)]
