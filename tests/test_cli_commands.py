"""Every command on small real runs: what it writes, and that a reloaded run reproduces."""

import csv
import json

import numpy as np
import pytest

from _cli_runs import TINY_AUTOENCODER, TINY_VADE, fit, write_blobs_csv
from nolabel import __version__
from nolabel.cli import main
from nolabel.runs import load_run


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    return write_blobs_csv(tmp_path_factory.mktemp("data") / "blobs.csv")


@pytest.fixture(scope="module")
def kmeans_run(blobs, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "km"
    fit("kmeans", "--data", str(blobs), "--label-column", "species", "--param", "n_clusters=3",
        "--param", "n_init=2", "--out", str(run), "--no-report")
    return run


@pytest.fixture(scope="module")
def autoencoder_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "ae"
    fit("autoencoder", "--data", "digits", "--limit", "120", *TINY_AUTOENCODER,
        "--out", str(run), "--no-report")
    return run


def _read_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def test_fit_writes_a_run_folder_with_everything_to_refit(kmeans_run, blobs):
    for name in ("config.json", "model.safetensors", "metrics.json"):
        assert (kmeans_run / name).stat().st_size > 0, name
    config = json.loads((kmeans_run / "config.json").read_text())
    assert config["model"] == "kmeans" and config["params"]["n_clusters"] == 3
    assert config["data"]["source"] == str(blobs) and config["data"]["scale"] == "standardize"
    assert len(config["data"]["statistics"]["mean"]) == 4  # 4 feature columns, label excluded
    assert config["seed"] == 0 and config["device_used"] == "cpu"
    assert config["versions"]["nolabel"] == __version__ and "torch" in config["versions"]
    metrics = json.loads((kmeans_run / "metrics.json").read_text())
    assert metrics["clustering"]["acc"] > 0.95  # well separated blobs, 3 clusters


def test_cluster_reproduces_the_fitted_labels_exactly(kmeans_run, blobs, tmp_path, capsys):
    out = tmp_path / "labels.csv"
    assert main(["cluster", str(kmeans_run), "--data", str(blobs), "--out", str(out)]) == 0
    header, rows = _read_csv(out)
    assert header == ["index", "label"]
    labels = np.array([int(label) for _, label in rows])
    assert [int(i) for i, _ in rows] == list(range(150))
    np.testing.assert_array_equal(labels, load_run(kmeans_run).model.labels_)
    assert "3 clusters" in capsys.readouterr().out


def test_refit_from_config_gives_the_same_clusters(kmeans_run, tmp_path):
    again = tmp_path / "again"
    fit("--config", str(kmeans_run / "config.json"), "--out", str(again), "--no-report")
    first, second = load_run(kmeans_run).model, load_run(again).model
    np.testing.assert_array_equal(first.labels_, second.labels_)
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)


def test_embed_writes_the_codes_of_the_reloaded_model(autoencoder_run, tmp_path):
    out = tmp_path / "codes.npy"
    assert main(["embed", str(autoencoder_run), "--out", str(out)]) == 0
    codes = np.load(out)
    assert codes.shape == (120, 4) and codes.dtype == np.float32
    assert main(["embed", str(autoencoder_run), "--out", str(tmp_path / "again.npy")]) == 0
    np.testing.assert_array_equal(codes, np.load(tmp_path / "again.npy"))


def test_detect_top_finds_the_planted_outlier(tmp_path, capsys):
    blobs = write_blobs_csv(tmp_path / "outlier.csv", outlier=7)
    run = tmp_path / "kde"
    fit("kde", "--data", str(blobs), "--label-column", "species", "--out", str(run),
        "--no-report")
    out = tmp_path / "scores.csv"
    assert main(["detect", str(run), "--top", "3", "--out", str(out)]) == 0
    header, rows = _read_csv(out)
    assert header == ["index", "score"] and len(rows) == 3
    assert rows[0][0] == "7"  # the row pushed 30 units away from its blob
    scores = [float(score) for _, score in rows]
    assert scores == sorted(scores, reverse=True)
    assert "index       7" in capsys.readouterr().out
    assert main(["detect", str(run), "--out", str(tmp_path / "all.csv")]) == 0
    assert len(_read_csv(tmp_path / "all.csv")[1]) == 150


