"""Named datasets: lookup order, structural checks, cache + SHA-256, and the real data."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import nolabel.data.download as download
from nolabel.data import dataset_names, describe_datasets, load, registry, sha256_file, write_idx
from nolabel.errors import ChecksumError, DataError, ParameterError

N_TRAIN, N_TEST = 20, 10
DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """An empty cache, no $NOLABEL_DATA, no system folders, tiny counts, no network."""
    monkeypatch.setenv("NOLABEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NOLABEL_DATA", raising=False)
    for name in ("fashion-mnist", "mnist"):
        spec = registry.DATASETS[name]
        tiny = dataclasses.replace(
            spec, counts={"train": N_TRAIN, "test": N_TEST}, system_folders=()
        )
        monkeypatch.setitem(registry.DATASETS, name, tiny)
    monkeypatch.setattr(download.urllib.request, "urlopen", _only_local_urls)


_real_urlopen = download.urllib.request.urlopen


def _only_local_urls(request, *args, **kwargs):
    url = request.full_url if hasattr(request, "full_url") else request
    assert url.startswith("file:"), f"a test tried to reach {url}"
    return _real_urlopen(request, *args, **kwargs)


def make_idx_folder(folder: Path, seed: int = 0, compress: bool = True) -> dict:
    """The four IDX files of a tiny MNIST-like set; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        suffix = ".gz" if compress else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        arrays[prefix] = (images, labels)
    return arrays


def test_fashion_mnist_from_path(tmp_path):
    arrays = make_idx_folder(tmp_path / "fm")
    data = load("fashion-mnist", path=tmp_path / "fm")
    assert data.X.shape == (N_TRAIN + N_TEST, 1, 28, 28)
    assert data.X.dtype == np.float32
    assert 0.0 <= data.X.min() and data.X.max() <= 1.0
    np.testing.assert_allclose(data.X[0, 0] * 255, arrays["train"][0][0], atol=1e-3)
    np.testing.assert_allclose(data.X[N_TRAIN, 0] * 255, arrays["t10k"][0][0], atol=1e-3)
    assert data.y.dtype == np.int64 and data.classes[0] == "T-shirt/top"
    assert data.source == str(tmp_path / "fm")
    test = load("fashion-mnist", split="test", path=tmp_path / "fm")
    assert test.n_samples == N_TEST and test.name == "fashion-mnist-test"


def test_uncompressed_files_are_accepted(tmp_path):
    make_idx_folder(tmp_path / "raw", compress=False)
    assert load("fashion-mnist", split="train", path=tmp_path / "raw").n_samples == N_TRAIN


def test_fashion_mnist_from_nolabel_data(tmp_path, monkeypatch):
    make_idx_folder(tmp_path / "data" / "fashion-mnist")
    monkeypatch.setenv("NOLABEL_DATA", str(tmp_path / "data"))
    data = load("fashion-mnist", split="train")
    assert data.source == str(tmp_path / "data" / "fashion-mnist")
    info = {i.name: i for i in describe_datasets()}["fashion-mnist"]
    assert info.available and info.where == data.source


def test_explicit_path_without_files_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="does not hold the fashion-mnist files"):
        load("fashion-mnist", path=tmp_path / "empty")


def test_wrong_count_in_local_folder_is_an_error(tmp_path, monkeypatch):
    make_idx_folder(tmp_path / "fm")
    spec = dataclasses.replace(registry.DATASETS["fashion-mnist"], counts={"train": 60000})
    monkeypatch.setitem(registry.DATASETS, "fashion-mnist", spec)
    with pytest.raises(DataError, match=r"train-images.*shape \(20, 28, 28\).*60000"):
        load("fashion-mnist", split="train", path=tmp_path / "fm")


