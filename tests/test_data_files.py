"""User files through load(): .npy, .npz, .csv, .parquet, image folders, and their errors."""

import numpy as np
import pytest

from nolabel.data import Dataset, load
from nolabel.errors import DataError, ParameterError


def write(path, text):
    path.write_text(text)
    return path


# --- CSV ---------------------------------------------------------------------------------


def test_csv_with_header_and_named_label(tmp_path):
    path = write(tmp_path / "t.csv", "a,b,kind\n1,2,cat\n3,4.5,dog\n5,6,cat\n")
    data = load(path, label_column="kind")
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4.5], [5, 6]])
    assert data.X.dtype == np.float32
    np.testing.assert_array_equal(data.y, [0, 1, 0])
    assert data.classes == ("cat", "dog")
    assert data.name == "t" and data.source == str(path)


def test_csv_without_header_and_label_index(tmp_path):
    path = write(tmp_path / "t.csv", "1,2,0\n3,4,1\n\n5,6,1\n")
    data = load(path, label_column=-1)
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(data.y, [0, 1, 1])
    assert data.classes is None
    assert load(path).X.shape == (3, 3)  # no label column: every column is a feature


def test_csv_label_by_name_needs_header(tmp_path):
    path = write(tmp_path / "t.csv", "1,2\n3,4\n")
    with pytest.raises(DataError, match="no header row"):
        load(path, label_column="kind")
    path = write(tmp_path / "h.csv", "a,b\n1,2\n")
    with pytest.raises(DataError, match=r"no column 'kind'.*'a', 'b'"):
        load(path, label_column="kind")


def test_csv_non_numeric_column_is_named_with_line(tmp_path):
    path = write(tmp_path / "t.csv", "a,color,b\n1,2,3\n4,red,6\n7,blue,9\n")
    with pytest.raises(DataError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    assert "column 'color' (index 1) is not numeric: line 3 holds 'red'" in message


def test_csv_ragged_row_gives_line_number(tmp_path):
    path = write(tmp_path / "t.csv", "a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(DataError, match=r"line 3 has 2 fields but line 1 \(the header\) has 3"):
        load(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [("a,b,c\n", "header .* but no data rows"), ("", "is empty"), ("\n \n", "is empty")],
)
def test_csv_header_only_or_empty(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        load(write(tmp_path / "t.csv", text))


def test_csv_missing_cells_follow_nan_policy(tmp_path):
    path = write(tmp_path / "t.csv", "a,b\n1,2\n3,\n5,NA\n")
    with pytest.raises(DataError, match="row 1, column 1"):
        load(path)
    np.testing.assert_allclose(load(path, impute="mean").X[:, 1], [2, 2, 2])


def test_tsv(tmp_path):
    assert load(write(tmp_path / "t.tsv", "a\tb\n1\t2\n")).X.shape == (1, 2)


# --- numpy ---------------------------------------------------------------------------------


def test_npy_and_mmap(tmp_path):
    array = np.arange(24, dtype=np.float32).reshape(6, 4)
    np.save(tmp_path / "a.npy", array)
    np.testing.assert_array_equal(load(tmp_path / "a.npy").X, array)
    mapped = load(tmp_path / "a.npy", mmap=True)
    np.testing.assert_array_equal(mapped.X, array)
    assert not mapped.X.flags.owndata  # a view of the mapped file, not a copy


def test_npy_images_gain_channel_axis(tmp_path):
    np.save(tmp_path / "hw.npy", np.zeros((5, 8, 8), dtype=np.uint8))
    np.save(tmp_path / "hwc.npy", np.zeros((5, 8, 8, 3), dtype=np.uint8))
    assert load(tmp_path / "hw.npy").X.shape == (5, 1, 8, 8)
    assert load(tmp_path / "hwc.npy").X.shape == (5, 3, 8, 8)


def test_npy_object_array_is_refused_without_unpickling(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="never does"):
        load(tmp_path / "o.npy")


def test_npz_with_labels(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((4, 3)), y=np.array([0, 1, 1, 0], dtype=np.int32))
    data = load(tmp_path / "d.npz")
    assert data.X.shape == (4, 3) and data.y.dtype == np.int64


def test_npz_missing_x_names_keys(tmp_path):
    np.savez(tmp_path / "d.npz", data=np.ones((4, 3)), labels=np.zeros(4))
    with pytest.raises(DataError, match=r"no array named 'X' \(it holds data, labels\)"):
        load(tmp_path / "d.npz")


def test_npz_labels_must_match_samples(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((4, 3)), y=np.zeros(3, dtype=int))
    with pytest.raises(DataError, match="4 samples but y has 3 labels"):
        load(tmp_path / "d.npz")


# --- paths ---------------------------------------------------------------------------------


def test_path_errors_name_the_path(tmp_path):
    with pytest.raises(DataError, match=r"no such file or folder: .*nothing\.csv"):
        load(tmp_path / "nothing.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataError, match=r"dir\.csv is a folder"):
        load(tmp_path / "dir.csv")
    write(tmp_path / "x.json", "{}")
    with pytest.raises(DataError, match=r"x\.json has an unknown extension '\.json'"):
        load(tmp_path / "x.json")
    write(tmp_path / "fake.npy", "not numpy")
    with pytest.raises(DataError, match=r"fake\.npy is not a \.npy file"):
        load(tmp_path / "fake.npy")


def test_unreadable_file(tmp_path, monkeypatch):
    import nolabel.data.csv_table as csv_table

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    path = write(tmp_path / "secret.csv", "1,2\n")
    monkeypatch.setattr(csv_table, "open", denied, raising=False)
    with pytest.raises(DataError, match=r"secret\.csv cannot be read: permission denied"):
        load(path)


def test_options_that_do_not_apply(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((2, 2)))
    with pytest.raises(ParameterError, match="label_column"):
        load(tmp_path / "a.npy", label_column=0)
    with pytest.raises(ParameterError, match="split= applies to named datasets") as caught:
        load(tmp_path / "a.npy", split="train")
    assert [a.name for a in caught.value.arguments] == ["split"]
    with pytest.raises(ParameterError, match="path= applies to named datasets"):
        load(tmp_path / "a.npy", path=tmp_path)
    with pytest.raises(ParameterError, match="label_column= applies to files and folders"):
        load("digits", label_column=0)


# --- parquet -------------------------------------------------------------------------------


def test_parquet_round_trip(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6], "label": ["x", "y", "x"]})
    pq.write_table(table, tmp_path / "t.parquet")
    data = load(tmp_path / "t.parquet", label_column="label")
    np.testing.assert_array_equal(data.X, [[1, 4], [2, 5], [3, 6]])
    np.testing.assert_array_equal(data.y, [0, 1, 0])
    assert data.classes == ("x", "y")
    assert data.feature_names == ("a", "b")


def test_parquet_nested_and_text_columns_are_named(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0], "deep": [[1, 2], [3]]}), tmp_path / "n.parquet")
    with pytest.raises(DataError, match=r"nested columns .*'deep' \(list<"):
        load(tmp_path / "n.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0], "name": ["u", "v"]}), tmp_path / "s.parquet")
    with pytest.raises(DataError, match="non-numeric columns: 'name'"):
        load(tmp_path / "s.parquet")


def test_parquet_without_pyarrow_says_how_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(DataError, match=r"pip install nolabel\[parquet\]"):
        load(tmp_path / "t.parquet")


# --- image folders -------------------------------------------------------------------------


def _save(path, array):
    Image = pytest.importorskip("PIL.Image")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)  # the mode follows the array: (h, w) gray, (h, w, 3) RGB


