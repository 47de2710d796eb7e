"""Property-based fuzzing of the loaders and the metrics with hypothesis.

The property everywhere: nolabel answers with a valid result (finite, in its documented
range) or a NolabelError; never another exception. Each property runs twice: a short,
derandomised run in the default suite, and 1000 examples under ``-m slow``.
"""

from __future__ import annotations

import gzip
import math
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import roc_auc_score

from nolabel.data import Dataset, load, read_idx
from nolabel.errors import NolabelError
from nolabel.metrics import average_precision, clustering_scores, information, roc_auc

FAST = settings(max_examples=50, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=1000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def fuzz(strategy: st.SearchStrategy, check: Callable) -> tuple[Callable, Callable]:
    """A fast test and a ``slow`` one of ``check`` over ``strategy``."""

    @FAST
    @given(strategy)
    def fast(value):
        check(value)

    @pytest.mark.slow
    @SLOW
    @given(strategy)
    def slow(value):
        check(value)

    return fast, slow


def answer(call: Callable):
    """``call()``, or None when it raised a NolabelError; anything else propagates."""
    try:
        return call()
    except NolabelError:
        return None


def _in_file(name: str, data: bytes, read: Callable[[Path], object]):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return answer(lambda: read(path))


def _assert_valid_dataset(data: Dataset | None) -> None:
    if data is not None:
        assert data.X.dtype == np.float32 and data.X.ndim in (2, 4)
        assert data.X.shape[0] >= 1 and np.isfinite(data.X).all()
        if data.y is not None:
            assert data.y.shape == (data.X.shape[0],)


# --- CSV -----------------------------------------------------------------------------------

CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "NA", "?", "1e39", "-1e-45",
                     '"1,5"', '"', '""', "1_000", "0x10", "∞", "٣", "é", "\x00", "a b"]),
    st.text(max_size=6),
)


@st.composite
def csv_texts(draw) -> bytes:
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(
        st.lists(CELLS, min_size=width - draw(st.integers(0, 1)), max_size=width + 1),
        max_size=6))
    text = "\n".join(",".join(row) for row in rows)
    if draw(st.booleans()):
        text = ",".join(f"c{i}" for i in range(width)) + "\n" + text
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # damaged bytes
        data = data[: draw(st.integers(0, len(data)))] + draw(st.binary(max_size=4))
    return data


def check_csv(data: bytes) -> None:
    _assert_valid_dataset(_in_file("table.csv", data, load))
    _assert_valid_dataset(_in_file("table.csv", data, lambda p: load(p, impute="median")))
    _assert_valid_dataset(_in_file("table.csv", data, lambda p: load(p, label_column=-1)))


test_csv_loader_fast, test_csv_loader_slow = fuzz(csv_texts(), check_csv)


# --- IDX -----------------------------------------------------------------------------------


@st.composite
def idx_files(draw) -> tuple[bytes, tuple[int, ...]]:
    magic = draw(st.sampled_from([b"\x00\x00", b"\x00\x00", b"\x00\x00", b"\x01\x00"]))
    code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x07, 0xFF]))
    dims = tuple(draw(st.lists(st.one_of(st.integers(0, 5), st.just(2**32 - 1)), max_size=4)))
    header = magic + bytes([code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    itemsize = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(code, 1)
    size = math.prod(dims) * itemsize if dims and max(dims) < 2**32 - 1 else 8
    payload = draw(st.binary(min_size=size, max_size=size))
    data = header + payload
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    data = data if cut is None else data[:cut]
    data += draw(st.one_of(st.just(b""), st.binary(max_size=2)))
    if draw(st.booleans()):
        data = gzip.compress(data, mtime=0)
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
    return data, dims


def check_idx(case: tuple[bytes, tuple[int, ...]]) -> None:
    data, dims = case
    array = _in_file("data.idx", data, read_idx)
    if array is not None:
        assert array.shape == dims


test_idx_reader_fast, test_idx_reader_slow = fuzz(idx_files(), check_idx)


# --- .npy ----------------------------------------------------------------------------------

NPY_DTYPES = st.one_of(hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(), hnp.floating_dtypes(),
                       hnp.complex_number_dtypes(), hnp.boolean_dtypes(),
                       hnp.unicode_string_dtypes(max_len=3), hnp.byte_string_dtypes(max_len=3),
                       hnp.datetime64_dtypes())


@st.composite
def npy_files(draw) -> bytes:
    array = draw(hnp.arrays(NPY_DTYPES, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0,
                                                         max_side=4)))
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder) / "a.npy", array)
        data = (Path(folder) / "a.npy").read_bytes()
    if draw(st.booleans()):  # truncate, or flip a byte
        position = draw(st.integers(0, len(data) - 1))
        data = data[:position] if draw(st.booleans()) else (
            data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:])
    return data


