"""CSV/TSV tables: delimiter and header auto-detected, optional label column, errors that
give the line.

Reading is two steps: :func:`detect_delimiter` and the header test look at the first lines
only, then the whole file is parsed with that delimiter, by one of two parsers:

- pyarrow's multi-threaded CSV reader (about pandas' speed; pyarrow is also the Parquet
  engine, so it costs no extra dependency), used whenever it reads the file to exactly what
  the Python parser would: every cell a number or a missing-value token, every row of the
  same width, no row that the Python parser would skip as blank;
- Python's ``csv`` module, cell by cell: the reference, for everything else (cells padded
  with characters ``float`` refuses, ``1_000``, missing-value tokens in unusual case), and
  for every error, which it words with the file, line and column of the bad cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from itertools import islice
from pathlib import Path

import numpy as np

from nolabel.data._columns import label_index, split_label
from nolabel.data.dataset import RawData, encode_labels
from nolabel.errors import Argument, DataError, ParameterError

# Cells read as a missing value (NaN), compared case-insensitively; the NaN policy decides.
MISSING = ("", "na", "n/a", "nan", "null", "none", "?")

# The delimiters people's files use, in the order preferred when several split every line
# evenly: a tab, ';' or '|' that does so is almost surely the delimiter, while a ',' can be a
# decimal comma inside ';'-separated cells ("1,5;2,3").
DELIMITERS = ("\t", ";", "|", ",")
_SNIFF_CHARS = 64 * 1024  # detection reads this much of the file, whatever its size
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else repr(delimiter)


def check_delimiter(delimiter: object) -> str | None:
    """``delimiter`` as given (None: detect it), or a ParameterError."""
    if delimiter is None:
        return None
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
        raise ParameterError(
            "delimiter must be one character, such as ',', ';', '\\t' (tab) or '|', got "
            f"{delimiter!r}",
            arguments=[Argument("delimiter")],
        )
    return delimiter


def _sample_lines(path: Path) -> list[str]:
    """The complete lines among the first ``_SNIFF_CHARS`` characters of the file, blank
    ones included."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(_SNIFF_CHARS)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {exc.start})") from None
    lines = sample.splitlines()
    if len(sample) == _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # cut by the sample's end
    return lines


def _field_count(lines: list[str], delimiter: str) -> tuple[float, int]:
    """How evenly ``delimiter`` splits ``lines``: the share of lines holding the most common
    number of fields, and that number."""
    try:
        counts = Counter(len(row) for row in csv.reader(io.StringIO("\n".join(lines)),
                                                         delimiter=delimiter) if row)
    except csv.Error:
        return 0.0, 0
    if not counts:
        return 0.0, 0
    fields, lines_with = counts.most_common(1)[0]
    return lines_with / sum(counts.values()), fields


def detect_delimiter(path: Path) -> str | None:
    """The delimiter among ``DELIMITERS`` that splits the first lines of ``path`` into the
    same number of fields (at least two) most evenly; ties go to the earlier in
    ``DELIMITERS``. None when none splits them (a table of one column)."""
    return _best_delimiter(_sample_lines(path))


def _best_delimiter(lines: list[str]) -> str | None:
    lines = [line for line in lines if line.strip()]
    best, best_share = None, 0.0
    for delimiter in DELIMITERS:
        share, fields = _field_count(lines, delimiter)
        if fields >= 2 and share > best_share:
            best, best_share = delimiter, share
    return best