def test_image_folder_with_subfolder_labels(tmp_path):
    gray = np.full((6, 5), 255, dtype=np.uint8)
    for cls, count in (("cats", 2), ("dogs", 3)):
        for i in range(count):
            _save(tmp_path / "imgs" / cls / f"{i}.png", gray)
    data = load(tmp_path / "imgs")
    assert data.X.shape == (5, 1, 6, 5)  # (n, channels, height, width)
    assert data.X.max() == 1.0
    np.testing.assert_array_equal(data.y, [0, 0, 1, 1, 1])
    assert data.classes == ("cats", "dogs")


def test_image_folder_mixes_gray_and_color_as_rgb(tmp_path):
    _save(tmp_path / "a.png", np.zeros((4, 4), dtype=np.uint8))
    _save(tmp_path / "b.png", np.full((4, 4, 3), 255, dtype=np.uint8))
    data = load(tmp_path)
    assert data.X.shape == (2, 3, 4, 4) and data.y is None
    assert data.X[0].max() == 0.0 and data.X[1].min() == 1.0


def test_image_folder_mixed_sizes_names_two_files(tmp_path):
    _save(tmp_path / "small.png", np.zeros((4, 4), dtype=np.uint8))
    _save(tmp_path / "wide.png", np.zeros((4, 6), dtype=np.uint8))
    with pytest.raises(DataError, match=r"small\.png is 4x4 but .*wide\.png is 6x4"):
        load(tmp_path)


def test_image_folder_errors(tmp_path):
    pytest.importorskip("PIL")
    with pytest.raises(DataError, match="holds no images"):
        load(tmp_path)
    write(tmp_path / "broken.png", "not a png")
    with pytest.raises(DataError, match=r"broken\.png is not a readable image"):
        load(tmp_path)


def test_csv_cells_with_separator_control_characters_are_read_like_python_strips_them(tmp_path):
    # str.strip() removes \x1c-\x1f but float() does not accept them: found by fuzzing.
    path = tmp_path / "t.csv"
    path.write_text("a,b\n\x1c1,2\n3,4\x1f\n")
    assert load(path).X.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_float_labels_too_large_for_integers_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"labels must be integers.*y\[1\]"):
        Dataset(np.zeros((2, 3), dtype=np.float32), y=np.array([1.0, 1e300]))


def test_image_folder_class_keeps_images_nested_below_it(tmp_path):
    """A class folder's images at any depth belong to it (a label with a slash, "T-shirt/top",
    makes T-shirt/top/); hidden folders stay out."""
    gray = np.zeros((4, 4), dtype=np.uint8)
    _save(tmp_path / "Bag" / "0.png", gray)
    _save(tmp_path / "T-shirt" / "top" / "1.png", gray)
    _save(tmp_path / "T-shirt" / "top" / "2.png", gray)
    _save(tmp_path / "Bag" / ".thumbnails" / "0.png", gray)
    data = load(tmp_path)
    assert data.classes == ("Bag", "T-shirt")
    np.testing.assert_array_equal(data.y, [0, 1, 1])
