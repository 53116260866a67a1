"""`make demo` on a fresh machine: MNIST is fetched when absent (md5-checked, atomic, progress bar),
and offline the demo stops with the clear message. A local HTTP server on 127.0.0.1 serves the real files."""
from __future__ import annotations

import functools
import http.server
import socket
import threading

import pytest

from drnet_lite.cli import main
from drnet_lite.data.mnist import MIRROR_ENV_VAR, MNIST_FILES, MNISTNotFoundError, ensure_mnist, md5sum


@pytest.fixture
def mirror(mnist_raw, monkeypatch):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mnist_raw))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(MIRROR_ENV_VAR, f"http://127.0.0.1:{server.server_address[1]}/")
    yield
    server.shutdown()


def test_absent_mnist_is_downloaded_checked_and_complete(mirror, tmp_path, capsys):
    folder = ensure_mnist(tmp_path, progress=True)
    assert folder == tmp_path / "MNIST" / "raw"
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILES)  # no .part file left behind
    assert all(md5sum(folder / name) == md5 for name, md5 in MNIST_FILES.items())
    assert "downloading the four files" in capsys.readouterr().out
    assert ensure_mnist(tmp_path, progress=False) == folder  # present: nothing fetched


def test_offline_keeps_the_clear_message(tmp_path, monkeypatch, capsys):
    with socket.socket() as s:  # a port nobody listens on: the download is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(MIRROR_ENV_VAR, f"http://127.0.0.1:{port}/")
    with pytest.raises(MNISTNotFoundError, match="MNIST was not found(.|\n)*download failed"):
        ensure_mnist(tmp_path, progress=False)
    assert not list((tmp_path / "MNIST" / "raw").glob("*"))  # nothing half-written
    assert main(["demo", "--data", str(tmp_path), "--out", str(tmp_path / "demo")]) == 1
    err = capsys.readouterr().err
    assert "MNIST was not found" in err and "download" in err
    assert not (tmp_path / "demo").exists()