def _read_rows(path: Path, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows of the file and the line number each ends on."""
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{path} is not a readable CSV file: {exc}") from None
    return rows, lines


def _is_number(cell: str) -> bool | None:
    """True for a number, False for text, None for a missing value (which says nothing)."""
    text = cell.strip()
    if text.lower() in MISSING:
        return None
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_like_header(rows: list[list[str]]) -> bool:
    first = [_is_number(cell) for cell in rows[0]]
    if all(kind is False for kind in first):
        return True
    if len(rows) < 2:
        return False
    second = [_is_number(cell) for cell in rows[1]]
    # Text above a number in the same column: the first row names the columns.
    return any(a is False and b is True for a, b in zip(first, second, strict=False))


def _column_name(names: list[str] | None, index: int) -> str:
    return f"column {names[index]!r} (index {index})" if names else f"column index {index}"


def _cell_value(cell: str) -> float | None:
    """The number in ``cell``, NaN for a missing value, None for text."""
    kind = _is_number(cell)
    if kind is None:
        return float("nan")
    return float(cell.strip()) if kind else None  # stripped as _is_number saw it


def _to_float(
    rows: list[list[str]],
    names: list[str] | None,
    columns: list[int],
    lines: list[int],
    path: Path,
    delimiter: str,
) -> np.ndarray:
    out = np.empty((len(rows), len(columns)), dtype=np.float64)
    for i, row in enumerate(rows):
        cells = [row[j] for j in columns]
        try:
            out[i] = [float(cell) for cell in cells]
        except ValueError:
            values = [_cell_value(cell) for cell in cells]
            if None in values:
                _raise_not_numeric(rows, i, names, columns, lines, path, delimiter)
            out[i] = values
    return out


def _cell_hint(cell: str, delimiter: str) -> tuple[str, list[Argument]]:
    """Why a cell may not be a number when the file is fine: another delimiter inside it, or
    a decimal comma."""
    for other in DELIMITERS:
        if other != delimiter and other in cell and not _DECIMAL_COMMA.match(cell):
            fix = Argument("delimiter", other)
            return (f" (it holds {delimiter_name(other)}, but fields were split on "
                    f"{delimiter_name(delimiter)}: pass {fix} if that is the delimiter)"), [fix]
    if _DECIMAL_COMMA.match(cell):
        return " (a decimal comma? nolabel reads numbers with a decimal point, 1.5)", []
    return "", []


def _raise_not_numeric(
    rows: list[list[str]],
    first_row: int,
    names: list[str] | None,
    columns: list[int],
    lines: list[int],
    path: Path,
    delimiter: str,
) -> None:
    row = rows[first_row]
    first = next(j for j in columns if _is_number(row[j]) is False)
    bad = [j for j in columns if any(_is_number(r[j]) is False for r in rows[first_row:])]
    others = ""
    if len(bad) > 1:
        others = f" (non-numeric columns: {', '.join(_column_name(names, j) for j in bad)})"
    hint, arguments = _cell_hint(row[first].strip(), delimiter)
    advice = ""
    if not arguments:  # a wrong delimiter explains it; otherwise the column may hold labels
        label = Argument("label_column", names[first] if names else first)
        advice, arguments = f"; drop the column, or pass {label} if it holds labels", [label]
    raise DataError(
        f"{path}: {_column_name(names, first)} is not numeric: line {lines[first_row]} holds "
        f"{row[first].strip()!r}{hint}{others}{advice}",
        arguments=arguments,
    )


def _arrow_null_tokens() -> list[str]:
    """``MISSING`` as pyarrow matches cells, exactly: each token in lower, upper and title
    case, and ``NaN``/``N/A`` as people write them. A token in another case is not a number
    to pyarrow either, so such a file goes to the Python parser, which reads it the same."""
    tokens = {variant for token in MISSING
              for variant in (token, token.upper(), token.title(), token.capitalize())}
    return sorted(tokens | {"NaN", "N/a"})


def _read_arrow(
    path: Path, delimiter: str, header: bool, width: int, label: int | None,
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None] | None:
    """(X, y, classes) read by pyarrow, X in float32 (the Python parser's float64, rounded as
    the loader rounds it), or None where its reading could differ from the Python parser's
    (then that parser reads the file, and words any error)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    names = [f"c{j}" for j in range(width)]
    types = {name: pa.float64() for name in names}
    if label is not None:
        types[names[label]] = pa.string()
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=int(header)),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=_arrow_null_tokens(),
                strings_can_be_null=False, include_columns=names),
        )
    except (pa.ArrowException, OSError):
        return None  # a cell that is not a number, a ragged row, bad UTF-8 in a label...
    if table.num_rows == 0:
        return None
    features = [j for j in range(width) if j != label]
    nulls = [table.column(j).null_count for j in features]
    if all(nulls):  # is some row empty (',,,'), which the Python parser would skip?
        empty = pc.and_(*(pc.is_null(table.column(j)) for j in features)) if len(
            features) > 1 else pc.is_null(table.column(features[0]))
        if label is not None:
            empty = pc.and_(empty, pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(
                table.column(label))), 0))
        if pc.any(empty).as_py():
            return None
    # float32 straight away (what the loader keeps). An infinity, or a value beyond float32,
    # goes to the Python parser: "inf" text, a number too long for csv's field limit (which
    # pyarrow reads as inf) and an overflow each get their own message there.
    X = np.empty((table.num_rows, len(features)), dtype=np.float32)
    for out, j in enumerate(features):
        column = table.column(j).to_numpy()  # float64, nulls as NaN
        with np.errstate(over="ignore"):
            narrow = column.astype(np.float32)
        if not np.isfinite(narrow.sum(dtype=np.float64)) and bool(np.isinf(narrow).any()):
            return None
        X[:, out] = narrow
    if label is None:
        return X, None, None
    column = table.column(label)
    values = column.unique()  # encoded once per distinct label: labels repeat
    texts = values.to_pylist()
    stripped = [value.strip() for value in texts]
    if not all(stripped) or max(map(len, texts)) > csv.field_size_limit():
        return None  # an empty label, or one beyond csv's limit: the Python path words it
    try:
        codes, classes = encode_labels(stripped, name=f"{path}: labels")
    except DataError:
        return None  # e.g. a label 1.5: the Python path names its row
    index = pc.index_in(column, value_set=values).to_numpy(zero_copy_only=False)
    return X, codes[index], classes


