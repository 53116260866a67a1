"""tools/install_torch.py: the CPU build of torch on Linux without an NVIDIA GPU, the default build
otherwise, and the default index (said aloud) when the CPU index cannot be reached."""
from __future__ import annotations

import http.server
import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "tools" / "install_torch.py"
spec = importlib.util.spec_from_file_location("install_torch", SCRIPT)
install_torch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(install_torch)


def fake_smi(folder: Path, status: int, text: str) -> None:
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\necho '{text}'\nexit {status}\n")
    script.chmod(0o755)


def test_an_nvidia_gpu_is_found_by_nvidia_smi_or_the_driver_folder(tmp_path, monkeypatch):
    no_proc = tmp_path / "no-proc"
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not install_torch.has_nvidia_gpu(no_proc)  # no nvidia-smi at all
    fake_smi(tmp_path, 0, "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)")
    assert install_torch.has_nvidia_gpu(no_proc)
    fake_smi(tmp_path, 9, "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver")
    assert not install_torch.has_nvidia_gpu(no_proc)  # a tool without a driver
    (tmp_path / "proc").mkdir()
    assert install_torch.has_nvidia_gpu(tmp_path / "proc")


def test_the_rule():
    assert install_torch.choose_build(gpu=False, system="Linux") == "cpu"
    assert install_torch.choose_build(gpu=True, system="Linux") == "default"
    assert install_torch.choose_build(gpu=False, system="Darwin") == "default"  # no CUDA libraries there
    assert install_torch.choose_build(gpu=False, system="Windows") == "default"


def record(statuses):
    """A pip stand-in: records each command, answers the next status."""
    commands: list[list[str]] = []

    def run(command):
        commands.append(command)
        return statuses[len(commands) - 1]
    return commands, run


def test_the_cpu_build_comes_from_the_cpu_index_without_asking():
    commands, run = record([0])
    said: list[str] = []
    assert install_torch.install("torch>=2.2", "cpu", python="py", run=run, probe=lambda url: True, say=said.append) == 0
    assert commands == [["py", "-m", "pip", "install", "torch>=2.2", "--index-url", install_torch.CPU_INDEX]]
    assert said == [f"no NVIDIA GPU: installing the CPU build of torch>=2.2 from {install_torch.CPU_INDEX}"]


def test_an_unreachable_cpu_index_falls_back_to_the_default_index_and_says_so():
    commands, run = record([0])
    said: list[str] = []
    assert install_torch.install("torch", "cpu", python="py", run=run, probe=lambda url: False, say=said.append) == 0
    assert commands == [["py", "-m", "pip", "install", "torch"]]
    assert "cannot be reached: installing torch from the default index instead" in said[0]
    # reachable, but the install from it fails: the default index, said aloud
    commands, run = record([1, 0])
    said.clear()
    assert install_torch.install("torch", "cpu", python="py", run=run, probe=lambda url: True, say=said.append) == 0
    assert [c[-2:] for c in commands] == [["--index-url", install_torch.CPU_INDEX], ["install", "torch"]]
    assert "failed (pip exit status 1): installing torch from the default index instead" in said[1]


def test_with_a_gpu_the_default_build():
    commands, run = record([0])
    install_torch.install("torch", "default", python="py", extra=["--no-cache-dir"], run=run,
                          probe=lambda url: pytest.fail("no probe needed"), say=lambda text: None)
    assert commands == [["py", "-m", "pip", "install", "torch", "--no-cache-dir"]]


def test_reachable_asks_the_index_for_torch(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "index.html").write_text("<a href='torch-2.13.0.whl'>torch</a>")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert install_torch.reachable(url)
        assert not install_torch.reachable(url + "/nothing-here")
    finally:
        server.shutdown()
    assert not install_torch.reachable(url, timeout=2)  # nobody listens any more


def test_the_script_end_to_end_falls_back_when_the_cpu_index_is_down(tmp_path):
    """The real script and the real pip (--dry-run, torch already installed here: nothing is fetched)."""
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    fake_smi(tmp_path, 9, "no driver")
    done = subprocess.run([sys.executable, str(SCRIPT), "torch", "--cpu-index", "http://127.0.0.1:9",
                           "--pip-extra", "--dry-run --no-deps"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    if Path("/proc/driver/nvidia").exists():
        assert "NVIDIA GPU: found" in out
        return
    assert "NVIDIA GPU: none" in out
    if sys.platform.startswith("linux"):
        assert "the CPU index http://127.0.0.1:9 cannot be reached: installing torch from the default index instead" in out


def test_the_makefile_uses_the_script_and_the_readme_states_the_rule():
    makefile = (REPO / "Makefile").read_text()
    assert "tools/install_torch.py" in makefile and "sleep" not in makefile
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "no NVIDIA GPU" in readme and "CPU build" in readme and "default index" in readme
