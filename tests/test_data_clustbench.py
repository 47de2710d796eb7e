"""Reading clustering-benchmark batteries: the real files, and malformed ones."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from _shared_data import CLUSTBENCH
from nolabel.data.clustbench import list_clustbench, load_clustbench
from nolabel.errors import DataError

needs_clustbench = pytest.mark.skipif(
    not (CLUSTBENCH / "fcps").is_dir(),
    reason=f"clustering benchmarks not found at {CLUSTBENCH} (AGPL data, never shipped)",
)


def write_gz(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(text)
    return path


@pytest.fixture
def battery(tmp_path):
    write_gz(tmp_path / "toy.data.gz", "0 0\n0.5 1e-3\n\n10 10\n11 -9.5\n")
    write_gz(tmp_path / "toy.labels0.gz", "1\n1\n2\n2\n")
    write_gz(tmp_path / "toy.labels1.gz", "1\n0\n2\n3\n")
    write_gz(tmp_path / "other.data.gz", "1\n2\n")
    write_gz(tmp_path / "other.labels0.gz", "1\n2\n")
    (tmp_path / "README.txt").write_text("not a dataset")
    return tmp_path


@needs_clustbench
def test_lists_the_real_batteries():
    assert list_clustbench(CLUSTBENCH / "fcps") == [
        "atom", "chainlink", "engytime", "hepta", "lsun", "target", "tetra", "twodiamonds",
        "wingnut",
    ]
    assert "wine" in list_clustbench(CLUSTBENCH / "uci")


@needs_clustbench
@pytest.mark.parametrize(
    ("battery_name", "name", "shape", "ks"),
    [
        ("fcps", "hepta", (212, 3), [7]),
        ("fcps", "target", (770, 2), [6, 2]),
        ("fcps", "engytime", (4096, 2), [2, 2]),
        ("uci", "wine", (178, 13), [3]),
    ],
)
def test_loads_real_datasets(battery_name, name, shape, ks):
    X, references = load_clustbench(CLUSTBENCH / battery_name, name)
    assert X.shape == shape and X.dtype == np.float64 and np.isfinite(X).all()
    assert [int(labels.max()) for labels in references] == ks
    for labels, k in zip(references, ks, strict=True):
        assert labels.dtype == np.int64 and labels.shape == (shape[0],)
        # Clusters 1..k are all used; 0 (noise) may or may not be.
        assert set(np.unique(labels[labels > 0])) == set(range(1, k + 1))


@needs_clustbench
def test_target_second_reference_marks_noise_points():
    _, (_, with_noise) = load_clustbench(CLUSTBENCH / "fcps", "target")
    assert (with_noise == 0).sum() == 12


def test_reads_points_and_references_in_order(battery):
    assert list_clustbench(battery) == ["other", "toy"]
    X, references = load_clustbench(battery, "toy")
    np.testing.assert_array_equal(X, [[0, 0], [0.5, 1e-3], [10, 10], [11, -9.5]])
    assert [r.tolist() for r in references] == [[1, 1, 2, 2], [1, 0, 2, 3]]
    X, references = load_clustbench(battery, "other")
    assert X.shape == (2, 1) and len(references) == 1


def test_labels_are_sorted_by_number_not_by_name(tmp_path):
    write_gz(tmp_path / "d.data.gz", "1\n2\n")
    for k in (0, 2, 10):
        write_gz(tmp_path / f"d.labels{k}.gz", f"1\n{1 + k}\n")
    _, references = load_clustbench(tmp_path, "d")
    assert [int(r[1]) for r in references] == [1, 3, 11]


def test_row_of_the_wrong_width_names_file_and_line(battery):
    write_gz(battery / "toy.data.gz", "0 0\n1 1\n2 2 2\n3 3\n")
    with pytest.raises(DataError, match=r"toy\.data\.gz, line 3: 3 values, but line 1 has 2"):
        load_clustbench(battery, "toy")


def test_non_number_names_file_line_and_column(battery):
    write_gz(battery / "toy.data.gz", "0 0\n1 1\n2 abc\n3 3\n")
    with pytest.raises(DataError, match=r"toy\.data\.gz, line 3, column 2: 'abc' is not a number"):
        load_clustbench(battery, "toy")


def test_non_finite_value_is_refused(battery):
    write_gz(battery / "toy.data.gz", "0 0\n1 nan\n2 2\n3 3\n")
    with pytest.raises(DataError, match=r"line 2, column 2: 'nan' is not a finite number"):
        load_clustbench(battery, "toy")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1\n1\n2.5\n2\n", r"toy\.labels1\.gz, line 3: '2\.5' is not an integer label"),
        ("1\n1\n2 2\n2\n", r"toy\.labels1\.gz, line 3: expected one label, found 2 values"),
        ("1\n-1\n2\n2\n", r"toy\.labels1\.gz, line 2: label -1 is negative"),
        ("1\n1\n2\n", r"toy\.labels1\.gz has 3 labels but .*toy\.data\.gz has 4 points"),
        ("0\n0\n0\n0\n", r"toy\.labels1\.gz marks every point as noise"),
    ],
)
def test_malformed_labels_name_file_and_line(battery, text, message):
    write_gz(battery / "toy.labels1.gz", text)
    with pytest.raises(DataError, match=message):
        load_clustbench(battery, "toy")


def test_missing_pieces_are_reported(battery, tmp_path):
    with pytest.raises(DataError, match=r"has no dataset 'nope'.*it holds: other, toy"):
        load_clustbench(battery, "nope")
    write_gz(battery / "lonely.data.gz", "1\n")
    with pytest.raises(DataError, match="no reference labels for 'lonely'"):
        load_clustbench(battery, "lonely")
    with pytest.raises(DataError, match="is not a folder"):
        list_clustbench(tmp_path / "absent")


def test_empty_and_non_gzip_files_are_refused(battery):
    write_gz(battery / "toy.data.gz", "\n\n")
    with pytest.raises(DataError, match=r"toy\.data\.gz holds no points"):
        load_clustbench(battery, "toy")
    (battery / "toy.data.gz").write_text("0 0\n1 1\n")
    with pytest.raises(DataError, match=r"toy\.data\.gz is not a readable gzip file"):
        load_clustbench(battery, "toy")