def read_csv(
    path: Path,
    *,
    label_column: str | int | None = None,
    header: bool | None = None,
    delimiter: str | None = None,
) -> RawData:
    """Read a CSV (or ``.tsv``) table of numbers; missing cells become NaN.

    ``delimiter``: None detects it from the first lines (``,`` ``;`` tab ``|``; a table of
    one column has none), or force one character. ``notes`` of the result say which was used.
    """
    given = check_delimiter(delimiter)
    sample = _sample_lines(path)
    delimiter = given or _best_delimiter(sample)
    how = "given" if given else "detected"
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        how = "none detected: one column"
    split = f"delimiter {delimiter_name(delimiter)} ({how})"
    fast = _read_fast(path, sample, delimiter, header, label_column)
    if fast is not None:
        X, y, classes, names, label = fast
    else:
        X, y, classes, names, label = _read_python(path, delimiter, header, label_column, split)
    notes = (f"{split}, {'a header row' if names else 'no header row'}, {len(X)} rows of "
             f"{X.shape[1]} features" + ("" if label is None else " and a label column"),)
    feature_names = tuple(n for i, n in enumerate(names) if i != label) if names else None
    return RawData(X, y, classes, notes, feature_names)


def _read_fast(path: Path, sample: list[str], delimiter: str, header: bool | None,
               label_column: str | int | None):
    """pyarrow's reading with the header and label column that the Python path would find
    (decided on the first lines), or None."""
    try:
        rows = csv.reader(sample, delimiter=delimiter)
        first = list(islice((row for row in rows if any(cell.strip() for cell in row)), 2))
    except csv.Error:
        return None
    if not first or not sample[0].strip():
        return None  # blank lines first: the header test and skip_rows could disagree
    if header is None:
        header = _looks_like_header(first)
    names = [cell.strip() or f"column {i}" for i, cell in enumerate(first[0])] if header \
        else None
    width = len(first[0])
    try:
        label = label_index(label_column, names, width, path)
    except DataError:
        return None  # the Python path checks the rows first, then words the same error
    if not split_label(width, label):
        return None
    read = _read_arrow(path, delimiter, bool(header), width, label)
    return None if read is None else (*read, names, label)


def _read_python(path: Path, delimiter: str, header: bool | None,
                 label_column: str | int | None, split: str):
    """The reference parser: Python's ``csv`` module and ``float``, with the errors."""
    rows, lines = _read_rows(path, delimiter)
    if not rows:
        raise DataError(f"{path} is empty: no rows to read")
    if header is None:
        header = _looks_like_header(rows)
    names, header_line = None, None
    if header:
        names = [cell.strip() or f"column {i}" for i, cell in enumerate(rows[0])]
        header_line, rows, lines = lines[0], rows[1:], lines[1:]
        if not rows:
            raise DataError(f"{path} has a header (line {header_line}) but no data rows")
    width = len(names) if names else len(rows[0])
    reference = f"line {header_line} (the header)" if names else f"line {lines[0]}"
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            fix = Argument("delimiter")
            raise DataError(
                f"{path}: line {line} has {len(row)} fields but {reference} has {width} "
                f"(read with {split}; pass {fix} to choose another)",
                arguments=[fix],
            )
    label = label_index(label_column, names, width, path)
    features = split_label(width, label)
    if not features:
        raise DataError(f"{path} holds only the label column, no features")
    try:
        table = np.array(rows, dtype=np.float64)  # every cell is a number
        X, labels = table[:, features], None if label is None else table[:, label]
    except ValueError:
        X = _to_float(rows, names, features, lines, path, delimiter)
        labels = None if label is None else [row[label].strip() for row in rows]
    if labels is None:
        return X, None, None, names, None
    y, classes = encode_labels(labels, name=f"{path}: labels")
    return X, y, classes, names, label
