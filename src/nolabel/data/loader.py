"""``load``: one entry point from a dataset name or a path to a validated Dataset."""

from __future__ import annotations

import os
from pathlib import Path

from nolabel.data.dataset import Dataset
from nolabel.data.files import read_path
from nolabel.data.preprocess import clean_rows
from nolabel.data.registry import get_dataset, is_dataset_name, load_named
from nolabel.errors import Argument, DataError, ParameterError

# Arguments that read files, refused for named datasets (which come in one shape).
_FILE_ONLY = ("label_column", "mmap", "image_size", "channels", "delimiter")


def _looks_like_path(source: str) -> bool:
    return os.sep in source or "/" in source or bool(Path(source).suffix)


def load(
    source: str | os.PathLike[str],
    *,
    split: str = "all",
    path: str | os.PathLike[str] | None = None,
    label_column: str | int | None = None,
    impute: str | None = None,
    download: bool = True,
    mmap: bool = False,
    image_size: int | tuple[int, int] | None = None,
    channels: int | None = None,
    resize: str = "crop",
    delimiter: str | None = None,
    verbose: int = 0,
) -> Dataset:
    """Load a named dataset (``"digits"``, ``"fashion-mnist"``, ``"mnist"``) or a file/folder.

    Named datasets take ``split`` ("train", "test" or "all" = train then test), ``path`` (a
    folder holding their files) and ``download``. Files take ``label_column`` (CSV/Parquet)
    and ``mmap`` (.npy). NaN/inf are an error naming the first bad row and column unless
    ``impute`` is "mean", "median" or "drop".

    Folders of images take ``image_size=(height, width)`` (an int: a square) to bring
    images of any size to one, resampled with a Lanczos filter (sharp, and it smooths before
    shrinking so small images do not alias); without it they must share one size.
    ``resize="crop"`` (default) keeps the aspect ratio by cutting the centre to the target's
    proportions: every pixel stays image content, and no border tells the model which
    images had which shape, at the price of the edges; ``resize="pad"`` keeps the whole
    image and fills the rest with black. ``channels=1`` makes them greyscale, ``channels=3``
    RGB (default: greyscale if every image is, RGB otherwise).

    CSV files take ``delimiter``: None (default) detects ``,`` ``;`` tab or ``|`` from the
    first lines; or force one character. ``verbose=1`` prints how the source was read (the
    delimiter, the header, what was resized).
    """
    if not isinstance(source, str | os.PathLike):
        raise ParameterError(
            f"source must be a dataset name or a path to a file or folder, got {source!r}"
        )
    if isinstance(source, str) and is_dataset_name(source):
        given = {"label_column": label_column, "mmap": mmap, "image_size": image_size,
                 "channels": channels, "delimiter": delimiter}
        for name in _FILE_ONLY:
            if given[name] is not None and given[name] is not False:
                argument = Argument(name)
                raise ParameterError(f"{argument} applies to files and folders, not to the "
                                     f"named dataset {source!r}", arguments=[argument])
        return load_named(source, split=split, path=path, download=download)
    if isinstance(source, str) and not Path(source).expanduser().exists():
        if not _looks_like_path(source):
            try:
                get_dataset(source)
            except DataError as exc:
                raise DataError(f"{exc}; nor is it a file or folder",
                                arguments=exc.arguments) from None
        raise DataError(f"no such file or folder: {source}")
    for name, value in (("split", split != "all"), ("path", path is not None)):
        if value:
            argument = Argument(name)
            raise ParameterError(f"{argument} applies to named datasets, not to files",
                                 arguments=[argument])
    file = Path(source).expanduser()
    raw = read_path(
        file, label_column=label_column, mmap=mmap, image_size=image_size, channels=channels,
        resize=resize, delimiter=delimiter,
    )
    if verbose and raw.notes:
        print(f"{file}: {'; '.join(raw.notes)}", flush=True)
    X, kept = clean_rows(raw.X, impute=impute, name=str(file))
    y = raw.y if kept is None or raw.y is None else raw.y[kept]
    return Dataset(X, y, name=file.stem or file.name, source=str(file), classes=raw.classes,
                   feature_names=raw.feature_names)
