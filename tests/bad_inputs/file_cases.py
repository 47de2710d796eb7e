"""Bad files: IDX, CSV, .npy/.npz, Parquet, image folders, paths, saved models."""

from __future__ import annotations

import numpy as np

from bad_inputs.case import fails, succeeds
from nolabel import load_model
from nolabel.data import load, read_idx
from nolabel.errors import CheckpointError, DataError, DataTypeError, ParameterError


def _load(name, **options):
    return lambda corpus: load(corpus / name, **options)


def _idx(name):
    return lambda corpus: read_idx(corpus / name)


def _minibatch_kmeans(name):
    def run(corpus):
        from nolabel import MiniBatchKMeans

        return MiniBatchKMeans(2, device="cpu").fit(corpus / name)

    return run


def _model(name):
    return lambda corpus: load_model(corpus / name)


def _resume_from(name):
    def run(corpus):
        from nolabel import AutoEncoder

        X = np.random.default_rng(0).random((8, 3)).astype(np.float32)
        return AutoEncoder(2, hidden_dims=(4,), epochs=1, device="cpu").fit(
            X, resume_from=corpus / name)

    return run


IDX = [
    fails("idx-truncated-gzip", _idx("truncated.idx.gz"), DataError,
          r"truncated\.idx\.gz is a corrupt or truncated gzip"),
    fails("idx-corrupt-gzip", _idx("corrupt.idx.gz"), DataError,
          r"corrupt\.idx\.gz is a corrupt or truncated gzip"),
    fails("idx-wrong-magic", _idx("wrong-magic.idx"), DataError,
          r"wrong-magic\.idx is not an IDX file: it starts with bytes 01 02"),
    fails("idx-unknown-type", _idx("unknown-type.idx"), DataError,
          r"unknown-type\.idx has unknown IDX type code 0x07"),
    fails("idx-truncated-payload", _idx("truncated-payload.idx"), DataError,
          r"truncated-payload\.idx is truncated: header says 20x28x28 = 15680 bytes"),
    fails("idx-extra-bytes", _idx("extra-bytes.idx"), DataError,
          r"extra-bytes\.idx is longer than its header says"),
    fails("idx-header-cut", _idx("header-cut.idx"), DataError,
          r"header-cut\.idx is truncated inside its header"),
    fails("idx-empty-file", _idx("empty.idx"), DataError, r"empty\.idx is not an IDX file"),
    fails("idx-zero-dims", _idx("zero-dims.idx"), DataError, r"zero-dims\.idx .*0 dimensions"),
    fails("idx-huge-dims", _idx("huge-dims.idx"), DataError,
          r"huge-dims\.idx is truncated: header says 4294967295x"),
    fails("idx-folder-not-file", _idx("a-folder.idx"), DataError, r"a-folder\.idx is a folder"),
    fails("fashion-mnist-corrupt-folder",
          lambda c: load("fashion-mnist", path=c / "fashion-corrupt"), DataError,
          r"train-images-idx3-ubyte\.gz is (a corrupt or )?truncated"),
    fails("fashion-mnist-wrong-shape",
          lambda c: load("fashion-mnist", path=c / "fashion-wrong-shape"), DataError,
          r"train-images-idx3-ubyte holds uint8 images of shape \(2, 28, 28\)"),
    fails("fashion-mnist-missing-files",
          lambda c: load("fashion-mnist", path=c / "fashion-empty"), DataError,
          r"fashion-empty'? does not hold the fashion-mnist files"),
]

