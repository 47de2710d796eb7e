"""Download + cache + SHA-256, with file:// mirrors: the network is never touched."""

import hashlib
import logging

import pytest

import nolabel.data.download as download
from nolabel.data import fetch, sha256_file
from nolabel.errors import ChecksumError, DataError, DownloadError

CONTENT = b"pretend this is a gzipped IDX file\n" * 100
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def mirror(tmp_path):
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "data.gz").write_bytes(CONTENT)
    return folder.as_uri() + "/"


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def test_good_file_lands_in_cache(mirror, cache):
    path = fetch([mirror + "data.gz"], "data.gz", SHA, cache)
    assert path == cache / "data.gz"
    assert path.read_bytes() == CONTENT
    assert sha256_file(path) == SHA
    assert [p.name for p in cache.iterdir()] == ["data.gz"]


def test_bad_checksum_keeps_nothing(mirror, cache):
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        fetch([mirror + "data.gz"], "data.gz", wrong, cache)
    message = str(info.value)
    assert "data.gz" in message and wrong in message and SHA in message
    assert list(cache.iterdir()) == []  # neither the file nor a temporary file


def test_second_mirror_used_when_first_fails(mirror, cache, tmp_path):
    dead = (tmp_path / "no-such-mirror").as_uri() + "/"
    path = fetch([dead + "data.gz", mirror + "data.gz"], "data.gz", SHA, cache)
    assert path.read_bytes() == CONTENT


def test_all_mirrors_failing_lists_each(cache, tmp_path):
    dead1 = (tmp_path / "a").as_uri() + "/data.gz"
    dead2 = (tmp_path / "b").as_uri() + "/data.gz"
    with pytest.raises(DownloadError) as info:
        fetch([dead1, dead2], "data.gz", SHA, cache)
    assert dead1 in str(info.value) and dead2 in str(info.value)
    assert list(cache.iterdir()) == []


def test_cached_file_is_used_without_download(cache, monkeypatch):
    cache.mkdir()
    (cache / "data.gz").write_bytes(CONTENT)
    monkeypatch.setattr(download, "_download_to_cache", _no_network)
    assert fetch(["https://example.invalid/data.gz"], "data.gz", SHA, cache).exists()


def test_corrupt_cache_file_is_downloaded_again(mirror, cache, caplog):
    cache.mkdir()
    (cache / "data.gz").write_bytes(CONTENT[:-1])
    with caplog.at_level(logging.WARNING, logger="nolabel.data.download"):
        path = fetch([mirror + "data.gz"], "data.gz", SHA, cache)
    assert path.read_bytes() == CONTENT
    assert "downloading it again" in caplog.text


def test_corrupt_cache_file_without_download_is_an_error(cache):
    cache.mkdir()
    (cache / "data.gz").write_bytes(b"garbage")
    with pytest.raises(ChecksumError, match=r"cached file .*data\.gz"):
        fetch(["file:///nowhere/data.gz"], "data.gz", SHA, cache, download=False)


def test_missing_file_without_download_is_an_error(cache):
    with pytest.raises(DataError, match="downloads are disabled"):
        fetch(["file:///nowhere/data.gz"], "data.gz", SHA, cache, download=False)


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NOLABEL_CACHE", str(tmp_path / "c"))
    assert download.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("NOLABEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.cache_dir() == tmp_path / "xdg" / "nolabel"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert download.cache_dir() == tmp_path / "home" / ".cache" / "nolabel"


def _no_network(*args, **kwargs):
    raise AssertionError("the network must not be used")