def _publish(tmp_path, monkeypatch, name="mnist"):
    """Fixture files on a file:// mirror, with the spec's checksums set to theirs."""
    mirror = tmp_path / "mirror"
    arrays = make_idx_folder(mirror, seed=1)
    spec = registry.DATASETS[name]
    files = {
        split: tuple(dataclasses.replace(f, sha256=sha256_file(mirror / f.filename)) for f in pair)
        for split, pair in spec.files.items()
    }
    spec = dataclasses.replace(spec, files=files, mirrors=(mirror.as_uri() + "/",))
    monkeypatch.setitem(registry.DATASETS, name, spec)
    return spec, arrays


def test_mnist_from_cache_with_checksums(tmp_path, monkeypatch):
    _, arrays = _publish(tmp_path, monkeypatch)
    cache = tmp_path / "cache" / "mnist"
    make_idx_folder(cache, seed=1)  # the same bytes as the "published" files
    data = load("mnist", download=False)
    assert data.source == str(cache)
    np.testing.assert_array_equal(data.y[:N_TRAIN], arrays["train"][1])
    # A cached file that no longer matches its digest is refused.
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"corrupt")
    with pytest.raises(ChecksumError, match="t10k-labels"):
        load("mnist", download=False)


def test_mnist_downloaded_into_cache(tmp_path, monkeypatch):
    _publish(tmp_path, monkeypatch)
    data = load("mnist", split="test")
    assert data.n_samples == N_TEST
    cached = sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir())
    assert cached == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_published_checksum_mismatch_on_download(tmp_path, monkeypatch):
    spec, _ = _publish(tmp_path, monkeypatch)
    files = dict(spec.files)
    files["test"] = (dataclasses.replace(files["test"][0], sha256="ab" * 32), files["test"][1])
    monkeypatch.setitem(registry.DATASETS, "mnist", dataclasses.replace(spec, files=files))
    with pytest.raises(ChecksumError, match="t10k-images"):
        load("mnist", split="test")
    assert not (tmp_path / "cache" / "mnist" / "t10k-images-idx3-ubyte.gz").exists()


def test_not_found_and_no_download_says_how_to_get_it():
    with pytest.raises(DataError, match=r"download=False.*NOLABEL_DATA"):
        load("mnist", download=False)
    info = {i.name: i for i in describe_datasets()}
    assert not info["mnist"].available and "downloaded on first use" in info["mnist"].where
    assert info["digits"].available


def test_names_and_unknown_name_suggestion(tmp_path):
    assert dataset_names() == ["digits", "fashion-mnist", "mnist"]
    with pytest.raises(DataError, match="did you mean 'fashion-mnist'"):
        load("fashion-mnst")
    with pytest.raises(DataError, match="did you mean 'mnist'"):
        load("mnsit")
    make_idx_folder(tmp_path / "fm")
    assert load("Fashion_MNIST", path=tmp_path / "fm").name == "fashion-mnist"


def test_bad_split():
    with pytest.raises(ParameterError, match="split"):
        load("digits", split="validation")
    with pytest.raises(ParameterError, match="no predefined train/test split"):
        load("digits", split="train")


def test_digits():
    data = load("digits")
    assert data.X.shape == (1797, 1, 8, 8)
    assert data.X.dtype == np.float32
    assert data.X.min() == 0.0 and data.X.max() == 1.0
    assert sorted(np.unique(data.y)) == list(range(10))
    assert data.source == "sklearn"


@pytest.mark.skipif(
    not DEBIAN.is_dir(), reason=f"{DEBIAN} absent (apt-get install dataset-fashion-mnist)"
)
def test_real_fashion_mnist_from_debian_package(monkeypatch):
    monkeypatch.setitem(registry.DATASETS, "fashion-mnist", registry.FASHION_MNIST)
    data = load("fashion-mnist", split="test", download=False)
    assert data.source == str(DEBIAN)
    assert data.X.shape == (10000, 1, 28, 28)
    assert data.X.min() == 0.0 and data.X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(data.y), [1000] * 10)