CSV = [
    fails("csv-header-only", _load("header-only.csv"), DataError,
          r"header-only\.csv has a header \(line 1\) but no data rows"),
    fails("csv-empty", _load("empty.csv"), DataError, r"empty\.csv is empty"),
    fails("csv-blank-lines", _load("blank-lines.csv"), DataError, r"blank-lines\.csv is empty"),
    fails("csv-ragged-rows", _load("ragged.csv"), DataError,
          r"ragged\.csv: line 3 has 2 fields but line 1 \(the header\) has 3"),
    fails("csv-non-numeric-cell", _load("non-numeric.csv"), DataError,
          r"non-numeric\.csv: column 'color' \(index 1\) is not numeric: line 3 holds 'red'"),
    fails("csv-nan-cell", _load("nan-cell.csv"), DataError,
          r"nan-cell\.csv has a NaN at row 1, column 1"),
    fails("csv-inf-cell", _load("inf-cell.csv"), DataError,
          r"inf-cell\.csv has a \+inf at row 0, column 1"),
    fails("csv-beyond-float32", _load("beyond-float32.csv"), DataError,
          r"beyond-float32\.csv holds 1e\+39 at row 0, column 1, beyond float32's range"),
    fails("csv-not-utf8", _load("not-utf8.csv"), DataError, r"not-utf8\.csv is not UTF-8"),
    fails("csv-nul-byte", _load("nul-byte.csv"), DataError,
          r"nul-byte\.csv: column 'b' \(index 1\) is not numeric: line 3"),
    fails("csv-huge-field", _load("huge-field.csv"), DataError,
          r"huge-field\.csv is not a readable CSV file: field larger than field limit"),
    fails("csv-label-only", _load("label-only.csv", label_column="kind"), DataError,
          r"label-only\.csv holds only the label column"),
    fails("csv-label-missing", _load("constant.csv", label_column="kind"), DataError,
          r"constant\.csv has no column 'kind'; its columns are 'a', 'b'"),
    fails("csv-label-nan", _load("labels-nan.csv", label_column="kind"), DataError,
          r"labels-nan\.csv: labels: .*y\[1\] is nan"),
    fails("csv-folder-not-file", _load("a-folder.csv"), DataError,
          r"a-folder\.csv is a folder, but its name says a \.csv file"),
    fails("csv-unreadable", _load("unreadable.csv"), DataError,
          r"unreadable\.csv cannot be read"),
    fails("csv-impute-unknown", _load("nan-cell.csv", impute="zero"), ParameterError,
          r"impute must be one of .*got 'zero'"),
    fails("csv-impute-empty-column", _load("all-nan-column.csv", impute="mean"), DataError,
          r"all-nan-column\.csv: column 1 holds no finite value"),
    succeeds("csv-one-sample", lambda c: load(c / "one-row.csv").X),
    succeeds("csv-constant-features", lambda c: load(c / "constant.csv").X),
    succeeds("csv-huge-values", lambda c: load(c / "huge-values.csv").X),
    succeeds("csv-nan-imputed", lambda c: load(c / "nan-cell.csv", impute="median").X),
]

NUMPY = [
    fails("npy-truncated", _load("truncated.npy"), DataError,
          r"truncated\.npy is truncated: its header says an array of shape \(5, 3\)"),
    fails("npy-truncated-mmap", _load("truncated.npy", mmap=True), DataError,
          r"truncated\.npy is truncated"),
    fails("npy-huge-shape", _load("huge-shape.npy"), DataError,
          r"huge-shape\.npy is truncated: its header says .*\(10000000000, 3\)"),
    fails("npy-bad-header", _load("bad-header.npy"), DataError,
          r"bad-header\.npy is not a readable \.npy file"),
    fails("npy-unparsable-header", _load("unparsable-header.npy"), DataError,
          r"unparsable-header\.npy is not a readable \.npy file: its header is malformed"),
    fails("npy-unparsable-header-streamed", _minibatch_kmeans("unparsable-header.npy"),
          DataError, r"unparsable-header\.npy is not a readable \.npy file"),
    fails("npy-wrong-magic", _load("not-numpy.npy"), DataError,
          r"not-numpy\.npy is not a \.npy file"),
    fails("npy-pickled-objects", _load("objects.npy"), DataError,
          r"objects\.npy holds Python objects .* never does"),
    fails("npy-one-d", _load("one-d.npy"), DataError,
          r"one-d\.npy holds an array of shape \(5,\)"),
    fails("npy-zero-samples", _load("no-samples.npy"), DataError,
          r"no-samples\.npy has 0 samples"),
    fails("npy-zero-features", _load("no-features.npy"), DataError,
          r"no-features\.npy has no features"),
    fails("npy-strings", _load("strings.npy"), DataTypeError,
          r"strings\.npy is not numeric: row 1, column 1 holds np\.str_\('abc'\)"),
    fails("npy-complex", _load("complex.npy"), DataError, r"complex\.npy holds complex numbers"),
    fails("npy-structured", _load("structured.npy"), DataTypeError,
          r"structured\.npy is not numeric: row 0, column 0"),
    fails("npy-five-d", _load("five-d.npy"), DataError,
          r"five-d\.npy holds an array of shape \(2, 2, 2, 2, 2\)"),
    fails("npy-nan", _load("nan.npy"), DataError, r"nan\.npy has a NaN at row 2, column 1"),
    fails("npy-beyond-float32", _load("beyond-float32.npy"), DataError,
          r"beyond-float32\.npy holds 1e\+300 at row 0, column 0, beyond float32's range"),
    fails("npy-folder-not-file", _load("a-folder.npy"), DataError, r"a-folder\.npy is a folder"),
    fails("npy-unreadable", _load("unreadable.npy"), DataError,
          r"unreadable\.npy cannot be read"),
    fails("npz-not-zip", _load("not-zip.npz"), DataError, r"not-zip\.npz is not a \.npz file"),
    fails("npz-truncated", _load("truncated.npz"), DataError,
          r"truncated\.npz is not a readable \.npz file"),
    fails("npz-corrupt-deflate", _load("corrupt.npz"), DataError,
          r"corrupt\.npz is not a readable \.npz file"),
    fails("npz-missing-x", _load("no-x.npz"), DataError,
          r"no-x\.npz has no array named 'X' \(it holds data\)"),
    fails("npz-label-count", _load("label-count.npz"), DataError,
          r"label-count: X has 4 samples but y has 3 labels"),
    fails("npz-float-labels", _load("float-labels.npz"), DataError,
          r"float-labels: labels must be integers, but y\[0\] is 0\.5"),
    fails("npz-pickled-objects", _load("objects.npz"), DataError,
          r"objects\.npz holds Python objects .* never does"),
    fails("npz-huge-shape", _load("huge-shape.npz"), DataError,
          r"huge-shape\.npz: the array 'X' is truncated"),
]

