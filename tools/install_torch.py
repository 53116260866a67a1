#!/usr/bin/env python3
"""Install PyTorch sized to the machine (``make install`` runs this when torch is missing).

    python tools/install_torch.py "torch>=2.2"                 # the rule below
    python tools/install_torch.py "torch>=2.2" --build cpu     # the CPU build, whatever the machine
    python tools/install_torch.py "torch>=2.2" --build default # the default build (CUDA on Linux)

The rule: on Linux with no NVIDIA GPU (``nvidia-smi -L`` fails or is absent, and there is no
``/proc/driver/nvidia``), the CPU build from PyTorch's CPU index, without asking: the default
Linux build brings several GB of CUDA libraries a CPU never uses. With an NVIDIA GPU, and on
macOS and Windows (whose default builds hold no CUDA libraries), the default build from the
default index. When the CPU index cannot be reached, or the install from it fails, it says so
and installs from the default index instead.

Standard library only: it runs before anything else is installed.
"""
from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Callable, Sequence

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
NVIDIA_PROC = Path("/proc/driver/nvidia")


def has_nvidia_gpu(proc: Path = NVIDIA_PROC) -> bool:
    """Whether an NVIDIA GPU and its driver are present: ``nvidia-smi -L`` lists one, or the driver's
    ``/proc`` folder exists."""
    if proc.exists():
        return True
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return listed.returncode == 0 and "GPU" in listed.stdout


def reachable(index: str, timeout: float = 10.0) -> bool:
    """Whether the package index answers for torch (a GET of ``<index>/torch/``)."""
    try:
        with urllib.request.urlopen(index.rstrip("/") + "/torch/", timeout=timeout) as response:
            return 200 <= response.status < 400
    except (OSError, ValueError):
        return False


def choose_build(gpu: bool, system: str) -> str:
    """``"cpu"`` on Linux without an NVIDIA GPU, else ``"default"``."""
    return "cpu" if system == "Linux" and not gpu else "default"


def pip_install(python: str, requirement: str, extra: Sequence[str], index: str | None = None) -> list[str]:
    command = [python, "-m", "pip", "install", requirement, *extra]
    return command + (["--index-url", index] if index else [])


def install(requirement: str, build: str, python: str = sys.executable, extra: Sequence[str] = (),
            cpu_index: str = CPU_INDEX, run: Callable[[list[str]], int] | None = None,
            probe: Callable[[str], bool] = reachable, say: Callable[[str], None] = print) -> int:
    """Install ``requirement`` as ``build`` (``"cpu"`` or ``"default"``); the pip exit status."""
    run = run or (lambda command: subprocess.call(command))
    if build == "cpu":
        if not probe(cpu_index):
            say(f"the CPU index {cpu_index} cannot be reached: installing {requirement} from the default "
                "index instead (on Linux that is the CUDA build, a download of several GB)")
        else:
            say(f"no NVIDIA GPU: installing the CPU build of {requirement} from {cpu_index}")
            status = run(pip_install(python, requirement, extra, cpu_index))
            if status == 0:
                return 0
            say(f"installing from the CPU index {cpu_index} failed (pip exit status {status}): "
                f"installing {requirement} from the default index instead")
    else:
        say(f"installing {requirement} from the default index")
    return run(pip_install(python, requirement, extra))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("requirement", help="what to install, e.g. 'torch>=2.2' or 'torch==2.13.0'")
    parser.add_argument("--build", choices=("auto", "cpu", "default"), default="auto",
                        help="auto (the rule above), cpu or default (default: auto)")
    parser.add_argument("--cpu-index", default=CPU_INDEX, help=f"PyTorch's CPU index (default: {CPU_INDEX})")
    parser.add_argument("--pip-extra", default="", help="more pip arguments, one string (e.g. '--no-cache-dir')")
    args = parser.parse_args(argv)
    build = args.build
    if build == "auto":
        gpu = has_nvidia_gpu()
        build = choose_build(gpu, platform.system())
        print(f"NVIDIA GPU: {'found' if gpu else 'none'} ({platform.system()}): the {build} build of torch")
    return install(args.requirement, build, extra=args.pip_extra.split(), cpu_index=args.cpu_index)


if __name__ == "__main__":
    sys.exit(main())
