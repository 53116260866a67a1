"""Where the shipped weights and figures are: the repository's ``assets/`` folder.

Looked up in this order: the folder named by ``DRNET_ASSETS``, then
``assets/`` beside the package (a clone of the repository, installed with
``pip install -e .``). On Colab the notebooks that need weights clone the
repository first.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Iterable

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


#: The measured studies' tables and figures (docs/figures/ of the repository, beside assets/).
STUDY_FOLDER = REPO_ASSETS.parent / "docs" / "figures"


def read_study_csv(path: str | os.PathLike, numbers: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of a measured study's CSV, the columns named in ``numbers`` as floats (``None`` where empty).

    Raises:
        FileNotFoundError: the tables ship with the repository, not with the package; says how to get them.
    """
    path, numbers = Path(path), set(numbers)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the study's rows ship with the repository (docs/figures/); "
                                "clone it (git clone https://github.com/drnet-lite/drnet_lite) to read them")
    with path.open(newline="") as f:
        return [{k: (None if v == "" else float(v)) if k in numbers else v for k, v in row.items()}
                for row in csv.DictReader(f)]