PARQUET = [
    fails("parquet-nested-list", _load("nested.parquet"), DataError,
          r"nested\.parquet: nested columns cannot be features: 'deep' \(list<"),
    fails("parquet-nested-struct", _load("struct.parquet"), DataError,
          r"struct\.parquet: nested columns cannot be features: 'point' \(struct<"),
    fails("parquet-text-column", _load("text.parquet"), DataError,
          r"text\.parquet: non-numeric columns: 'name'"),
    fails("parquet-no-rows", _load("no-rows.parquet"), DataError, r"no-rows\.parquet has no rows"),
    fails("parquet-null", _load("null.parquet"), DataError,
          r"null\.parquet has a NaN at row 1, column 0"),
    fails("parquet-truncated", _load("truncated.parquet"), DataError,
          r"truncated\.parquet is not a readable Parquet file"),
    fails("parquet-nested-label", _load("list-label.parquet", label_column="y"), DataError,
          r"list-label\.parquet: the label column 'y' is nested"),
]

IMAGES = [
    fails("images-mixed-sizes", _load("mixed-sizes"), DataError,
          r"images differ in size: .*small\.png is 4x4 but .*wide\.png is 6x4"),
    fails("images-corrupt", _load("corrupt-image"), DataError,
          r"broken\.png is not a readable image"),
    fails("images-truncated", _load("truncated-image"), DataError,
          r"cut\.png is not a readable image"),
    fails("images-none", _load("no-images"), DataError, r"no-images holds no images"),
    fails("images-mixed-layout", _load("mixed-layout"), DataError,
          r"mixed-layout holds images both directly \(top\.png, \.\.\.\) and in subfolders"),
    fails("images-decompression-bomb", _load("bomb-image"), DataError,
          r"bomb\.png is not a readable image: .*pixels"),
    fails("images-unreadable", _load("unreadable-image"), DataError,
          r"locked\.png is not a readable image"),
]

PATHS = [
    fails("path-missing", _load("nothing-here.csv"), DataError,
          r"no such file or folder: .*nothing-here\.csv"),
    fails("path-unknown-extension", _load("table.json"), DataError,
          r"table\.json has an unknown extension '\.json'"),
    fails("path-not-a-path", lambda c: load(5), ParameterError,
          r"source must be a dataset name or a path .*got 5"),
    fails("path-unknown-dataset", lambda c: load("fashion-mnits"), DataError,
          r"unknown dataset 'fashion-mnits'"),
]

MODEL_FILES = [
    fails("model-pickle-renamed", _model("pickle.safetensors"), CheckpointError,
          r"pickle\.safetensors is not a valid safetensors file"),
    fails("resume-from-pickle", _resume_from("pickle.safetensors"), CheckpointError,
          r"pickle\.safetensors is not a valid safetensors file"),
    fails("model-truncated", _model("truncated.safetensors"), CheckpointError,
          r"truncated\.safetensors is not a valid safetensors file"),
    fails("model-folder-not-file", _model("a-folder.safetensors"), CheckpointError,
          r"a-folder\.safetensors is a directory"),
    fails("model-missing", _model("nothing.safetensors"), CheckpointError,
          r"nothing\.safetensors does not exist"),
    fails("model-foreign-safetensors", _model("foreign.safetensors"), CheckpointError,
          r"foreign\.safetensors is a safetensors file but was not written by nolabel"),
    fails("model-bad-json-header", _model("bad-json.safetensors"), CheckpointError,
          r"bad-json\.safetensors has a corrupt nolabel header"),
    fails("model-header-without-state", _model("no-state.safetensors"), CheckpointError,
          r"no-state\.safetensors has a corrupt nolabel header"),
    fails("model-unknown-estimator", _model("unknown-model.safetensors"), CheckpointError,
          r"unknown-model\.safetensors holds a model this nolabel does not know"),
    fails("model-unexpected-param", _model("unexpected-param.safetensors"), CheckpointError,
          r"unexpected-param\.safetensors holds a kmeans model that cannot be rebuilt.*bogus"),
    fails("model-missing-tensor", _model("missing-tensor.safetensors"), CheckpointError,
          r"missing-tensor\.safetensors holds a kmeans model that cannot be rebuilt"),
    fails("model-is-a-checkpoint", _model("checkpoint-kind.safetensors"), CheckpointError,
          r"checkpoint-kind\.safetensors is a training checkpoint"),
]

CASES = IDX + CSV + NUMPY + PARQUET + IMAGES + PATHS + MODEL_FILES
