"""How the command line reads data: --image-size/--channels/--resize recorded in the run and
applied to new folders, --delimiter, and errors that name the option that fixes them."""

import csv
import json

import numpy as np
import pytest

from _cli_runs import fit
from nolabel.cli import main
from nolabel.cli.options import as_option, error_message
from nolabel.data import load
from nolabel.errors import Argument, DataError
from nolabel.runs import load_run

Image = pytest.importorskip("PIL.Image")


def _save(path, array, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **options)


def _mixed_folder(folder, seed, n=6):
    """Dark and bright images of several sizes and kinds: greyscale, RGB, RGBA, 16-bit, JPEG."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        level = 0.15 if i % 2 else 0.85
        h, w = (20, 24, 30, 17, 26, 40)[i % 6], (20, 18, 30, 25, 40, 22)[i % 6]
        noise = np.clip(level + 0.05 * rng.standard_normal((h, w, 4)), 0, 1)
        kind = i % 5
        if kind == 0:
            _save(folder / f"{i}.png", (noise[..., 0] * 255).astype(np.uint8))
        elif kind == 1:
            _save(folder / f"{i}.png", (noise[..., :3] * 255).astype(np.uint8))
        elif kind == 2:
            _save(folder / f"{i}.png", (noise * 255).astype(np.uint8))
        elif kind == 3:
            _save(folder / f"{i}.png", (noise[..., 0] * 65535).astype(np.uint16))
        else:
            _save(folder / f"{i}.jpg", (noise[..., :3] * 255).astype(np.uint8), quality=95)
    return folder


def _labels(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["index", "label"]
    return np.array([int(label) for _, label in rows[1:]])


def _fails(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    run = root / "km"
    fit("kmeans", "--data", str(_mixed_folder(root / "train", 0, n=10)), "--image-size", "12x10",
        "--param", "n_clusters=2", "--param", "n_init=2", "--out", str(run), "--no-report")
    return run, root


def test_image_size_is_recorded_in_the_run(image_run):
    run, _ = image_run
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["image_size"] == [12, 10]
    assert config["data"]["channels"] == 3  # resolved at fit time: mixed kinds -> RGB
    assert config["data"]["resize"] == "crop"
    assert config["data_info"]["sample_shape"] == [3, 12, 10]


def test_cluster_applies_the_runs_transform_to_a_new_folder(image_run, capsys):
    run, root = image_run
    new = _mixed_folder(root / "new", 1, n=7)  # other sizes, other content
    out = root / "labels.csv"
    assert main(["cluster", str(run), "--data", str(new), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "7 images of 12x10" in printed and "resized to 12x10 (centre-cropped" in printed
    labels = _labels(out)
    # The same numbers as loading the folder with the run's transform and asking the model.
    expected = load_run(run).model.predict(load(new, image_size=(12, 10), channels=3).flat())
    np.testing.assert_array_equal(labels, expected)
    assert len(np.unique(labels[::2])) == 1 and labels[0] != labels[1]  # bright vs dark


def test_embed_and_detect_read_new_folders_the_same_way(image_run, capsys):
    run, root = image_run
    new = _mixed_folder(root / "embed", 2, n=5)
    codes = root / "codes.npy"
    assert main(["embed", str(run), "--data", str(new), "--out", str(codes)]) == 0
    expected = load_run(run).model.transform(load(new, image_size=(12, 10), channels=3).flat())
    np.testing.assert_allclose(np.load(codes), expected, rtol=1e-5)


def test_new_images_of_other_channels_name_the_option(image_run, capsys):
    run, root = image_run
    new = _mixed_folder(root / "other", 3, n=4)
    err = _fails(["cluster", str(run), "--data", str(new), "--channels", "1"], capsys)
    assert "was fitted on (3, 12, 10)" in err and "pass --channels 3" in err
    assert "channels=" not in err and "--image-size" not in err


def test_mixed_sizes_without_the_option_name_it(tmp_path, capsys):
    folder = _mixed_folder(tmp_path / "mixed", 0)
    err = _fails(["fit", "kmeans", "--data", str(folder), "--out", str(tmp_path / "run")], capsys)
    assert "images differ in size" in err and "pass --image-size 20x20" in err
    assert "image_size=" not in err
    with pytest.raises(DataError, match=r"pass image_size=\(20, 20\)"):  # Python: the argument
        load(folder)


def test_pad_is_recorded_and_applied(tmp_path, capsys):
    folder = _mixed_folder(tmp_path / "mixed", 4, n=6)
    run = tmp_path / "run"
    fit("kmeans", "--data", str(folder), "--image-size", "8", "--resize", "pad", "--channels",
        "1", "--param", "n_clusters=2", "--param", "n_init=1", "--out", str(run), "--no-report")
    data = json.loads((run / "config.json").read_text())["data"]
    assert (data["image_size"], data["channels"], data["resize"]) == ([8, 8], 1, "pad")
    out = tmp_path / "labels.csv"
    assert main(["cluster", str(run), "--out", str(out), "--verbose", "0"]) == 0
    expected = load_run(run).model.predict(
        load(folder, image_size=8, channels=1, resize="pad").flat())
    np.testing.assert_array_equal(_labels(out), expected)


@pytest.mark.parametrize("text", ["28by28", "0x5", "x", "28x28x3"])
def test_bad_image_size_text(text, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["fit", "kmeans", "--image-size", text])
    assert caught.value.code == 2
    assert "HEIGHTxWIDTH" in capsys.readouterr().err


# --- CSV files ---------------------------------------------------------------------------------


def _species_table(path, delimiter):
    rng = np.random.default_rng(0)
    lines = [delimiter.join(["x", "y", "species"])]
    for i in range(30):
        centre = (0.0, 0.0) if i % 2 else (8.0, 8.0)
        x, y = np.array(centre) + rng.normal(size=2)
        lines.append(delimiter.join([f"{x:.4f}", f"{y:.4f}", "ant" if i % 2 else "bee"]))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("delimiter", "name", "shown"), [(";", "semicolon", "';'"),
                                                          ("\t", "tab", "tab")])
def test_semicolon_and_tab_tables_from_the_command_line(tmp_path, capsys, delimiter, name,
                                                        shown):
    table = _species_table(tmp_path / "t.csv", delimiter)
    run = tmp_path / "run"
    assert main(["fit", "kmeans", "--data", str(table), "--label-column", "species",
                 "--param", "n_clusters=2", "--out", str(run), "--no-report"]) == 0
    printed = capsys.readouterr().out
    assert f"delimiter {shown} (detected)" in printed
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["clustering"]["acc"] == 1.0  # two far blobs: the table was read right
    # Forced by name, recorded, and used again when the run rereads its data.
    forced = tmp_path / "forced"
    fit("kmeans", "--data", str(table), "--label-column", "species", "--delimiter", name,
        "--param", "n_clusters=2", "--out", str(forced), "--no-report")
    assert json.loads((forced / "config.json").read_text())["data"]["delimiter"] == delimiter
    assert main(["cluster", str(forced), "--verbose", "0"]) == 0
    # Without a header the label column is given by its index.
    bare = tmp_path / "bare.csv"
    bare.write_text("".join(table.read_text().splitlines(keepends=True)[1:]))
    fit("kmeans", "--data", str(bare), "--label-column", "2", "--param", "n_clusters=2",
        "--out", str(tmp_path / "bare"), "--no-report")
    metrics = json.loads((tmp_path / "bare" / "metrics.json").read_text())
    assert metrics["clustering"]["acc"] == 1.0


def test_table_errors_name_the_command_line_options(tmp_path, capsys):
    table = _species_table(tmp_path / "t.csv", ";")
    err = _fails(["fit", "kmeans", "--data", str(table)], capsys)
    assert "column 'species' (index 2) is not numeric: line 2 holds 'bee'" in err
    assert "pass --label-column species" in err and "label_column" not in err
    err = _fails(["fit", "kmeans", "--data", str(table), "--delimiter", ","], capsys)
    assert "pass --delimiter ';'" in err and "delimiter=" not in err
    assert "--label-column" not in err  # the delimiter explains it
    missing = tmp_path / "missing.csv"
    missing.write_text("a;b\n1;2\n3;\n")
    err = _fails(["fit", "kmeans", "--data", str(missing)], capsys)
    assert "has a NaN at row 1, column 1" in err and "(--impute mean replaces NaN" in err
    assert "impute=" not in err and "nolabel.data.load" not in err
    err = _fails(["fit", "kmeans", "--data", str(table), "--image-size", "8x8"], capsys)
    assert "--image-size does not apply to .csv files" in err


# --- the one mechanism ---------------------------------------------------------------------


def test_arguments_are_spelt_as_options():
    assert as_option(Argument("impute", "mean", call="nolabel.data.load")) == "--impute mean"
    assert as_option(Argument("image_size", (28, 32))) == "--image-size 28x32"
    assert as_option(Argument("delimiter", "\t")) == "--delimiter tab"
    assert as_option(Argument("delimiter", "|")) == "--delimiter '|'"
    assert as_option(Argument("label_column", "my label")) == "--label-column 'my label'"
    assert as_option(Argument("label_column")) == "--label-column"
    assert as_option(Argument("mmap", True)) is None  # no such option: Python spelling kept
    mmap = Argument("mmap")
    error = DataError(f"{mmap} does not apply", arguments=[mmap])
    assert error_message(error) == "mmap= does not apply"
    assert error_message(DataError("plain")) == "plain"
