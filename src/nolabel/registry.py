"""The one registry of estimators: name -> class, description and default hyper-parameters.

The CLI, saved models, configs and benchmarks find estimators here by name, so adding a
model means registering it, never adding an ``if/elif`` branch somewhere else. What a model
can do (cluster, embed, detect, sample...) is read from its methods by :func:`capabilities`.

Estimators register themselves where they are defined (``@register``), so this module imports
none of them: they import it. The registry is complete once the package root ``nolabel`` has
been imported, because it imports every estimator package (``classical``, ``clustering``,
``models``) and Python runs it before any submodule, this one included: whoever can call
:func:`get` has loaded every estimator. ``tests/test_registry.py`` checks that importing every
module of the package registers nothing more.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import Any

from nolabel.errors import ParameterError


@dataclass(frozen=True)
class Entry:
    name: str
    cls: type
    description: str

    @property
    def defaults(self) -> dict[str, Any]:
        """The hyper-parameters of ``cls()`` and their default values, from its signature."""
        parameters = inspect.signature(self.cls.__init__).parameters.values()
        return {p.name: p.default for p in parameters
                if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def parse_params(self, pairs: list[str]) -> dict[str, Any]:
        """``["key=value", ...]`` typed like the defaults; errors name the parameter."""
        defaults, params = self.defaults, {}
        for pair in pairs:
            key, sep, text = pair.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ParameterError(f"--param {pair!r} must look like key=value")
            self.check_known(key)
            params[key] = parse_value(key, text.strip(), defaults[key])
        return params

    def check_known(self, key: str) -> None:
        defaults = self.defaults
        if key not in defaults:
            close = difflib.get_close_matches(key, list(defaults), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"{self.name} has no parameter {key!r}{hint}; its parameters: "
                                 f"{', '.join(sorted(defaults))}")


_ENTRIES: dict[str, Entry] = {}
_NONE = ("none", "null")
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _number(text: str) -> int | float | None:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return None


def _typed(key: str, text: str, kind: type) -> Any:
    """``text`` as a ``kind`` (bool, int, float or str), or an error naming ``key``."""
    if kind is bool:
        if text.lower() not in _BOOLS:
            raise ParameterError(f"{key} expects true or false, got {text!r}")
        return _BOOLS[text.lower()]
    if kind is int:
        number = _number(text)
        if not isinstance(number, int):
            raise ParameterError(f"{key} expects an integer, got {text!r}")
        return number
    if kind is float:
        number = _number(text)
        if number is None:
            raise ParameterError(f"{key} expects a number, got {text!r}")
        return float(number)
    return text


def parse_value(key: str, text: str, default: Any) -> Any:
    """``text`` typed like ``default``: ``none`` is None; tuples are comma-separated
    (``256,128``); a string or None default also takes numbers (``n_init=10``)."""
    if text.lower() in _NONE:
        return None
    if isinstance(default, tuple | list):
        kind = float if any(isinstance(v, float) for v in default) else int
        return tuple(_typed(f"{key}[{i}]", part.strip(), kind)
                     for i, part in enumerate(text.split(",")) if part.strip())
    if isinstance(default, bool):
        return _typed(key, text, bool)
    if isinstance(default, int | float):
        return _typed(key, text, type(default))
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "," in text:
        return tuple(_number(part) if _number(part) is not None else part
                     for part in (p.strip() for p in text.split(",")) if part)
    number = _number(text)
    return text if number is None else number


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
    """The entry of the estimator registered as ``name`` (case-insensitive, ``_`` = ``-``)."""
    key = name.lower().replace("_", "-")
    if key not in _ENTRIES:
        close = difflib.get_close_matches(key, list(_ENTRIES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ParameterError(
            f"unknown model {name!r}{hint} Known models: {', '.join(sorted(_ENTRIES))}"
        )
    return _ENTRIES[key]


def entries() -> list[Entry]:
    """Every registered estimator, sorted by name."""
    return [_ENTRIES[name] for name in sorted(_ENTRIES)]


@dataclass(frozen=True)
class Capabilities:
    """What a fitted model of a class can be asked, read from its methods."""

    cluster: bool  # predict(X) -> cluster of new samples
    training_clusters: bool  # labels_ of the training samples only (DBSCAN)
    embed: bool  # transform(X) -> features
    detect: bool  # score_samples(X): higher = more normal
    likelihood: bool  # score_samples(X) is log p(x) in nats
    reconstruct: bool  # reconstruct(X), or inverse_transform(transform(X))
    sample: bool
    sample_by_cluster: bool
    any_shape: bool  # takes samples of any shape (neural nets); the others need (n, d)

    def names(self) -> list[str]:
        return [name for name, value in vars(self).items() if value and name != "any_shape"]


def _is_density_estimator(cls: type) -> bool:
    try:
        return cls().__sklearn_tags__().estimator_type == "density_estimator"
    except Exception:  # a class that cannot be built without arguments is not one we know
        return False


def capabilities(model: Any) -> Capabilities:
    """Capabilities of an estimator (class or instance). ``score_samples`` is a likelihood
    for scikit-learn density estimators and for models that define ``nll`` or ``elbo``; for
    the others (autoencoders, PCA's reconstruction view) it is only an anomaly score."""
    cls = model if isinstance(model, type) else type(model)
    sample = getattr(cls, "sample", None)
    return Capabilities(
        cluster=hasattr(cls, "predict"),
        training_clusters=hasattr(cls, "fit_predict") and not hasattr(cls, "predict"),
        embed=hasattr(cls, "transform"),
        detect=hasattr(cls, "score_samples"),
        likelihood=hasattr(cls, "score_samples") and (
            hasattr(cls, "nll") or hasattr(cls, "elbo") or _is_density_estimator(cls)),
        reconstruct=hasattr(cls, "reconstruct") or (
            hasattr(cls, "transform") and hasattr(cls, "inverse_transform")),
        sample=sample is not None,
        sample_by_cluster=sample is not None
        and "cluster" in inspect.signature(sample).parameters,
        any_shape=hasattr(cls, "_image_input"),
    )
