"""Where the shipped weights and figures are: the repository's ``assets/`` folder.

Looked up in this order: the folder named by ``DRNET_ASSETS``, then
``assets/`` beside the package (a clone of the repository, installed with
``pip install -e .``). On Colab the notebooks that need weights clone the
repository first.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "DRNET_ASSETS"
REPO_ASSETS = Path(__file__).resolve().parent.parent / "assets"


def asset_folders() -> list[Path]:
    folders = [Path(os.environ[ENV_VAR]).expanduser()] if os.environ.get(ENV_VAR) else []
    return folders + [REPO_ASSETS]


def asset_path(name: str) -> Path:
    """The path of a shipped asset, e.g. ``asset_path("mnist-lite.pt")``.

    Raises:
        FileNotFoundError: naming the folders searched and how to get the file.
    """
    for folder in asset_folders():
        if (folder / name).is_file():
            return folder / name
    searched = ", ".join(str(f) for f in asset_folders())
    raise FileNotFoundError(
        f"asset {name!r} not found in {searched}. The assets live in the repository's assets/ folder: "
        f"clone the repository and `pip install -e .` from it, or set {ENV_VAR} to a folder holding {name}."
    )


#: The shipped DRNets, by the preset that made them (:func:`drnet_lite.train.load_shipped_drnet` loads one).
SHIPPED_DRNETS = {"mnist-lite": "mnist-lite.pt", "mnist2-lite": "mnist2-lite.pt", "video-64": "video-64.pt"}
