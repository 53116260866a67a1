"""Notebook 08 on a machine without opencv-doc (Colab): vtest.avi is downloaded from OpenCV's public
samples, checked against opencv-doc's SHA-256 and renamed into place only when whole; offline or on a
bad file the notebook says why and falls back to the synthetic clip. All through a local HTTP server."""
from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest

from drnet_lite.data import video_samples as video
from drnet_lite.data.download import DownloadError, sha256sum

OPENCV_VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path):
    """A server on 127.0.0.1 for the files put in the returned folder; yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def no_opencv_doc(monkeypatch, tmp_path):
    monkeypatch.setattr(video, "VTEST", tmp_path / "not-installed" / "vtest.avi")
    monkeypatch.delenv(video.VTEST_URL_ENV, raising=False)


def test_the_pinned_checksum_is_opencv_docs_file():
    if not OPENCV_VTEST.is_file():
        pytest.skip("opencv-doc is not installed")
    assert (OPENCV_VTEST.stat().st_size, sha256sum(OPENCV_VTEST)) == (video.VTEST_BYTES, video.VTEST_SHA256)


def test_downloads_the_real_clip_when_opencv_doc_is_missing(server, no_opencv_doc, tmp_path, monkeypatch):
    if not OPENCV_VTEST.is_file():
        pytest.skip("needs opencv-doc's vtest.avi to serve")
    served, url = server
    shutil.copy(OPENCV_VTEST, served / "vtest.avi")
    monkeypatch.setenv(video.VTEST_URL_ENV, url + "vtest.avi")
    path, real = video.sample_video(tmp_path / "videos")
    assert real and path == tmp_path / "videos" / "vtest.avi" and sha256sum(path) == video.VTEST_SHA256
    assert sorted(p.name for p in path.parent.iterdir()) == ["vtest.avi"]  # no .part left
    (served / "vtest.avi").unlink()  # a second call reuses the checked file: no request
    assert video.sample_video(tmp_path / "videos") == (path, True)


def test_a_wrong_file_is_refused_and_the_synthetic_clip_stands_in(server, no_opencv_doc, tmp_path, capsys):
    served, url = server
    (served / "vtest.avi").write_bytes(b"\0" * video.VTEST_BYTES)  # the right size, not the right bytes
    with pytest.raises(DownloadError, match="SHA-256"):
        video.download_vtest(tmp_path / "a", url + "vtest.avi")
    assert not list((tmp_path / "a").iterdir())  # nothing half-written under any name
    path, real = video.sample_video(tmp_path / "b", frames=8, url=url + "vtest.avi")
    assert not real and path.name == "synthetic-0.avi" and path.is_file()
    out = capsys.readouterr().out
    assert "its download failed" in out and "SHA-256" in out and "synthetic clip" in out
    assert not (tmp_path / "b" / "vtest.avi").exists()


def test_offline_says_so_and_falls_back(no_opencv_doc, tmp_path, capsys):
    with socket.socket() as sock:  # a port on 127.0.0.1 with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path, real = video.sample_video(tmp_path, frames=8, url=f"http://127.0.0.1:{port}/vtest.avi")
    assert not real and path.is_file()
    assert "cannot be downloaded (offline?" in capsys.readouterr().out


def test_no_download_when_asked_not_to(no_opencv_doc, tmp_path, capsys):
    path, real = video.sample_video(tmp_path, frames=8, download=False, url="http://127.0.0.1:9/never")
    assert not real and capsys.readouterr().out == ""