def check_npy(data: bytes) -> None:
    _assert_valid_dataset(_in_file("a.npy", data, load))
    _assert_valid_dataset(_in_file("a.npy", data, lambda p: load(p, mmap=True)))


test_npy_loader_fast, test_npy_loader_slow = fuzz(npy_files(), check_npy)


# --- clustering scores ---------------------------------------------------------------------

LABELS = st.one_of(
    st.lists(st.integers(-2, 4), max_size=30),
    st.lists(st.integers(-(2**62), 2**62), max_size=5),
    st.lists(st.floats(-3, 3), max_size=5),
    st.lists(st.sampled_from(["a", "b"]), max_size=3),
)


@st.composite
def label_pairs(draw) -> tuple[list, list, list[int]]:
    y_true = draw(LABELS)
    y_pred = draw(st.one_of(LABELS, st.lists(st.integers(0, 4), min_size=len(y_true),
                                             max_size=len(y_true))))
    renaming = draw(st.permutations(range(-2, 5)))
    return y_true, y_pred, renaming


def check_scores(case) -> None:
    y_true, y_pred, renaming = case
    scores = answer(lambda: clustering_scores(y_true, y_pred))
    if scores is None:
        return
    assert all(math.isfinite(v) for v in scores.values())
    assert 0 <= scores["acc"] <= 1 and 0 <= scores["nmi"] <= 1 + 1e-12
    assert -1 <= scores["ari"] <= 1 + 1e-12
    if all(isinstance(v, int) and -2 <= v <= 4 for v in y_pred):
        renamed = [renaming[v + 2] for v in y_pred]
        again = clustering_scores(y_true, renamed)  # cluster names carry no meaning
        for key, value in scores.items():
            assert again[key] == pytest.approx(value, abs=1e-12), key
    assert clustering_scores(y_true, y_true)["acc"] == 1.0


test_clustering_scores_fast, test_clustering_scores_slow = fuzz(label_pairs(), check_scores)


# --- anomaly scores ------------------------------------------------------------------------

SCORES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(1.0),
                   st.integers(-3, 3).map(float))


@st.composite
def anomaly_cases(draw) -> tuple[list, list]:
    n = draw(st.integers(0, 12))
    labels = draw(st.lists(st.sampled_from([0, 1, 1, 0, 2, True]), min_size=n, max_size=n))
    scores = draw(st.lists(SCORES, min_size=n + draw(st.sampled_from([0, 0, 0, 1])),
                           max_size=n + 1))
    return labels, scores


def check_anomaly(case) -> None:
    labels, scores = case
    auc = answer(lambda: roc_auc(labels, scores))
    if auc is not None:
        assert 0 <= auc <= 1
        assert auc == pytest.approx(roc_auc_score(np.asarray(labels) == 1, scores), abs=1e-12)
        flipped = roc_auc(labels, [-s for s in scores])
        assert auc + flipped == pytest.approx(1.0, abs=1e-12)
    precision = answer(lambda: average_precision(labels, scores))
    if precision is not None:
        assert 0 < precision <= 1


test_anomaly_metrics_fast, test_anomaly_metrics_slow = fuzz(anomaly_cases(), check_anomaly)


# --- information theory --------------------------------------------------------------------

PROBABILITY_ROWS = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5),
    elements=st.one_of(st.floats(0, 1), st.floats(-1, 2), st.just(math.nan)))


def _normalised(p: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return p / p.sum(axis=-1, keepdims=True)


def check_information(case) -> None:
    p, q = case
    for p_ in (p, _normalised(np.abs(p))):
        h = answer(lambda p_=p_: information.entropy(p_))
        if h is not None:
            assert np.all(h >= 0) and np.all(h <= np.log(p_.shape[-1]) + 1e-9)
    p_, q_ = _normalised(np.abs(p)), _normalised(np.abs(q))
    kl = answer(lambda: information.kl_divergence(p_, q_))
    if kl is not None:
        assert np.all(kl >= -1e-12) and not np.isnan(kl).any()
    cross = answer(lambda: information.cross_entropy(p_, q_))
    if cross is not None and kl is not None:
        finite = np.isfinite(kl)
        np.testing.assert_allclose(
            np.broadcast_to(cross, finite.shape)[finite],
            (information.entropy(p_) + kl)[finite], atol=1e-9)


test_information_fast, test_information_slow = fuzz(
    st.tuples(PROBABILITY_ROWS, PROBABILITY_ROWS), check_information)


def check_label_information(case) -> None:
    a, b, _ = case
    mi = answer(lambda: information.mutual_information_labels(a, b))
    if mi is not None:
        assert math.isfinite(mi) and mi >= 0


test_label_information_fast, test_label_information_slow = fuzz(
    label_pairs(), check_label_information)
