"""The documentation site: built by ``.ci/run`` into docs/_build/html (``sphinx-build -W``),
its home page and a gallery page open in a real headless Chromium with every image decoded,
and the API page documents every name of ``nolabel.__all__``.

Skipped, saying why, where the site was not built (the docs toolchain is missing: ``pip
install -e .[docs]``) or no ``chromium`` binary is installed.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import nolabel

SITE = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    not (SITE / "index.html").is_file(),
    reason=f"the docs are not built ({SITE}; .ci/run builds them with sphinx-build)")

# Runs after load: every <img>'s decoded width (0 = broken), as an attribute --dump-dom shows.
_PROBE = """<script>
window.addEventListener("load", function () {
  var widths = Array.prototype.map.call(document.images, function (image) {
    return image.complete ? image.naturalWidth : -1;
  });
  document.body.setAttribute("data-image-widths", JSON.stringify(widths));
});
</script>"""


def _decoded_widths(page: Path, tmp_path: Path) -> list[int]:
    """Open a copy of ``page`` (beside it, so relative links resolve) with the probe."""
    probed = page.with_name(f"_probe_{tmp_path.name}_{page.name}")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"),
                      encoding="utf-8")
    try:
        dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                              "--allow-file-access-from-files", "--virtual-time-budget=5000",
                              "--dump-dom", probed.as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
    finally:
        probed.unlink()
    found = re.search(r'data-image-widths="([^"]*)"', dom)
    assert found, "the probe did not run: the page did not load"
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH")
@pytest.mark.parametrize("page", ["index.html", "auto_examples/plot_deep_clustering.html"])
def test_page_renders_every_image_in_chromium(page, tmp_path):
    path = SITE / page
    widths = _decoded_widths(path, tmp_path)
    images = path.read_text(encoding="utf-8").count("<img ")
    assert images >= 1 and len(widths) == images
    assert all(width > 0 for width in widths), widths  # decoded, none broken


def test_api_page_documents_every_public_name():
    page = (SITE / "api.html").read_text(encoding="utf-8")
    anchors = set(re.findall(r'id="(nolabel\.[\w]+)"', page))
    missing = {f"nolabel.{name}" for name in nolabel.__all__} - anchors
    assert not missing


def test_every_gallery_example_drew_its_figure():
    examples = sorted((SITE.parents[1] / "examples").glob("plot_*.py"))
    assert examples
    for example in examples:
        figures = list((SITE / "_images").glob(f"sphx_glr_{example.stem}_0*.png"))
        assert figures, f"{example.name} drew no figure"


def test_guide_pages_show_their_example_figures():
    guide = sorted((SITE / "guide").glob("*.html"))
    assert len(guide) >= 12
    pages_without = [page.name for page in guide if page.name not in (
        "index.html", "command_line.html", "distributed.html", "reproducibility.html")
        and "sphx_glr_" not in page.read_text(encoding="utf-8")]
    assert not pages_without


def test_benchmark_pages_hold_every_results_table():
    results = sorted((SITE.parents[1].parent / "benchmarks" / "results").glob("*.md"))
    assert results
    for table in results:
        page = SITE / "benchmarks" / f"{table.stem}.html"
        assert page.is_file(), table.name
        assert "<table" in page.read_text(encoding="utf-8"), table.name
