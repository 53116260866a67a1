"""Resumable, atomic HTTP downloads with urllib (no extra dependencies).

A file ``NAME`` is fetched into ``NAME.part`` beside it. If a ``.part`` is
already there (an interrupted run), the request asks for the rest with an HTTP
``Range: bytes=N-`` header; a server that answers ``206 Partial Content``
continues the file, one that answers ``200`` sends it whole and the part is
started again. Only a complete file (its size equal to the size the server
announced, at least ``min_bytes``, and its SHA-256 equal to the known one
where one is known) is renamed to ``NAME``, so ``NAME`` is never half-written.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A transfer failed or delivered something that is not the expected file."""


class OfflineError(DownloadError):
    """No server could be reached (no network, DNS failure, refused connection)."""


def sha256sum(path: str | os.PathLike, chunk: int = CHUNK) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _total_size(response, offset: int) -> int | None:
    """The full size of the file from Content-Range (``bytes a-b/total``) or Content-Length."""
    content_range = response.headers.get("Content-Range")
    if content_range:
        match = re.search(r"/(\d+)\s*$", content_range)
        if match:
            return int(match.group(1))
    length = response.headers.get("Content-Length")
    return offset + int(length) if length is not None else None


def fetch(url: str, dest: str | os.PathLike, sha256: str | None = None, min_bytes: int = 0,
          max_bytes: int | None = None, timeout: float = 60.0, progress: bool = True,
          desc: str | None = None) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), check it, rename it into place.

    Args:
        sha256: the known checksum; a mismatch deletes the part and raises.
        min_bytes, max_bytes: plausible size range; an error page or a
            different file is rejected before it is renamed.

    Raises:
        OfflineError: the host could not be reached.
        DownloadError: HTTP error, short transfer, implausible size, checksum mismatch.
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "drnet_lite"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # our part is already as long as the file (or longer): start again
            part.unlink()
            return fetch(url, dest, sha256, min_bytes, max_bytes, timeout, progress, desc)
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OfflineError(f"{url}: cannot connect ({reason})") from exc
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored the Range header: it sends the whole file
        total = _total_size(response, offset)
        if total is not None and max_bytes is not None and total > max_bytes:
            raise DownloadError(f"{url}: the server announces {total:,} bytes, more than the {max_bytes:,} "
                                f"expected for {dest.name}; is the URL right?")
        mode = "ab" if offset else "wb"
        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=desc or dest.name, disable=not progress, leave=False)
        try:
            with open(part, mode) as out:
                while True:
                    try:
                        block = response.read(CHUNK)
                    except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
                        raise DownloadError(f"{url}: transfer interrupted after {out.tell():,} bytes ({exc}); "
                                            f"run the download again to resume from {part}") from exc
                    if not block:
                        break
                    out.write(block)
                    bar.update(len(block))
                out.flush()
                os.fsync(out.fileno())
        finally:
            bar.close()
    size = part.stat().st_size
    if total is not None and size != total:
        raise DownloadError(f"{url}: got {size:,} of {total:,} bytes; run the download again to resume from {part}")
    if size < min_bytes or (max_bytes is not None and size > max_bytes):
        with open(part, "rb") as handle:
            head = handle.read(64).lstrip().lower()
        part.unlink()
        what = "a web page (an error or a login page?)" if head.startswith((b"<!doctype", b"<html", b"<?xml")) else f"{size:,} bytes"
        raise DownloadError(f"{url}: received {what}, not a plausible {dest.name} "
                            f"(expected at least {min_bytes:,} bytes); check the URL or the mirror")
    if sha256 is not None:
        actual = sha256sum(part)
        if actual != sha256:
            part.unlink()
            raise DownloadError(f"{url}: {dest.name} has SHA-256 {actual}, expected {sha256}; the file is corrupt "
                                "or not the original, and was deleted. Download it again (or from another mirror).")
    os.replace(part, dest)
    return dest
