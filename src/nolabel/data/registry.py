"""The named datasets: ``load("fashion-mnist")`` finds its entry here, by name."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Protocol

from nolabel._validation import check_choice
from nolabel.data.dataset import Dataset, DatasetInfo
from nolabel.data.digits import SklearnDigits
from nolabel.data.idx_dataset import IdxDataset, idx_files
from nolabel.errors import DataError

SPLITS = ("train", "test", "all")


class NamedDataset(Protocol):
    name: str
    description: str

    def load(self, split: str, path: str | os.PathLike[str] | None, download: bool) -> Dataset:
        """``split`` is already checked to be one of SPLITS."""

    def info(self) -> DatasetInfo:
        """Where the dataset is now, or how to get it."""


FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    description="70,000 28x28 grayscale images of clothing (Zalando), 10 classes",
    files=idx_files(
        {
            "train-images-idx3-ubyte.gz": (
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
            ),
            "train-labels-idx1-ubyte.gz": (
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
            ),
        }
    ),
    counts={"train": 60000, "test": 10000},
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    system_folders=(Path("/usr/share/datasets/fashion-mnist"),),
    install_hint="on Debian/Ubuntu: apt-get install dataset-fashion-mnist",
)

MNIST = IdxDataset(
    name="mnist",
    description="70,000 28x28 grayscale handwritten digits (LeCun et al.), 10 classes",
    files=idx_files(
        {
            "train-images-idx3-ubyte.gz": (
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
            ),
            "train-labels-idx1-ubyte.gz": (
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
            ),
            "t10k-images-idx3-ubyte.gz": (
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
            ),
        }
    ),
    counts={"train": 60000, "test": 10000},
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    classes=tuple(str(d) for d in range(10)),
)

DATASETS: dict[str, NamedDataset] = {d.name: d for d in (SklearnDigits(), FASHION_MNIST, MNIST)}


def dataset_names() -> list[str]:
    return sorted(DATASETS)


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def is_dataset_name(name: str) -> bool:
    return _normalise(name) in DATASETS


def get_dataset(name: str) -> NamedDataset:
    key = _normalise(name)
    if key in DATASETS:
        return DATASETS[key]
    close = difflib.get_close_matches(key, DATASETS, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise DataError(f"unknown dataset {name!r}: {hint}known datasets: {', '.join(dataset_names())}")


def load_named(
    name: str,
    *,
    split: str = "all",
    path: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Dataset:
    """Load a named dataset; see the module docstring for where it is looked for."""
    check_choice("split", split, SPLITS)
    return get_dataset(name).load(split, path, download)


def describe_datasets() -> list[DatasetInfo]:
    """For each named dataset: where it is found now, or how to get it."""
    return [DATASETS[name].info() for name in dataset_names()]
