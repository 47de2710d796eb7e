"""Bad input on the command line: one clear line on stderr, exit status 2, no traceback."""

import subprocess
import sys

import pytest

from _cli_runs import write_blobs_csv
from nolabel.cli import main


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    return str(write_blobs_csv(tmp_path_factory.mktemp("data") / "blobs.csv"))


def _fails(argv, capsys, *expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    return err


@pytest.mark.parametrize(("argv", "expected"), [
    (["fit", "kmean"], ("unknown model 'kmean'", "did you mean 'kmeans'")),
    (["fit", "kmeans", "--param", "n_cluster=3"], ("no parameter 'n_cluster'", "'n_clusters'")),
    (["fit", "kmeans", "--param", "n_clusters=three"], ("n_clusters expects an integer",)),
    (["fit", "kmeans", "--param", "tol=small"], ("tol expects a number",)),
    (["fit", "autoencoder", "--param", "hidden_dims=64,x"], ("hidden_dims[1]",)),
    (["fit", "kmeans", "--param", "n_clusters"], ("key=value",)),
    (["fit", "kmeans", "--param", "random_state=1"], ("--seed",)),
    (["fit", "kmeans", "--param", "n_clusters=0"], ("n_clusters",)),
    (["fit", "conv-autoencoder"], ("conv-autoencoder", "shape (4,)")),
])
def test_bad_model_or_parameter(argv, expected, blobs, tmp_path, capsys):
    out = tmp_path / "run"
    _fails([*argv, "--data", blobs, "--label-column", "species", "--out", str(out)], capsys,
           *expected)
    assert not out.exists()  # nothing written for a failed fit


def test_missing_data_path(tmp_path, capsys):
    _fails(["fit", "kmeans", "--data", str(tmp_path / "none.csv")], capsys, "none.csv")
    _fails(["fit", "kmeans"], capsys, "--data")


@pytest.mark.parametrize("command", ["cluster", "embed", "detect", "sample", "evaluate",
                                     "report"])
def test_a_folder_that_is_not_a_run(command, tmp_path, capsys):
    _fails([command, str(tmp_path)], capsys, "is not a run folder")
    _fails([command, str(tmp_path / "missing")], capsys, "no such folder")


def test_a_run_that_cannot_do_what_is_asked(blobs, tmp_path, capsys):
    run = tmp_path / "km"
    assert main(["fit", "kmeans", "--data", blobs, "--label-column", "species", "--out",
                 str(run), "--no-report", "--verbose", "0"]) == 0
    _fails(["sample", str(run)], capsys, "kmeans cannot generate samples")
    _fails(["detect", str(run)], capsys, "kmeans cannot score anomalies")


@pytest.mark.parametrize("argv", [["fit", "kmeans", "--seed", "x"], ["frobnicate"],
                                  ["fit", "--limit", "0"], ["detect", "run", "--top", "-1"]])
def test_usage_errors_are_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "error:" in err, err
    assert "--help" in err


def test_errors_exit_2_in_a_real_process(tmp_path):
    done = subprocess.run([sys.executable, "-m", "nolabel", "cluster", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("nolabel cluster: error:")
