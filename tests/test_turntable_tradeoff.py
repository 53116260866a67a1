"""The scene-discriminator study's rows and their trade-off figure (experiments.turntable)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from drnet_lite.experiments.turntable import (  # noqa: E402
    CONTENT_FRAME_SSIM, LEAK_TARGET, read_study_rows, tradeoff_figure)


def test_the_rows_hold_what_the_figure_and_the_text_say():
    rows = read_study_rows()
    shipped = next(r for r in rows if r["run"] == "as shipped (beta 0.1)")
    assert shipped["pose_dim"] == 10 and shipped["pose_to_toy_mlp"] == pytest.approx(0.668)
    assert all(0.0 <= r["pose_to_toy_mlp"] <= 1.0 for r in rows)
    # no measured run meets both targets: the reason the issue stays open and the preset keeps the paper's C
    assert not any(r["pose_to_toy_mlp"] <= LEAK_TARGET and (r["unseen_swap_ssim"] or 0) > CONTENT_FRAME_SSIM for r in rows)
    # the three seeds of each side, as assets/README.md gives their means
    for adversary, mean in (("paper's C", 0.702), ("standardising C", 0.595)):
        seeds = [r["pose_to_toy_mlp"] for r in rows if r["seed"] in (1, 2, 3) and r["adversary"] == adversary]
        assert len(seeds) == 3 and sum(seeds) / 3 == pytest.approx(mean, abs=0.001)
    # the levers of notebook 10's section 4c: the leak is where pose starts; L_dep meets the leak target
    # only with the viewpoint gone (and the unseen swaps still below the content frame)
    untrained = next(r for r in rows if r["steps"] == 0)
    assert untrained["pose_to_toy_mlp"] > shipped["pose_to_toy_mlp"]
    at_target = [r for r in rows if r["pose_to_toy_mlp"] <= LEAK_TARGET]
    assert len(at_target) >= 3 and all("L_dep" in r["adversary"] for r in at_target)
    assert all(r["pose_to_azimuth_r2"] < 0.01 and r["unseen_swap_ssim"] < CONTENT_FRAME_SSIM for r in at_target)


def test_the_figure_draws_every_measured_row(tmp_path):
    rows = read_study_rows()
    fig = tradeoff_figure(rows)
    viewpoint, swaps = fig.axes
    assert sum(len(c.get_offsets()) for c in viewpoint.collections) == len(rows)
    # the untrained row is left off the swap panel (an untrained decoder draws no toy: SSIM 0.035)
    assert sum(len(c.get_offsets()) for c in swaps.collections if c.get_offsets().size) >= len(rows) - 1
    fig.savefig(tmp_path / "tradeoff.png")
    assert (tmp_path / "tradeoff.png").stat().st_size > 10_000


def test_a_missing_table_says_where_it_lives(tmp_path):
    with pytest.raises(FileNotFoundError, match="ship with the repository"):
        read_study_rows(tmp_path / "nope.csv")
