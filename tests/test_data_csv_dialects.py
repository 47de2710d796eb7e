"""CSV files as people write them: ',' ';' tab or '|' delimiters, detected or forced, with and
without a header, with a text label column; errors keep naming the file, line and column."""

import numpy as np
import pytest

from nolabel.data import load
from nolabel.data.csv_table import detect_delimiter
from nolabel.errors import DataError, ParameterError

ROWS = [(1.5, -2.0, "ant"), (3.0, 4.25, "bee"), (5.0, 6.0, "ant"), (7.5, 8.0, "cat")]


def _table(path, delimiter, header=True, rows=ROWS):
    lines = [delimiter.join(("height", "width", "species"))] if header else []
    lines += [delimiter.join(f"{cell}" for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _check(data):
    np.testing.assert_array_equal(data.X, [row[:2] for row in ROWS])
    assert data.classes == ("ant", "bee", "cat")
    np.testing.assert_array_equal(data.y, [0, 1, 0, 2])


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_header_and_text_label_by_name(tmp_path, delimiter):
    _check(load(_table(tmp_path / "t.csv", delimiter), label_column="species"))


def test_header_names_the_features_and_leaves_out_the_label_column(tmp_path):
    # The report labels its per-feature panels with these names ("column 0.." without them).
    assert load(_table(tmp_path / "t.csv", ","), label_column="species").feature_names == (
        "height", "width")
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("a,kind,b\n1,0,2\n3,1,4\n")
    assert load(numeric, label_column=1).feature_names == ("a", "b")
    assert load(numeric).feature_names == ("a", "kind", "b")
    assert load(_table(tmp_path / "n.csv", ";", header=False),
                label_column=-1).feature_names is None


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_no_header_and_text_label_by_index(tmp_path, delimiter):
    path = _table(tmp_path / "t.csv", delimiter, header=False)
    _check(load(path, label_column=-1))
    with pytest.raises(DataError, match="has no header row"):
        load(path, label_column="species")


def test_label_column_given_as_text_of_a_number(tmp_path):
    # The command line passes every value as text: "2" is a name if a column has it, else
    # an index.
    path = _table(tmp_path / "t.csv", "\t", header=False)
    _check(load(path, label_column="2"))
    _check(load(path, label_column="-1"))
    named = tmp_path / "n.csv"
    named.write_text("2;a\nx;1\ny;2\n")
    data = load(named, label_column="2")
    assert data.classes == ("x", "y") and data.X.ravel().tolist() == [1, 2]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_without_label_column_the_text_column_is_named(tmp_path, delimiter):
    path = _table(tmp_path / "t.csv", delimiter)
    with pytest.raises(DataError) as caught:
        load(path)
    message = str(caught.value)
    assert f"{path}: column 'species' (index 2) is not numeric: line 2 holds 'ant'" in message
    assert "label_column='species'" in message
    assert [a.name for a in caught.value.arguments] == ["label_column"]


def test_numeric_semicolon_table_without_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1;2;3\n4;5;6\n")
    np.testing.assert_array_equal(load(path).X, [[1, 2, 3], [4, 5, 6]])


def test_decimal_commas_inside_semicolon_fields(tmp_path):
    # ',' splits every line into 3 fields too; ';' is preferred, and the error says why the
    # cells are not numbers, naming the file, line and column.
    path = tmp_path / "t.csv"
    path.write_text("a;b\n1,5;2,25\n3,0;4,5\n")
    assert detect_delimiter(path) == ";"
    with pytest.raises(DataError, match=r"t\.csv: column 'a' \(index 0\) is not numeric: "
                       r"line 2 holds '1,5' \(a decimal comma\?"):
        load(path)


def test_quoted_fields_holding_other_delimiters(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('name;x;y\n"Smith, J.";1;2\n"Doe; A.";3;4\n')
    data = load(path, label_column="name")
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4]])
    assert data.classes == ("Doe; A.", "Smith, J.")


