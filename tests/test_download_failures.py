"""Downloads that go wrong, from a real HTTP server on 127.0.0.1: a wrong checksum, a
transfer cut mid-stream, a dead first mirror. The cache must only ever hold complete,
verified files (see test_data_download.py for the file:// basics)."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from nolabel.data import fetch, sha256_file
from nolabel.errors import ChecksumError, DownloadError

CONTENT = bytes(range(256)) * 400  # 100 KiB
SHA = hashlib.sha256(CONTENT).hexdigest()


class _Mirror(http.server.BaseHTTPRequestHandler):
    """/good: the file; /cut: announces it all, sends half, hangs up; /cut-unsized: half,
    without a Content-Length; anything else: 404."""

    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/good/"):
            self._send(CONTENT, len(CONTENT))
        elif self.path.startswith("/cut/"):
            self._send(CONTENT[: len(CONTENT) // 2], len(CONTENT))
        elif self.path.startswith("/cut-unsized/"):
            self._send(CONTENT[: len(CONTENT) // 2], None)
        else:
            self.send_error(404, f"no {name} here")

    def _send(self, body: bytes, announced: int | None) -> None:
        self.send_response(200)
        if announced is not None:
            self.send_header("Content-Length", str(announced))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True  # the server hangs up: the rest never comes

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Mirror)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def _files(cache):
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_good_mirror_gives_a_verified_file(server, cache):
    path = fetch([f"{server}/good/data.gz"], "data.gz", SHA, cache, timeout=10)
    assert sha256_file(path) == SHA
    assert _files(cache) == ["data.gz"]


def test_checksum_mismatch_keeps_nothing(server, cache):
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(ChecksumError) as info:
        fetch([f"{server}/good/data.gz"], "data.gz", wrong, cache, timeout=10)
    message = str(info.value)
    assert f"{server}/good/data.gz" in message and wrong in message and SHA in message
    assert _files(cache) == []  # neither data.gz nor a .part file


def test_transfer_cut_mid_stream_is_a_download_error(server, cache):
    url = f"{server}/cut/data.gz"
    with pytest.raises(DownloadError) as info:
        fetch([url], "data.gz", SHA, cache, timeout=10)
    message = str(info.value)
    assert "could not download data.gz" in message and url in message
    assert _files(cache) == []


def test_transfer_cut_without_length_fails_the_checksum(server, cache):
    url = f"{server}/cut-unsized/data.gz"
    with pytest.raises(ChecksumError, match=r"data\.gz from .*cut-unsized"):
        fetch([url], "data.gz", SHA, cache, timeout=10)
    assert _files(cache) == []


def test_next_mirror_is_used_after_a_cut_and_a_404(server, cache):
    urls = [f"{server}/cut/data.gz", f"{server}/missing/data.gz", f"{server}/good/data.gz"]
    path = fetch(urls, "data.gz", SHA, cache, timeout=10)
    assert path.read_bytes() == CONTENT
    assert _files(cache) == ["data.gz"]


def test_corrupt_cached_file_is_not_left_when_the_new_download_fails(server, cache):
    cache.mkdir()
    (cache / "data.gz").write_bytes(CONTENT[:-1])  # a file damaged since it was verified
    with pytest.raises(DownloadError):
        fetch([f"{server}/cut/data.gz"], "data.gz", SHA, cache, timeout=10)
    assert _files(cache) == []
