"""A run that fails before writing anything leaves no empty folder behind; a folder that existed stays."""
from __future__ import annotations

import pytest

from drnet_lite.presets import preset
from drnet_lite.runs import open_run
from drnet_lite.train import fit


def test_an_empty_run_folder_made_by_the_run_is_removed_on_close(tmp_path):
    run = open_run(tmp_path / "new" / "deeper" / "run")
    assert (tmp_path / "new" / "deeper" / "run").is_dir()
    run.close()
    assert list(tmp_path.iterdir()) == []  # every folder it made, and only those
    (tmp_path / "mine").mkdir()
    open_run(tmp_path / "mine").close()
    assert (tmp_path / "mine").is_dir()  # it was there before


def test_a_folder_with_files_stays(tmp_path):
    run = open_run(tmp_path / "run")
    (tmp_path / "run" / "images").mkdir()
    (tmp_path / "run" / "images" / "a.png").write_bytes(b"png")
    run.close()
    assert (tmp_path / "run" / "images" / "a.png").is_file()


def test_a_fit_that_fails_in_its_setup_leaves_no_folder(tmp_path):
    config = preset("mnist-lite", steps=1, width=4, batch_size=2, device="cpu", image_size=32, digit_size=16)
    with pytest.raises(Exception, match="MNIST"):
        fit(config, tmp_path / "runs" / "a", data_root=tmp_path / "no-mnist-here", progress=False)
    assert not (tmp_path / "runs").exists()
