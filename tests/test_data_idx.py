"""IDX reader and writer: round trips, and clear errors for damaged files."""

import gzip

import numpy as np
import pytest

from nolabel.data import read_idx, write_idx
from nolabel.errors import DataError

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("compress", [True, False])
def test_round_trip_every_dtype(tmp_path, dtype, compress):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(5, 3, 4)) * 100).astype(dtype)
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") is compress
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian_and_compression_follows_suffix(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros((2, 300), dtype=np.int16))
    raw = gzip.decompress((tmp_path / "x.gz").read_bytes())
    assert raw[:4] == bytes([0, 0, 0x0B, 2])
    assert raw[4:12] == (2).to_bytes(4, "big") + (300).to_bytes(4, "big")
    assert len(raw) == 12 + 2 * 300 * 2


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    write_idx(tmp_path / "x.gz", np.ones((3, 2), dtype=np.uint8))
    with pytest.raises(DataError, match="cannot store dtype"):
        write_idx(tmp_path / "y.gz", np.ones((3, 2), dtype=np.uint64))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gz"]


def _images(tmp_path, compress):
    array = np.arange(20 * 28 * 28, dtype=np.int64).reshape(20, 28, 28).astype(np.uint8)
    return write_idx(tmp_path / "images", array, compress=compress)


def test_truncated_gzip_names_file(tmp_path):
    path = _images(tmp_path, compress=True)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"images.*(truncated|corrupt)"):
        read_idx(path)


def test_truncated_payload_says_expected_and_found(tmp_path):
    path = _images(tmp_path, compress=False)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    assert "header says 20x28x28 = 15680 bytes, found 984" in message


def test_truncated_payload_inside_gzip(tmp_path):
    path = tmp_path / "t.gz"
    raw = gzip.decompress(_images(tmp_path, compress=True).read_bytes())
    path.write_bytes(gzip.compress(raw[:500]))
    with pytest.raises(DataError, match=r"t\.gz is truncated: header says 20x28x28"):
        read_idx(path)


def test_extra_bytes_are_an_error(tmp_path):
    path = _images(tmp_path, compress=False)
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="longer than its header"):
        read_idx(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x01\x02\x08\x01\x00\x00\x00\x01\x00", "not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated inside its header"),
        (b"", "not an IDX file"),
    ],
)
def test_bad_header_names_file(tmp_path, content, message):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    gz = tmp_path / "bad.gz"
    gz.write_bytes(gzip.compress(content))
    with pytest.raises(DataError, match=message):
        read_idx(gz)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nothing.gz")
    with pytest.raises(DataError, match="is a folder"):
        read_idx(tmp_path)
