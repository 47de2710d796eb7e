"""The 1,797 8x8 UCI digits bundled with scikit-learn: the offline dataset for demos."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from nolabel.data.dataset import Dataset, DatasetInfo
from nolabel.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class SklearnDigits:
    name: str = "digits"
    description: str = "1,797 8x8 handwritten digits (UCI), 10 classes, bundled with scikit-learn"

    def load(self, split: str, path: str | os.PathLike[str] | None, download: bool) -> Dataset:
        if path is not None:
            raise ParameterError("digits ships with scikit-learn; path= does not apply to it")
        if split != "all":
            raise ParameterError(
                "digits has no predefined train/test split; load split='all' and use "
                "nolabel.data.train_test_split"
            )
        from sklearn.datasets import load_digits

        bunch = load_digits()
        X = (bunch.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
        classes = tuple(str(c) for c in bunch.target_names)
        return Dataset(X, bunch.target, name=self.name, source="sklearn", classes=classes)

    def info(self) -> DatasetInfo:
        return DatasetInfo(self.name, self.description, True, "bundled with scikit-learn")
