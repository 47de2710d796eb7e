"""Fetch files into a local cache, verified by SHA-256, trying each mirror in turn.

A file only ever appears in the cache under its final name once its digest matched:
it is streamed to a temporary name in the same folder and renamed after the check.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from nolabel._atomic import atomic_write
from nolabel.errors import ChecksumError, DataError, DownloadError

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_USER_AGENT = "nolabel (https://pypi.org/project/nolabel)"
# What a failing mirror can raise; anything else is a bug and should surface as such.
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


def cache_dir() -> Path:
    """``$NOLABEL_CACHE``, else ``$XDG_CACHE_HOME/nolabel``, else ``~/.cache/nolabel``."""
    if os.environ.get("NOLABEL_CACHE"):
        return Path(os.environ["NOLABEL_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "nolabel"
    return Path.home() / ".cache" / "nolabel"


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _progress(total: int | None, name: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="B", unit_scale=True, disable=not sys.stderr.isatty())


def _download_to_cache(url: str, target: Path, sha256: str, timeout: float) -> None:
    """Stream ``url`` to a temporary file beside ``target``; keep it only if the digest matches."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, atomic_write(target) as out:
        length = response.headers.get("Content-Length")
        digest = hashlib.sha256()
        received = 0
        with _progress(int(length) if length else None, target.name) as bar:
            while block := response.read(_CHUNK):
                digest.update(block)
                out.write(block)
                bar.update(len(block))
                received += len(block)
        if length and length.isdigit() and received < int(length):
            raise DownloadError(
                f"{target.name} from {url}: the transfer was cut after {received} of "
                f"{length} bytes; the partial file was not kept"
            )
        if digest.hexdigest() != sha256:
            raise ChecksumError(
                f"{target.name} from {url} has SHA-256 {digest.hexdigest()}, "
                f"expected {sha256}; the file was not kept"
            )


def _check_cached(target: Path, sha256: str, download: bool) -> bool:
    """True if the cached file is intact; False if it must be fetched again."""
    actual = sha256_file(target)
    if actual == sha256:
        return True
    message = f"cached file {target} has SHA-256 {actual}, expected {sha256}"
    if not download:
        raise ChecksumError(f"{message}; delete it, or allow downloads to fetch it again")
    logger.warning("%s; deleting it and downloading it again", message)
    target.unlink()  # the cache holds verified files only, even if the new download fails
    return False


def fetch(
    urls: Sequence[str],
    filename: str,
    sha256: str,
    cache_dir: str | os.PathLike[str],
    *,
    download: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Return ``cache_dir/filename`` with the given SHA-256, downloading it if needed.

    ``urls`` are full URLs of the same file on different mirrors, tried in order. Raises
    :class:`ChecksumError` if a mirror served different bytes (nothing is kept), else
    :class:`DownloadError` listing every mirror and why it failed.
    """
    folder = Path(cache_dir)
    target = folder / filename
    sha256 = sha256.lower()
    if target.is_file() and _check_cached(target, sha256, download):
        return target
    if not download:
        raise DataError(f"{filename} is not in the cache {folder} and downloads are disabled")
    if not urls:
        raise DownloadError(f"{filename} is not cached in {folder} and has no mirror to fetch from")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the cache folder {folder} ({exc}); set NOLABEL_CACHE to a writable one"
        ) from exc
    failures: list[tuple[str, Exception]] = []
    for url in urls:
        try:
            logger.info("downloading %s", url)
            _download_to_cache(url, target, sha256, timeout)
            return target
        except (ChecksumError, *_NETWORK_ERRORS) as exc:
            failures.append((url, exc))
    report = "\n".join(f"  {url}: {exc}" for url, exc in failures)
    if any(isinstance(exc, ChecksumError) for _, exc in failures):
        raise ChecksumError(f"no mirror served an intact {filename}:\n{report}")
    raise DownloadError(f"could not download {filename} from any mirror:\n{report}")
