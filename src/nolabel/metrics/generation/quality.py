"""``sample_quality``: how close a generative model's samples are to the real images."""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from typing import Any

import numpy as np

from nolabel._validation import check_int
from nolabel.data.dataset import Dataset
from nolabel.errors import ParameterError
from nolabel.metrics.generation._images import check_images
from nolabel.metrics.generation.coverage import class_coverage
from nolabel.metrics.generation.frechet import frechet_distance
from nolabel.metrics.generation.inception import inception_fid
from nolabel.metrics.generation.manifold import precision_recall
from nolabel.metrics.generation.network import FeatureNetwork


@dataclasses.dataclass(frozen=True)
class SampleQuality:
    """Scores of ``n_samples`` samples against ``n_real`` real images.

    ``fd``: Fréchet distance on the feature network's features (lower is better; only
    comparable between runs with the same feature network and set sizes). ``precision`` and
    ``recall``: Kynkäänniemi et al. (2019) with ``k`` neighbours. ``sample_classes`` of
    ``real_classes``: classes covered (see :mod:`~nolabel.metrics.generation.coverage`);
    ``mode_collapse`` and ``warning`` say when that is fewer than half. ``fid``: the standard
    Inception FID when asked for and available, else None with the reason in ``fid_note``.
    """

    fd: float
    precision: float
    recall: float
    n_samples: int
    n_real: int
    k: int
    sample_classes: int
    real_classes: int
    mode_collapse: bool
    warning: str | None
    fid: float | None
    fid_note: str


def _at_most(images: Any, n: int, rng: np.random.Generator) -> Any:
    if isinstance(images, Dataset):
        images = images.X
    elif not hasattr(images, "shape"):
        images = np.asarray(images)
    if len(images) <= n:
        return images
    return images[np.sort(rng.choice(len(images), n, replace=False))]


def _draw(model: Any, n: int, random_state: int | None) -> Any:
    """``model.sample(n)``, seeded when the method takes ``random_state``; of a scikit-learn
    style ``(X, labels)`` pair, the samples."""
    if "random_state" in inspect.signature(model.sample).parameters:
        drawn = model.sample(n, random_state=random_state)
    else:
        drawn = model.sample(n)
    return drawn[0] if isinstance(drawn, tuple) else drawn


def _network(feature_network: Any) -> FeatureNetwork:
    if isinstance(feature_network, FeatureNetwork):
        return feature_network
    if isinstance(feature_network, str):
        return FeatureNetwork.for_dataset(feature_network)
    raise ParameterError(
        "feature_network must be a FeatureNetwork or a dataset name, got "
        f"{type(feature_network).__name__}"
    )


def sample_quality(
    model_or_samples: Any,
    real_images: Any,
    feature_network: FeatureNetwork | str,
    *,
    n_samples: int = 10000,
    k: int = 3,
    random_state: int | None = 0,
    clip: bool = False,
    inception: bool = False,
) -> SampleQuality:
    """Fréchet distance, precision/recall and class coverage of generated images.

    ``model_or_samples`` is any object with ``sample(n, random_state=...)`` or ``sample(n)``
    (asked for ``n_samples`` samples) or an array of samples. ``real_images`` is an array or a
    :class:`~nolabel.data.Dataset` (e.g. the test split). Sets larger than ``n_samples`` are
    cut to a random subset of that size drawn from ``random_state``. Images are (n, c, h, w)
    in [0, 1] of the feature network's shape (or flattened to c*h*w values); ``clip=True``
    clips generated values outside [0, 1] instead of refusing them. ``feature_network`` is a
    :class:`FeatureNetwork` or a dataset name (its cached network). ``inception=True`` also
    computes the standard FID where torch-fidelity or pytorch-fid and their weights are
    installed (slow on a CPU); nothing is ever downloaded.

    Warns (and sets ``mode_collapse``) when the samples cover fewer than half the classes.
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    network = _network(feature_network)
    real_rng, sample_rng = (np.random.default_rng(s)
                            for s in np.random.SeedSequence(random_state).spawn(2))
    samples = (_draw(model_or_samples, n_samples, random_state)
               if hasattr(model_or_samples, "sample") else model_or_samples)
    samples = check_images(_at_most(samples, n_samples, sample_rng), network.image_shape,
                           name="samples", clip=clip)
    real = check_images(_at_most(real_images, n_samples, real_rng), network.image_shape,
                        name="real_images")
    real_features, real_classes = network.features_and_classes(real)
    sample_features, sample_classes = network.features_and_classes(samples)
    precision, recall = precision_recall(real_features, sample_features, k=k)
    coverage = class_coverage(real_classes, sample_classes, network.n_classes)
    if coverage.mode_collapse:
        warnings.warn(coverage.warning, UserWarning, stacklevel=2)
    fid = inception_fid(real, samples) if inception else None
    return SampleQuality(
        fd=frechet_distance(real_features, sample_features),
        precision=precision,
        recall=recall,
        n_samples=len(samples),
        n_real=len(real),
        k=k,
        sample_classes=coverage.sample_classes,
        real_classes=coverage.real_classes,
        mode_collapse=coverage.mode_collapse,
        warning=coverage.warning,
        fid=None if fid is None else fid.value,
        fid_note="not asked for (inception=True)" if fid is None else fid.note,
    )
