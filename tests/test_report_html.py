"""report.html: one self-contained page whose sections follow what the model can do."""

import base64
import re

import numpy as np
import pytest

from _cli_runs import TINY_AUTOENCODER, TINY_VADE, fit, write_blobs_csv
from nolabel.cli import main
from nolabel.report.html import Section, figure, render, table
from nolabel.report.run_report import flatten_metrics

PNG = b"\x89PNG\r\n\x1a\n"
IMAGE = re.compile(r'<img[^>]* src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _sections(page):
    return re.findall(r"<h2>(.*?)</h2>", page)


def _images(page):
    return [base64.b64decode(data) for data in IMAGE.findall(page)]


def test_render_escapes_text_and_embeds_png(tmp_path):
    png = tmp_path / "x.png"
    png.write_bytes(PNG + b"rest")
    page = render("a <b> & c", [Section("s", table([("k", 0.123456, 3)], ("name", "v", "n"))
                                        + figure(png, "alt"))])
    assert "a &lt;b&gt; &amp; c" in page and "0.1235" in page
    assert _images(page) == [PNG + b"rest"]


def test_flatten_metrics_names_nested_values():
    assert flatten_metrics({"clustering": {"acc": 0.5}, "seconds": 2, "sizes": [1]}) == [
        ("clustering.acc", 0.5), ("seconds", 2)]


@pytest.fixture(scope="module")
def autoencoder_report(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "ae"
    fit("autoencoder", "--data", "digits", "--limit", "100", *TINY_AUTOENCODER, "--out",
        str(run))
    return run / "report.html"


def test_autoencoder_report_shows_what_an_autoencoder_does(autoencoder_report):
    page = autoencoder_report.read_text()
    assert _sections(page) == ["Summary", "Training curves", "Reconstructions",
                               "2-D embedding", "Most anomalous samples"]
    images = _images(page)
    assert len(images) == 5 and all(image.startswith(PNG) for image in images)
    assert "src=\"http" not in page and "<script" not in page and "<link" not in page
    assert "reconstruction.mse" in page


def test_kmeans_report_has_no_samples_and_a_confusion_matrix(tmp_path):
    blobs = write_blobs_csv(tmp_path / "blobs.csv")
    fit("kmeans", "--data", str(blobs), "--label-column", "species", "--param",
        "n_clusters=3", "--out", str(tmp_path / "km"))
    page = (tmp_path / "km" / "report.html").read_text()
    assert _sections(page) == ["Summary", "2-D embedding", "Clusters", "Clusters vs labels"]
    assert len(_images(page)) == 5 and "clustering.acc" in page
    assert not (tmp_path / "km" / "samples.png").exists()


def test_a_tables_report_names_its_columns_from_the_header(tmp_path, monkeypatch):
    """The per-feature panels (cluster centres, reconstructions) are labelled with the CSV's
    header, the label column left out, not "column 0..": the names reach the report."""
    import nolabel.cli.reporting as reporting

    blobs = write_blobs_csv(tmp_path / "blobs.csv")
    fit("kmeans", "--data", str(blobs), "--label-column", "species", "--param",
        "n_clusters=3", "--out", str(tmp_path / "km"), "--no-report")
    seen = []
    monkeypatch.setattr(reporting, "write_run_report",
                        lambda path, inputs: seen.append(inputs) or path)
    assert main(["report", str(tmp_path / "km"), "--verbose", "0"]) == 0
    assert tuple(seen[0].feature_names) == ("height", "width", "depth", "weight")


def test_vade_report_draws_samples_by_cluster(tmp_path, capsys):
    fit("vade", "--data", "digits", "--limit", "120", "--scale", "minmax", *TINY_VADE,
        "--out", str(tmp_path / "vade"), "--no-report")
    out = tmp_path / "elsewhere" / "vade.html"
    assert main(["report", str(tmp_path / "vade"), "--out", str(out), "--verbose", "0"]) == 0
    page = out.read_text()
    assert "Samples by cluster" in _sections(page) and "Clusters vs labels" in _sections(page)
    assert "Reconstructions" in _sections(page)  # VaDE decodes its codes: reconstruct
    assert (out.parent / "samples.png").is_file() and str(out) in capsys.readouterr().out
    # VaDE now reconstructs and has a likelihood: both sections join the clustering ones
    assert "Lowest-density samples" in _sections(page)
    assert len(_images(page)) == 10


def test_report_command_rewrites_the_page_from_the_saved_run(autoencoder_report, capsys):
    run = autoencoder_report.parent
    before = {p.name for p in run.glob("*.png")}
    autoencoder_report.unlink()
    assert main(["report", str(run), "--verbose", "0"]) == 0
    assert autoencoder_report.is_file()
    assert {p.name for p in run.glob("*.png")} == before
    scores = np.loadtxt(run / "history.csv", delimiter=",", skiprows=1)
    assert scores.shape[0] == 2  # two epochs in the history the curves are drawn from