def test_sample_a_png_grid_and_by_cluster(tmp_path, capsys):
    run = tmp_path / "vade"
    fit("vade", "--data", "digits", "--limit", "150", "--scale", "minmax", *TINY_VADE,
        "--out", str(run), "--no-report")
    grid = tmp_path / "grid.png"
    assert main(["sample", str(run), "-n", "12", "--out", str(grid)]) == 0
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["sample", str(run), "-n", "5", "--cluster", "2", "--out",
                 str(tmp_path / "c2.npy")]) == 0
    samples = np.load(tmp_path / "c2.npy")
    assert samples.shape == (5, 1, 8, 8) and 0 <= samples.min() and samples.max() <= 1
    assert main(["sample", str(run), "-n", "3", "--cluster", "7"]) == 2
    assert "cluster must be below n_clusters=3" in capsys.readouterr().err


def test_sample_of_a_table_comes_back_in_the_original_units(blobs, tmp_path):
    run = tmp_path / "density"
    fit("gaussian-density", "--data", str(blobs), "--label-column", "species",
        "--out", str(run), "--no-report")
    out = tmp_path / "samples.npy"
    assert main(["sample", str(run), "-n", "4000", "--out", str(out)]) == 0
    samples = np.load(out)
    table = np.loadtxt(blobs, delimiter=",", skiprows=1, usecols=range(4))
    np.testing.assert_allclose(samples.mean(0), table.mean(0), atol=0.5)  # not standardised


def test_evaluate_on_other_data_writes_beside_the_run(autoencoder_run, capsys):
    assert main(["evaluate", str(autoencoder_run), "--limit", "60"]) == 0
    metrics = json.loads((autoencoder_run / "metrics-other-data.json").read_text())
    assert metrics["data"]["n_samples"] == 60 and not metrics["data"]["same_as_training"]
    assert metrics["reconstruction"]["mse"] > 0
    assert "clustering" not in metrics and "likelihood" not in metrics  # an AE does neither
    assert "reconstruction" in capsys.readouterr().out


def test_evaluate_a_likelihood_model_in_bits_per_dim(tmp_path):
    run = tmp_path / "pcnn"
    fit("pixelcnn", "--data", "digits", "--limit", "64", "--scale", "binarize", "--param",
        "epochs=1", "--param", "hidden_channels=8", "--param", "n_layers=2", "--out", str(run),
        "--no-report")
    metrics = json.loads((run / "metrics.json").read_text())
    likelihood = metrics["likelihood"]
    assert likelihood["bits_per_dim"] == pytest.approx(likelihood["nll_nats"] / (64 * np.log(2)))
    assert 0 < likelihood["bits_per_dim"] < 1.5  # binary pixels: at most ~1 bit once trained
    assert "skipped" in metrics["sample_quality"]  # no feature network is cached for this


def test_dbscan_clusters_only_its_training_data(blobs, tmp_path, capsys):
    run = tmp_path / "db"
    fit("dbscan", "--data", str(blobs), "--label-column", "species", "--param", "eps=1.0",
        "--out", str(run), "--no-report")
    assert main(["cluster", str(run), "--out", str(tmp_path / "l.csv")]) == 0
    assert main(["cluster", str(run), "--limit", "50"]) == 2
    assert "cannot assign new samples" in capsys.readouterr().err


def test_list_and_list_a_model(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("vade ") for line in lines) and len(lines) >= 20
    assert main(["list", "vade"]) == 0
    out = capsys.readouterr().out
    assert "sample_by_cluster" in out and "pretrain_epochs" in out and "300" in out


def test_datasets_lists_fashion_mnist(capsys):
    assert main(["datasets"]) == 0
    assert "fashion-mnist" in capsys.readouterr().out
