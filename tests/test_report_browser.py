"""Open a run's report.html in a real headless Chromium: every image decodes and the page
is not blank. Skipped where no ``chromium`` binary is installed (CI installs Debian's)."""

import json
import shutil
import subprocess

import matplotlib.image
import pytest

from _cli_runs import TINY_AUTOENCODER, fit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH")

# Runs after load: records every <img>'s decoded width (0 = broken) where --dump-dom sees it.
_PROBE = """<script>
window.addEventListener("load", function () {
  var widths = Array.prototype.map.call(document.images, function (image) {
    return image.complete ? image.naturalWidth : -1;
  });
  document.body.setAttribute("data-image-widths", JSON.stringify(widths));
});
</script>"""


def _chromium(*args):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--virtual-time-budget=5000", *args],
                          capture_output=True, text=True, timeout=120)


def test_report_renders_its_images_in_chromium(tmp_path):
    run = tmp_path / "ae"
    fit("autoencoder", "--data", "digits", "--limit", "100", *TINY_AUTOENCODER, "--out",
        str(run))
    page = (run / "report.html").read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", _PROBE + "</body>"))

    dom = _chromium("--dump-dom", probed.as_uri()).stdout
    widths = json.loads(dom.split('data-image-widths="')[1].split('"')[0].replace("&quot;", '"'))
    assert len(widths) == page.count("<img ") == 5
    assert all(width > 100 for width in widths), widths  # decoded, none broken

    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,3000", (run / "report.html").as_uri())
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (3000, 1200)
    assert (pixels.mean(-1) < 0.9).mean() > 0.03  # text and figures, not a white page
    assert pixels.std() > 0.1
