"""Data for nolabel: named datasets, user files, IDX, download cache, preprocessing.

``load(source)`` turns a dataset name or a path into a validated :class:`Dataset`.
"""

from nolabel.data.dataset import Dataset, DatasetInfo
from nolabel.data.download import cache_dir, fetch, sha256_file
from nolabel.data.idx import read_idx, write_idx
from nolabel.data.loader import load
from nolabel.data.preprocess import (
    binarize,
    clean,
    minmax_scale,
    standardize,
    train_test_split,
)
from nolabel.data.registry import dataset_names, describe_datasets

__all__ = [
    "Dataset",
    "DatasetInfo",
    "binarize",
    "cache_dir",
    "clean",
    "dataset_names",
    "describe_datasets",
    "fetch",
    "load",
    "minmax_scale",
    "read_idx",
    "sha256_file",
    "standardize",
    "train_test_split",
    "write_idx",
]
