"""Few-label evaluation of frozen representations: linear and k-NN probes.

A representation is scored by how well a simple classifier trained on a few labelled
samples of it predicts the labels of held-out samples. For a budget of ``n`` labels, several
class-balanced labelled subsets are drawn at random and the test accuracy is averaged over
them; with every label there is a single subset.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from nolabel._validation import check_array, check_choice, check_float, check_int
from nolabel.errors import DataError, ParameterError
from nolabel.metrics._labels import check_labels

METHODS = ("linear", "knn")


@dataclass(frozen=True)
class ProbeResult:
    """Test accuracy of one probe at one label budget.

    ``n_labels`` is the number of labelled samples actually used (the training-set size
    when every label was used); ``accuracies`` holds one accuracy per labelled subset.
    """

    method: str
    n_labels: int
    mean_accuracy: float
    std_accuracy: float
    accuracies: tuple[float, ...]


class _Data(NamedTuple):
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    n_classes: int


def _check_features(features: Any, name: str) -> np.ndarray:
    array = check_array(features, name=name)
    if array.ndim != 2:
        raise DataError(
            f"{name} must be 2-D, got shape {array.shape}; reshape to (n_samples, n_features), "
            f"e.g. {name}.reshape(len({name}), -1)"
        )
    return array


def _check_split(features: Any, labels: Any, split: str) -> tuple[np.ndarray, np.ndarray]:
    x = _check_features(features, f"{split}_features")
    y = check_labels(labels, f"{split}_labels")
    if y.size != x.shape[0]:
        raise DataError(
            f"{split}_labels has {y.size} labels but {split}_features has {x.shape[0]} rows"
        )
    return x, y


def _check_data(
    train_features: Any, train_labels: Any, test_features: Any, test_labels: Any
) -> _Data:
    train_x, train_y = _check_split(train_features, train_labels, "train")
    test_x, test_y = _check_split(test_features, test_labels, "test")
    if test_x.shape[1] != train_x.shape[1]:
        raise DataError(
            f"test_features has {test_x.shape[1]} columns but train_features has "
            f"{train_x.shape[1]}; both must hold the same features"
        )
    n_classes = np.unique(train_y).size
    if n_classes < 2:
        raise DataError(
            f"train_labels holds a single class ({train_y[0]}); a probe needs at least two"
        )
    return _Data(train_x, train_y, test_x, test_y, n_classes)


def _check_budget(n_labels: Any, n_train: int, n_classes: int, name: str) -> int:
    """The number of labelled samples to draw for ``n_labels`` (None = all of them)."""
    if n_labels is None:
        return n_train
    n_labels = check_int(name, n_labels)
    if n_labels < n_classes:
        raise ParameterError(
            f"{name} asks for {n_labels} labels but train_labels has {n_classes} classes; "
            "a budget needs at least one label per class"
        )
    return min(n_labels, n_train)


def _class_quotas(counts: np.ndarray, n_labels: int, rng: np.random.Generator) -> np.ndarray:
    """Samples to draw per class: equal shares, classes too small to fill theirs taken whole."""
    quotas = np.zeros_like(counts)
    open_ = np.ones(counts.size, dtype=bool)
    remaining = n_labels
    while True:
        share = remaining // int(open_.sum())
        small = open_ & (counts <= share)
        if not small.any():
            break
        quotas[small] = counts[small]
        remaining -= int(counts[small].sum())
        open_ &= ~small
    # Every open class has more than ``share`` samples, so share + 1 always fits.
    indices = np.flatnonzero(open_)
    quotas[indices] = share
    quotas[rng.choice(indices, remaining - share * indices.size, replace=False)] += 1
    return quotas


def balanced_subset(
    labels: Any, n_labels: int, random_state: int | np.random.Generator | None = 0
) -> np.ndarray:
    """Sorted indices of a random class-balanced subset of ``n_labels`` samples.

    Each class gets ``n_labels // n_classes`` samples, the remainder going to classes picked
    at random; a class with too few samples is taken whole and the others make up for it.
    Reproducible from ``random_state`` (an int or a numpy Generator; None = fresh entropy).
    """
    labels = check_labels(labels, "labels")
    classes, class_index = np.unique(labels, return_inverse=True)
    n_labels = _check_budget(n_labels, labels.size, classes.size, "n_labels")
    if n_labels >= labels.size:
        return np.arange(labels.size)
    rng = np.random.default_rng(random_state)
    quotas = _class_quotas(np.bincount(class_index), n_labels, rng)
    picked = [
        rng.choice(np.flatnonzero(class_index == c), quota, replace=False)
        for c, quota in enumerate(quotas)
    ]
    return np.sort(np.concatenate(picked))


def _subsets(
    labels: np.ndarray, n_labels: int, n_subsets: int, random_state: int | None
) -> list[np.ndarray]:
    if n_labels >= labels.size:
        return [np.arange(labels.size)]
    seeds = np.random.SeedSequence(random_state).spawn(n_subsets)
    return [balanced_subset(labels, n_labels, np.random.default_rng(s)) for s in seeds]


def _predict(
    method: str, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, options: dict
) -> np.ndarray:
    if method == "linear":
        # Standardised with the labelled subset's statistics only (StandardScaler leaves
        # zero-variance columns unscaled), so the probe sees nothing of the unlabelled data.
        scaler = StandardScaler().fit(train_x)
        train_x, test_x = scaler.transform(train_x), scaler.transform(test_x)
        model = LogisticRegression(C=options["C"], solver="lbfgs", max_iter=options["max_iter"])
    else:
        # Distances in the representation's own geometry: rescaling the columns would
        # change what is being evaluated (PCA's small components would count as much as
        # its large ones).
        model = KNeighborsClassifier(n_neighbors=min(options["k"], train_y.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_x, train_y)
    return model.predict(test_x)


def _evaluate(
    method: str, data: _Data, n_labels: int, n_subsets: int, random_state: Any, options: dict
) -> ProbeResult:
    accuracies = []
    for subset in _subsets(data.train_y, n_labels, n_subsets, random_state):
        predicted = _predict(
            method, data.train_x[subset], data.train_y[subset], data.test_x, options
        )
        accuracies.append(float(np.mean(predicted == data.test_y)))
    return ProbeResult(
        method=method,
        n_labels=n_labels,
        mean_accuracy=float(np.mean(accuracies)),
        std_accuracy=float(np.std(accuracies)),
        accuracies=tuple(accuracies),
    )


def _check_random_state(random_state: Any) -> int | None:
    return None if random_state is None else check_int("random_state", random_state, minimum=0)


def _options(C: Any = 1.0, max_iter: Any = 200, k: Any = 5) -> dict:
    return {
        "C": check_float("C", C, minimum=0.0, strict=True),
        "max_iter": check_int("max_iter", max_iter),
        "k": check_int("k", k),
    }


def _single(
    method: str,
    features_and_labels: tuple,
    n_labels: Any,
    n_subsets: Any,
    random_state: Any,
    options: dict,
) -> ProbeResult:
    n_subsets = check_int("n_subsets", n_subsets)
    random_state = _check_random_state(random_state)
    data = _check_data(*features_and_labels)
    size = _check_budget(n_labels, data.train_y.size, data.n_classes, "n_labels")
    return _evaluate(method, data, size, n_subsets, random_state, options)


def linear_probe(
    train_features: Any,
    train_labels: Any,
    test_features: Any,
    test_labels: Any,
    *,
    n_labels: int | None = None,
    n_subsets: int = 5,
    random_state: int | None = 0,
    C: float = 1.0,
    max_iter: int = 200,
) -> ProbeResult:
    """Test accuracy of a logistic regression trained on ``n_labels`` labelled samples.

    Multinomial logistic regression (scikit-learn, lbfgs, L2 penalty of strength ``1/C``) on
    features standardised with the labelled subset's mean and variance. ``max_iter`` is
    capped (200 keeps a 60000 x 784 fit to a reasonable time) and a fit that stops there
    is used as is, without a ConvergenceWarning.

    ``n_labels=None`` (or at least the training-set size) uses every label, once;
    otherwise ``n_subsets`` class-balanced subsets (see :func:`balanced_subset`) are drawn
    from ``random_state`` and the accuracies averaged. Features are numpy arrays or tensors
    of shape (n_samples, n_features); labels are integers.
    """
    data = (train_features, train_labels, test_features, test_labels)
    options = _options(C=C, max_iter=max_iter)
    return _single("linear", data, n_labels, n_subsets, random_state, options)


def knn_probe(
    train_features: Any,
    train_labels: Any,
    test_features: Any,
    test_labels: Any,
    *,
    n_labels: int | None = None,
    n_subsets: int = 5,
    random_state: int | None = 0,
    k: int = 5,
) -> ProbeResult:
    """Test accuracy of a k-nearest-neighbour vote among ``n_labels`` labelled samples.

    Plain Euclidean distance on the features as they are (not standardised: the geometry
    of the representation is what is evaluated), uniform vote among ``min(k, n_labels)``
    neighbours. Subsets are drawn as in
    :func:`linear_probe`.
    """
    data = (train_features, train_labels, test_features, test_labels)
    return _single("knn", data, n_labels, n_subsets, random_state, _options(k=k))


def probe(
    train_features: Any,
    train_labels: Any,
    test_features: Any,
    test_labels: Any,
    *,
    label_budgets: Sequence[int | None] = (100, 1000, None),
    n_subsets: int = 5,
    methods: Iterable[str] = METHODS,
    random_state: int | None = 0,
    C: float = 1.0,
    max_iter: int = 200,
    k: int = 5,
) -> list[ProbeResult]:
    """Every probe in ``methods`` at every budget in ``label_budgets`` (None = all labels).

    Returns one :class:`ProbeResult` per (method, budget), methods outermost, in the order
    given. See :func:`linear_probe` and :func:`knn_probe` for what each method does.
    """
    methods = [methods] if isinstance(methods, str) else methods
    methods = [check_choice("methods", m, METHODS) for m in methods]
    if not methods:
        raise ParameterError(f"methods is empty; give at least one of {METHODS}")
    is_single = label_budgets is None or isinstance(label_budgets, int | np.integer)
    label_budgets = [label_budgets] if is_single else list(label_budgets)
    if not label_budgets:
        raise ParameterError("label_budgets is empty; give at least one budget (None = all)")
    n_subsets = check_int("n_subsets", n_subsets)
    random_state = _check_random_state(random_state)
    options = _options(C=C, max_iter=max_iter, k=k)
    data = _check_data(train_features, train_labels, test_features, test_labels)
    sizes = [
        _check_budget(b, data.train_y.size, data.n_classes, "label_budgets") for b in label_budgets
    ]
    return [
        _evaluate(method, data, size, n_subsets, random_state, options)
        for method in methods
        for size in sizes
    ]
