"""Every registered model's report shows at least two figures that fit it, on images (8x8
digits) and on a table; and the sections each kind of model is known by are there."""

import re

import pytest

from _cli_runs import fit, write_blobs_csv
from nolabel import registry
from nolabel.cli import main

# Tiny settings per model: seconds each. Unlisted models fit with their defaults.
TINY = {
    "autoencoder": ["epochs=2", "hidden_dims=32", "latent_dim=4"],
    "conv-autoencoder": ["epochs=1", "channels=4,8", "latent_dim=4"],
    "deep-autoencoder": ["epochs=2", "hidden_dims=32,16", "latent_dim=4"],
    "vae": ["epochs=2", "hidden_dims=32", "latent_dim=3"],
    "gan": ["epochs=2", "generator_dims=32", "discriminator_dims=32", "latent_dim=4"],
    "dcgan": ["epochs=1", "channels=4,8", "latent_dim=4"],
    "simclr": ["epochs=1", "channels=4,8", "hidden_dims=16"],
    "pixelcnn": ["epochs=1", "hidden_channels=8", "n_layers=2"],
    "pixelrnn": ["epochs=1", "hidden_channels=4", "n_layers=1"],
    "dec": ["epochs=1", "pretrain_epochs=1", "hidden_dims=32", "latent_dim=3", "n_clusters=3"],
    "idec": ["epochs=1", "pretrain_epochs=1", "hidden_dims=32", "latent_dim=3",
             "n_clusters=3"],
    "vade": ["epochs=1", "pretrain_epochs=1", "hidden_dims=32", "latent_dim=3",
             "n_clusters=3", "n_init=1"],
    "dac": ["epochs=1", "pretrain_epochs=1", "hidden_dims=32", "latent_dim=3",
            "n_clusters=3", "n_init=1"],
    "n2d": ["pretrain_epochs=1", "hidden_dims=32", "latent_dim=3", "n_clusters=3",
            "n_init=1", "n_neighbors=5"],
    "infogan": ["epochs=1", "n_clusters=3", "latent_dim=4", "architecture=mlp",
                "generator_dims=32", "discriminator_dims=32"],
    "catgan": ["epochs=1", "n_clusters=3", "latent_dim=4", "architecture=mlp",
               "generator_dims=32", "discriminator_dims=32"],
    "kmeans": ["n_clusters=3"],
    "manifold-gmm": ["n_clusters=3", "n_neighbors=5", "n_init=1"],
    "minibatch-kmeans": ["n_clusters=3"],
    "gmm": ["n_components=3", "covariance_type=diag"],
    "pca": ["n_components=3"],
    "dbscan": ["eps=2.5"],
    "gaussian-density": [],
    "kde": [],
    "marginal-density": [],
    "marginal-detector": [],
    "image-kde": [],
}
IMAGE_ONLY = {"conv-autoencoder", "dcgan", "image-kde", "pixelcnn", "pixelrnn"}
UNIT_INTERVAL = {"gan", "infogan", "catgan"}  # need data in [0, 1]: tables are min-max scaled
MODELS = [entry.name for entry in registry.entries()]


def _params(name):
    defaults = registry.get(name).defaults
    pairs = [pair for pair in TINY.get(name, []) if pair.split("=")[0] in defaults]
    return [arg for pair in pairs for arg in ("--param", pair)]


def _report(run):
    assert main(["report", str(run), "--verbose", "0"]) == 0
    page = (run / "report.html").read_text()
    sections = re.findall(r"<h2>(.*?)</h2>", page)
    return page.count("<img "), sections


def test_every_registered_model_has_tiny_settings():
    assert set(TINY) == set(MODELS), "add the new model to TINY (and IMAGE_ONLY if it is)"


@pytest.mark.parametrize("name", MODELS)
def test_report_of_every_model_on_images_has_two_figures(name, tmp_path, one_thread):
    run = tmp_path / name
    scale = ["--scale", "binarize"] if name in ("pixelcnn", "pixelrnn") else []
    fit(name, "--data", "digits", "--limit", "120", *scale, *_params(name), "--out", str(run))
    figures, sections = _report(run)
    assert figures >= 2, (name, sections)
    caps = registry.capabilities(registry.get(name).cls)
    if caps.cluster or caps.training_clusters:
        assert "Clusters" in sections
    if caps.detect:
        assert {"Most anomalous samples", "Lowest-density samples"} & set(sections)


@pytest.mark.parametrize("name", [n for n in MODELS if n not in IMAGE_ONLY])
def test_report_of_every_model_on_a_table_has_two_figures(name, tmp_path, one_thread):
    table = write_blobs_csv(tmp_path / "blobs.csv", n=120, outlier=7)
    run = tmp_path / name
    scale = ["--scale", "minmax"] if name in UNIT_INTERVAL else []
    fit(name, "--data", str(table), "--label-column", "species", *scale, *_params(name),
        "--out", str(run))
    figures, sections = _report(run)
    assert figures >= 2, (name, sections)


def test_classical_clusterer_on_a_table_shows_what_it_found(tmp_path, one_thread):
    table = write_blobs_csv(tmp_path / "blobs.csv", n=150)
    run = tmp_path / "kmeans"
    fit("kmeans", "--data", str(table), "--label-column", "species", "--param", "n_clusters=3",
        "--out", str(run))
    figures, sections = _report(run)
    page = (run / "report.html").read_text()
    assert {"2-D embedding", "Clusters", "Clusters vs labels"} <= set(sections)
    for alt in ("cluster sizes", "silhouettes", "cluster centres"):
        assert f'alt="{alt}"' in page
    assert figures >= 5


def test_pca_report_shows_explained_variance_and_reconstructions(tmp_path, one_thread):
    run = tmp_path / "pca"
    fit("pca", "--data", "digits", "--limit", "200", "--param", "n_components=8",
        "--out", str(run))
    _, sections = _report(run)
    assert {"Explained variance", "Reconstructions"} <= set(sections)


def test_density_report_shows_log_density_histogram_and_lowest_rows(tmp_path, one_thread):
    table = write_blobs_csv(tmp_path / "blobs.csv", n=150, outlier=7)
    run = tmp_path / "kde"
    fit("kde", "--data", str(table), "--label-column", "species", "--out", str(run))
    _, sections = _report(run)
    page = (run / "report.html").read_text()
    assert "Lowest-density samples" in sections
    assert 'alt="score histogram"' in page
    assert 'alt="most anomalous rows"' in page
    # the planted outlier is the lowest-density row: the first row of the table
    lowest = page.split("Lowest-density samples")[1]
    assert re.findall(r'<tr><td class="number">(\d+)</td>', lowest)[0] == "7"


def test_gan_report_shows_mode_coverage(tmp_path, one_thread):
    run = tmp_path / "gan"
    fit("gan", "--data", "digits", "--limit", "200", *_params("gan"), "--out", str(run))
    _, sections = _report(run)
    assert "Mode coverage of the samples" in sections