def test_one_column_has_no_delimiter(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("value\n1.5\n2.5\n")
    assert detect_delimiter(path) is None
    np.testing.assert_array_equal(load(path).X, [[1.5], [2.5]])


def test_detection_reads_only_the_start_of_a_long_file(tmp_path):
    path = tmp_path / "t.csv"
    rows = np.arange(30000, dtype=float).reshape(-1, 3)  # ~200 KB, beyond the sample
    path.write_text("\n".join(";".join(f"{v:g}" for v in row) for row in rows) + "\n")
    np.testing.assert_array_equal(load(path).X, rows)


def test_verbose_says_which_delimiter(tmp_path, capsys):
    load(_table(tmp_path / "t.csv", ";"), label_column="species", verbose=1)
    out = capsys.readouterr().out
    assert "delimiter ';' (detected)" in out and "a header row" in out
    load(_table(tmp_path / "u.csv", "\t", header=False), label_column=2, delimiter="\t",
         verbose=1)
    out = capsys.readouterr().out
    assert "delimiter tab (given)" in out and "no header row" in out


def test_forced_delimiter_wins_and_a_wrong_one_names_the_right_one(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b\n1;2\n3;4\n")
    np.testing.assert_array_equal(load(path, delimiter=";").X, [[1, 2], [3, 4]])
    with pytest.raises(DataError) as caught:
        load(path, delimiter=",")
    message = str(caught.value)
    assert "line 2 holds '1;2'" in message and "pass delimiter=';'" in message
    assert "label_column" not in message  # the delimiter explains it, not a label column
    assert ("delimiter", ";") in [(a.name, a.value) for a in caught.value.arguments]


def test_ragged_semicolon_row_names_its_line_and_the_delimiter(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b;c\n1;2;3\n4;5\n6;7;8\n")
    with pytest.raises(DataError, match=r"t\.csv: line 3 has 2 fields but line 1 \(the header\) "
                       r"has 3 \(read with delimiter ';' \(detected\)"):
        load(path)


def test_missing_cells_in_a_tab_file_follow_the_nan_policy(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n1\t\n3\t4\n5\t8\n")
    with pytest.raises(DataError, match=r"has a NaN at row 0, column 1") as caught:
        load(path)
    assert "nolabel.data.load(..., impute='mean')" in str(caught.value)
    np.testing.assert_allclose(load(path, impute="mean").X[:, 1], [6, 4, 8])


@pytest.mark.parametrize("bad", ["", ";;", "\n", 3])
def test_bad_delimiter_is_named(tmp_path, bad):
    path = _table(tmp_path / "t.csv", ",")
    with pytest.raises(ParameterError, match="delimiter must be one character"):
        load(path, delimiter=bad)


def test_delimiter_is_refused_where_it_does_not_apply(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((2, 2)))
    with pytest.raises(ParameterError, match=r"delimiter= does not apply to \.npy files"):
        load(tmp_path / "a.npy", delimiter=";")


FILES = {
    "plain": "1,2,3\n4,5,6\n",
    "header and text label": "h;w;kind\n1.5;-2;ant\n3e2;4;bee\n5;6; ant \n",
    "missing tokens": "a\tb\n1\t\n NA\t4\nnan\tN/A\n?\tnull\n",
    "blank lines and crlf": "a,b\r\n\r\n1,2\r\n\r\n3,4\r\n",
    "numeric labels": "1,2,0\n3,4,1\n5,6,1\n",
    "quoted": 'name;x;y\n"Smith, J.";1;2\n"Doe; A.";3;4\n',
    "empty row of delimiters": "a,b\n1,2\n,\n3,4\n",
    "python-only numbers": "a,b\n1_000,2\n\x1c3,4\n",
    "byte order mark": "\ufeffa,b\n1,2\n3,4\n",
}


@pytest.mark.parametrize("name", FILES)
def test_fast_parser_reads_what_the_python_parser_reads(tmp_path, monkeypatch, name):
    # pyarrow reads most files; the Python parser is the reference for every cell.
    from nolabel.data import csv_table

    path = tmp_path / "t.csv"
    path.write_text(FILES[name], encoding="utf-8")
    label = {"header and text label": "kind", "numeric labels": -1, "quoted": "name"}.get(name)
    fast = csv_table.read_csv(path, label_column=label)
    monkeypatch.setattr(csv_table, "_read_fast", lambda *args: None)
    reference = csv_table.read_csv(path, label_column=label)
    # pyarrow's reading is float32 already; the loader rounds the Python parser's float64 so.
    np.testing.assert_array_equal(fast.X, reference.X.astype(np.float32))
    np.testing.assert_array_equal(fast.y, reference.y)
    assert fast.classes == reference.classes and fast.notes == reference.notes


def test_fast_parser_reads_clean_files_and_leaves_the_rest(tmp_path):
    from nolabel.data import csv_table

    clean = tmp_path / "clean.csv"
    clean.write_text("a,b,kind\n1,2,x\n3,NA,y\n")
    sample = csv_table._sample_lines(clean)
    assert csv_table._read_fast(clean, sample, ",", None, "kind") is not None
    for text in ("a,b\n1,red\n", "a,b\n1,2\n3\n", "a,b\n1_0,2\n", "\na,b\n1,2\n",
                 "a,b\n1,1e39\n"):  # 1e39: beyond float32, the loader names it
        odd = tmp_path / "odd.csv"
        odd.write_text(text)
        assert csv_table._read_fast(odd, csv_table._sample_lines(odd), ",", None, None) is None
