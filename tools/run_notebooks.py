#!/usr/bin/env python3
"""Run every notebook (or the ones named) in one mode on one device and print a timing table.

    python tools/run_notebooks.py --mode quick                      # what CI runs
    python tools/run_notebooks.py --mode full --device cuda         # a GPU session
    python tools/run_notebooks.py --mode lab notebooks/05_training.ipynb --save outputs/executed

Each notebook runs top to bottom in a fresh kernel (nbclient), in the notebooks'
folder, with ``DRNET_MODE`` and ``DRNET_DEVICE`` set. Reported per notebook:
wall seconds and the kernel's CPU seconds (user + sys, from the finished kernel
process), so timings on a shared machine can be read next to the CPU they
took. A failing cell stops that notebook and is reported; the exit status is 1
if any notebook failed. ``--fresh`` runs each kernel as a fresh runtime would
see it: a new empty ``HOME``, no ``DRNET_DATA``, MNIST downloaded from
``$DRNET_MNIST_MIRROR``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def kernel_env(mode: str, device: str | None, fresh: bool, home: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DRNET_QUICK", None)
    env["DRNET_MODE"] = mode
    if device:
        env["DRNET_DEVICE"] = device
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if fresh:
        assert home is not None
        for key in ("DRNET_DATA", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR", "IPYTHONDIR",
                    "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
            env.pop(key, None)
        env["HOME"] = str(home)
    return env


def run_one(path: Path, mode: str, device: str | None, timeout: int, fresh: bool, save: Path | None) -> dict:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="drnet-home-") as home:
        env = kernel_env(mode, device, fresh, Path(home))
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
        cpu0, t0 = children_cpu(), time.perf_counter()
        error = None
        try:
            client.execute(env=env)
        except CellExecutionError as exc:
            error = str(exc).strip().splitlines()[-1][:300]
        except Exception as exc:  # a timeout, a dead kernel
            error = f"{type(exc).__name__}: {exc}"[:300]
        wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save / path.name)
    return {"notebook": path.name, "mode": mode, "device": device or "auto", "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1), "ok": error is None, "error": error}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    parser.add_argument("--mode", choices=("quick", "lab", "full"), default="quick")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the notebooks' choice)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--fresh", action="store_true", help="clean HOME and no DRNET_DATA (set DRNET_MNIST_MIRROR)")
    parser.add_argument("--save", type=Path, default=None, help="write the executed notebooks into this folder")
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    rows = []
    print(f"{'notebook':<28}{'mode':<7}{'device':<8}{'wall s':>9}{'CPU s':>9}  result", flush=True)
    for path in paths:
        row = run_one(path.resolve(), args.mode, args.device, args.timeout, args.fresh, args.save)
        rows.append(row)
        print(f"{row['notebook']:<28}{row['mode']:<7}{row['device']:<8}{row['wall_s']:>9.1f}{row['cpu_s']:>9.1f}  "
              + ("ok" if row["ok"] else f"FAILED: {row['error']}"), flush=True)
    total_wall, total_cpu = sum(r["wall_s"] for r in rows), sum(r["cpu_s"] for r in rows)
    print(f"{'total':<43}{total_wall:>9.1f}{total_cpu:>9.1f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
