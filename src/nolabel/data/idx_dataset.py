"""A dataset of 28x28 grayscale images stored as IDX files (MNIST, Fashion-MNIST).

Looked for, in order: the ``path=`` folder (only there, when given), ``$NOLABEL_DATA/<name>``,
``$NOLABEL_DATA``, the cache when it holds every file, system folders (the Debian package
``dataset-fashion-mnist``), and last by downloading into the cache when allowed.
Local folders are checked by structure (the Debian package recompressed the files, so their
digests differ from the published ones); only files in the cache are checked by SHA-256.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from nolabel.data.dataset import Dataset, DatasetInfo
from nolabel.data.download import cache_dir, fetch
from nolabel.data.idx import read_idx
from nolabel.errors import DataError


@dataclasses.dataclass(frozen=True)
class IdxFile:
    filename: str  # the published, gzipped name
    sha256: str  # of the published file


@dataclasses.dataclass(frozen=True)
class IdxDataset:
    name: str
    description: str
    files: Mapping[str, tuple[IdxFile, IdxFile]]  # split -> (images, labels)
    counts: Mapping[str, int]  # split -> number of images
    mirrors: tuple[str, ...]  # base URLs, tried in order
    classes: tuple[str, ...]
    system_folders: tuple[Path, ...] = ()
    install_hint: str = ""
    image_shape: tuple[int, int] = (28, 28)

    def _needed(self, split: str) -> list[IdxFile]:
        return [f for s in _splits(split) for f in self.files[s]]

    def env_folders(self) -> list[Path]:
        if not os.environ.get("NOLABEL_DATA"):
            return []
        root = Path(os.environ["NOLABEL_DATA"]).expanduser()
        # The subfolder first: MNIST and Fashion-MNIST use the same file names.
        return [root / self.name, root]

    def cache_folder(self) -> Path:
        return cache_dir() / self.name

    def _is_cached(self, needed: list[IdxFile]) -> bool:
        return all((self.cache_folder() / f.filename).is_file() for f in needed)

    def load(self, split: str, path: str | os.PathLike[str] | None, download: bool) -> Dataset:
        needed = self._needed(split)
        if path is not None:
            folder = Path(path).expanduser()
            found = find_files(folder, needed)
            if found is None:
                raise DataError(
                    f"path={str(folder)!r} does not hold the {self.name} files "
                    f"{', '.join(f.filename for f in needed)} (gzipped or not)"
                )
            return self._read(split, found, str(folder))
        for folder in self.env_folders():
            if (found := find_files(folder, needed)) is not None:
                return self._read(split, found, str(folder))
        if not self._is_cached(needed):
            for folder in self.system_folders:
                if (found := find_files(folder, needed)) is not None:
                    return self._read(split, found, str(folder))
            if not download:
                raise DataError(
                    f"{self.name} was not found and download=False. {self.how_to_get()}"
                )
        return self._read(split, self._fetch(needed, download), str(self.cache_folder()))

    def _fetch(self, needed: list[IdxFile], download: bool) -> dict[str, Path]:
        """Each file from the cache (SHA-256 checked), downloaded when missing or corrupt."""
        return {
            f.filename: fetch(
                [mirror + f.filename for mirror in self.mirrors],
                f.filename,
                f.sha256,
                self.cache_folder(),
                download=download,
            )
            for f in needed
        }

    def _read(self, split: str, paths: Mapping[str, Path], source: str) -> Dataset:
        images, labels = [], []
        for s in _splits(split):
            image_file, label_file = (paths[f.filename] for f in self.files[s])
            X, y = read_idx(image_file), read_idx(label_file)
            self._check(s, image_file, X, label_file, y)
            images.append(X)
            labels.append(y)
        X = np.concatenate(images).astype(np.float32)[:, None]
        X /= 255.0
        name = self.name if split == "all" else f"{self.name}-{split}"
        return Dataset(X, np.concatenate(labels), name=name, source=source, classes=self.classes)

    def _check(
        self, split: str, image_file: Path, X: np.ndarray, label_file: Path, y: np.ndarray
    ) -> None:
        count = self.counts[split]
        if X.dtype != np.uint8 or X.shape != (count, *self.image_shape):
            raise DataError(
                f"{image_file} holds {X.dtype} images of shape {X.shape}; the {self.name} "
                f"{split} split is uint8 of shape {(count, *self.image_shape)}"
            )
        if y.dtype != np.uint8 or y.shape != (count,):
            raise DataError(
                f"{label_file} holds {y.dtype} labels of shape {y.shape}; the {self.name} "
                f"{split} split has {count} uint8 labels"
            )
        if y.max(initial=0) >= len(self.classes):
            raise DataError(
                f"{label_file} holds label {int(y.max())}, but {self.name} has "
                f"{len(self.classes)} classes"
            )

    def how_to_get(self) -> str:
        files = ", ".join(f.filename for f in self._needed("all"))
        hint = (
            f"It is downloaded on first use into {self.cache_folder()} (set NOLABEL_CACHE to "
            f"change where), or put {files} in $NOLABEL_DATA/{self.name}, or pass path="
        )
        return f"{hint}{'; or ' + self.install_hint if self.install_hint else ''}."

    def info(self) -> DatasetInfo:
        needed = self._needed("all")

        def found(where: str) -> DatasetInfo:
            return DatasetInfo(self.name, self.description, True, where)

        for folder in self.env_folders():
            if find_files(folder, needed) is not None:
                return found(str(folder))
        if self._is_cached(needed):
            return found(f"{self.cache_folder()} (checked by SHA-256 when loaded)")
        for folder in self.system_folders:
            if find_files(folder, needed) is not None:
                return found(str(folder))
        return DatasetInfo(self.name, self.description, False, f"not found. {self.how_to_get()}")


def _splits(split: str) -> tuple[str, ...]:
    return ("train", "test") if split == "all" else (split,)


def find_files(folder: Path, needed: list[IdxFile]) -> dict[str, Path] | None:
    """The path of each needed file in ``folder`` (gzipped or not), or None if one is missing."""
    found = {}
    for f in needed:
        candidates = (folder / f.filename, folder / f.filename.removesuffix(".gz"))
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            return None
        found[f.filename] = path
    return found


def idx_files(hashes: Mapping[str, str]) -> dict[str, tuple[IdxFile, IdxFile]]:
    """The usual four file names (train-*, t10k-*) paired with their published SHA-256."""
    prefix = {"train": "train", "test": "t10k"}
    return {
        split: (
            IdxFile(f"{p}-images-idx3-ubyte.gz", hashes[f"{p}-images-idx3-ubyte.gz"]),
            IdxFile(f"{p}-labels-idx1-ubyte.gz", hashes[f"{p}-labels-idx1-ubyte.gz"]),
        )
        for split, p in prefix.items()
    }
