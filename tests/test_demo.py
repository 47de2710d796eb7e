"""``nolabel demo``: the run folder, the four methods, and the promise the demo makes: the
deep generative clusterer (N2D) is clearly above k-means on the pixels."""

import json

import pytest

from nolabel import __version__
from nolabel.cli import main
from nolabel.data import describe_datasets


def test_demo_on_digits_writes_a_complete_run_folder(tmp_path, capsys, one_thread):
    out = tmp_path / "run"
    assert main(["demo", "--out", str(out), "--verbose", "0"]) == 0
    for name in ("config.json", "metrics.json", "history.csv", "autoencoder.safetensors",
                 "n2d.safetensors", "reconstructions.png", "embedding.png", "confusion.png",
                 "samples_by_cluster.png", "anomalies.png", "training_curves.png",
                 "report.html"):
        assert (out / name).stat().st_size > 0, name
    methods = json.loads((out / "metrics.json").read_text())["methods"]
    assert len(methods) == 4
    kmeans = methods["k-means on pixels"]["acc"]
    assert kmeans > 0.6  # k-means on digits is far above 0.1 chance
    assert methods["N2D (same autoencoder + UMAP + GMM)"]["acc"] >= kmeans + 0.05
    page = (out / "report.html").read_text()
    assert page.count("<img ") == 6
    for method in methods:
        assert method in page
    assert "New samples of each N2D cluster" in page and "Most anomalous samples" in page
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 0 and config["versions"]["nolabel"] == __version__
    assert config["data"]["source"] == "digits"
    anomalies = json.loads((out / "metrics.json").read_text())["anomalies"]
    assert len(set(anomalies)) == 20


def test_demo_refuses_another_dataset(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--data", "mnist", "--out", str(tmp_path / "never")])
    assert "fashion-mnist" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not any(info.name == "fashion-mnist" and info.available
                            for info in describe_datasets()),
                    reason="Fashion-MNIST is not on this machine")
def test_demo_on_fashion_mnist(tmp_path, one_thread):
    out = tmp_path / "fashion"
    assert main(["demo", "--data", "fashion-mnist", "--epochs", "5", "--out", str(out),
                 "--verbose", "0"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["n_samples"] == 10000
    methods = json.loads((out / "metrics.json").read_text())["methods"]
    assert all(scores["acc"] > 0.3 for scores in methods.values())


def test_list_marks_a_model_whose_package_is_missing(monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "umap" else find_spec(name, *a))
    assert main(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "[needs umap-learn: pip install umap-learn]" in lines["n2d"]
    assert "needs" not in lines["kmeans"]


def test_list_marks_nothing_when_every_package_is_installed(capsys):
    assert main(["list"]) == 0
    assert "[needs" not in capsys.readouterr().out  # umap-learn is a core dependency
