"""Notebooks 04 and 05: their exercise checkers, and viz.plot_history.

The checkers must accept every right answer (not only the package's own way
of writing it), reject the wrong answers students actually write with a hint
that names the mistake, and never raise.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from drnet_lite.exercises import check_sample_frames, check_scene_pairs
from drnet_lite.train import sample_times
from drnet_lite.viz import plot_history


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def verdict(checker, fn, capsys) -> tuple[bool, str]:
    result = checker(fn)
    return result, capsys.readouterr().out


# ============================================================== notebook 04: check_scene_pairs

def pairs_roll(pose_1, pose_2, shift):
    batch = len(pose_1)
    first = torch.cat([pose_1, pose_1])
    second = torch.cat([pose_2, torch.roll(pose_2, shift, dims=0)])
    targets = torch.cat([torch.ones(batch), torch.zeros(batch)])
    return first, second, targets


def pairs_roll_back(pose_1, pose_2, shift):  # rolled the other way: still never its own clip
    batch = len(pose_1)
    return (torch.cat([pose_1, pose_1]), torch.cat([pose_2, pose_2.roll(-shift, 0)]),
            torch.tensor([1.0] * batch + [0.0] * batch))


def pairs_index(pose_1, pose_2, shift):  # explicit indices, a list of targets turned into a tensor
    batch = len(pose_1)
    partner = [(i - shift) % batch for i in range(batch)]
    return (torch.vstack([pose_1, pose_1]), torch.vstack([pose_2, pose_2[partner]]),
            torch.as_tensor([1] * batch + [0] * batch, dtype=torch.float32))


def pairs_numpy(pose_1, pose_2, shift):  # numpy arrays are read too
    p1, p2 = pose_1.numpy(), pose_2.numpy()
    batch = len(p1)
    return (np.concatenate([p1, p1]), np.concatenate([p2, np.roll(p2, shift, axis=0)]),
            np.concatenate([np.ones(batch), np.zeros(batch)]))


@pytest.mark.parametrize("solution", [pairs_roll, pairs_roll_back, pairs_index, pairs_numpy])
def test_check_scene_pairs_accepts_right_answers(solution, capsys):
    ok, out = verdict(check_scene_pairs, solution, capsys)
    assert ok is True, out
    assert out.startswith("Correct!")


def test_check_scene_pairs_says_when_the_answer_matches_the_package(capsys):
    assert verdict(check_scene_pairs, pairs_roll, capsys)[1].count("shuffled_partner") == 1
    assert "of your own" in verdict(check_scene_pairs, pairs_roll_back, capsys)[1]


def inverted_labels(pose_1, pose_2, shift):
    first, second, targets = pairs_roll(pose_1, pose_2, shift)
    return first, second, 1 - targets


def half_targets(pose_1, pose_2, shift):
    first, second, targets = pairs_roll(pose_1, pose_2, shift)
    return first, second, torch.full_like(targets, 0.5)


def int_targets(pose_1, pose_2, shift):
    first, second, targets = pairs_roll(pose_1, pose_2, shift)
    return first, second, targets.long()


def column_targets(pose_1, pose_2, shift):
    first, second, targets = pairs_roll(pose_1, pose_2, shift)
    return first, second, targets[:, None]


def identity_shuffle(pose_1, pose_2, shift):  # a "permutation" with fixed points
    batch = len(pose_1)
    return torch.cat([pose_1, pose_1]), torch.cat([pose_2, pose_2]), torch.cat([torch.ones(batch), torch.zeros(batch)])


def swap_first_two(pose_1, pose_2, shift):  # fixed points for every row but two
    batch = len(pose_1)
    order = list(range(batch))
    order[0], order[1] = 1, 0
    return (torch.cat([pose_1, pose_1]), torch.cat([pose_2, pose_2[order]]) if batch > 2 else torch.cat([pose_2, pose_2]),
            torch.cat([torch.ones(batch), torch.zeros(batch)]))


def both_rolled(pose_1, pose_2, shift):
    batch = len(pose_1)
    return (torch.cat([pose_1, pose_1.roll(shift, 0)]), torch.cat([pose_2, pose_2.roll(shift, 0)]),
            torch.cat([torch.ones(batch), torch.zeros(batch)]))


def second_from_pose_1(pose_1, pose_2, shift):
    batch = len(pose_1)
    return (torch.cat([pose_1, pose_1]), torch.cat([pose_2, pose_1.roll(shift, 0)]),
            torch.cat([torch.ones(batch), torch.zeros(batch)]))


def same_pairs_with_itself(pose_1, pose_2, shift):
    batch = len(pose_1)
    return (torch.cat([pose_1, pose_1]), torch.cat([pose_1, pose_2.roll(shift, 0)]),
            torch.cat([torch.ones(batch), torch.zeros(batch)]))


def only_shuffled(pose_1, pose_2, shift):
    return pose_1, pose_2.roll(shift, 0), torch.zeros(len(pose_1))


def in_place(pose_1, pose_2, shift):
    pose_2[:] = pose_2.roll(shift, 0)
    return pairs_roll(pose_1, pose_2, shift)


def not_done(pose_1, pose_2, shift):
    raise NotImplementedError


def crashes(pose_1, pose_2, shift):
    return torch.cat([pose_1, pose_2], dim=2)


@pytest.mark.parametrize("answer, hint", [
    (inverted_labels, "inverted"),
    (half_targets, "pose encoder's"),
    (int_targets, "float"),
    (column_targets, "shape"),
    (identity_shuffle, "with itself"),
    (swap_first_two, "with itself"),
    (both_rolled, "both members"),
    (second_from_pose_1, "rows of pose_1"),
    (same_pairs_with_itself, "with itself"),
    (only_shuffled, "(2B, pose_dim)"),
    (in_place, "in place"),
    (not_done, "NotImplementedError"),
    (crashes, "raised"),
    (lambda p1, p2, s: None, "three things"),
    (lambda p1, p2, s: ("a", "b", "c"), "torch tensor"),
])
def test_check_scene_pairs_rejects_wrong_answers_with_a_hint(answer, hint, capsys):
    ok, out = verdict(check_scene_pairs, answer, capsys)
    assert not ok
    assert out.startswith(("Not yet.", "Not written yet:"))  # the latter for the stub
    assert hint in out, out


def test_check_scene_pairs_wants_the_function_itself(capsys):
    ok, out = verdict(check_scene_pairs, (torch.zeros(2), torch.zeros(2), torch.zeros(2)), capsys)
    assert ok is False and "Pass the function itself" in out


# ============================================================== notebook 05: check_sample_frames

def frames_reference(clips, max_step, generator):
    times = sample_times(len(clips), max_step, generator)
    return clips[torch.arange(len(clips))[:, None], times], times


def frames_loop(clips, max_step, generator):  # one draw at a time, stacked
    rows, times = [], []
    for b in range(clips.shape[0]):
        row = [int(torch.randint(0, max_step + 1, (1,), generator=generator)) for _ in range(4)]
        times.append(row)
        rows.append(torch.stack([clips[b, t] for t in row]))
    return torch.stack(rows), torch.tensor(times)


def frames_gather(clips, max_step, generator):  # uniform floats floored, index_select per row
    times = (torch.rand(clips.shape[0], 4, generator=generator) * (max_step + 1)).floor().long().clamp(max=max_step)
    return torch.stack([clips[b].index_select(0, times[b]) for b in range(len(clips))]), times.int()


@pytest.mark.parametrize("solution", [frames_reference, frames_loop, frames_gather])
def test_check_sample_frames_accepts_right_answers(solution, capsys):
    ok, out = verdict(check_sample_frames, solution, capsys)
    assert ok is True, out
    assert out.startswith("Correct!")


def off_by_one(clips, max_step, generator):
    times = torch.randint(0, max(max_step, 1), (len(clips), 4), generator=generator)
    return clips[torch.arange(len(clips))[:, None], times], times


def off_by_one_raw(clips, max_step, generator):  # the usual slip, as written: it also breaks for max_step = 0
    times = torch.randint(0, max_step, (len(clips), 4), generator=generator)
    return clips[torch.arange(len(clips))[:, None], times], times


def fails_without_range(clips, max_step, generator):  # right, except that it cannot handle max_step = 0
    if max_step == 0:
        raise ValueError("empty range")
    return frames_reference(clips, max_step, generator)


def one_too_far(clips, max_step, generator):
    times = torch.randint(0, max_step + 2, (len(clips), 4), generator=generator).clamp(max=clips.shape[1] - 1)
    return clips[torch.arange(len(clips))[:, None], times], times


def same_for_all_clips(clips, max_step, generator):
    times = torch.randint(0, max_step + 1, (1, 4), generator=generator).expand(len(clips), 4)
    return clips[torch.arange(len(clips))[:, None], times], times


def shared_content_time(clips, max_step, generator):
    times = torch.randint(0, max_step + 1, (len(clips), 3), generator=generator)
    times = torch.cat([times[:, :1], times], dim=1)
    return clips[torch.arange(len(clips))[:, None], times], times


def global_rng(clips, max_step, generator):
    times = torch.randint(0, max_step + 1, (len(clips), 4))
    return clips[torch.arange(len(clips))[:, None], times], times


def own_seed(clips, max_step, generator):
    return frames_reference(clips, max_step, torch.Generator().manual_seed(0))


def broadcast_index(clips, max_step, generator):
    times = sample_times(len(clips), max_step, generator)
    return clips[:, times], times


def wrong_times(clips, max_step, generator):
    frames, times = frames_reference(clips, max_step, generator)
    return frames, (times + 1).clamp(max=max_step)


def float_times(clips, max_step, generator):
    frames, times = frames_reference(clips, max_step, generator)
    return frames, times.float()


def first_clip_only(clips, max_step, generator):
    times = sample_times(len(clips), max_step, generator)
    return clips[0][times], times


def just_times(clips, max_step, generator):
    return sample_times(len(clips), max_step, generator)


@pytest.mark.parametrize("answer, hint", [
    (off_by_one, "high - 1"),
    (off_by_one_raw, "high - 1"),
    (fails_without_range, "max_step = 0"),
    (one_too_far, "[0, max_step]"),
    (same_for_all_clips, "same four time steps"),
    (shared_content_time, "always share"),
    (global_rng, "generator you are given"),
    (own_seed, "different seeds"),
    (broadcast_index, "torch.arange(B)[:, None]"),
    (wrong_times, "other time steps"),
    (float_times, "integers"),
    (first_clip_only, "other clips"),
    (just_times, "two things"),
    (lambda clips, m, g: (_ for _ in ()).throw(NotImplementedError), "NotImplementedError"),
    (lambda clips, m, g: 1 / 0, "ZeroDivisionError"),
])
def test_check_sample_frames_rejects_wrong_answers_with_a_hint(answer, hint, capsys):
    ok, out = verdict(check_sample_frames, answer, capsys)
    assert not ok
    assert out.startswith(("Not yet.", "Not written yet:"))  # the latter for the stub
    assert hint in out, out


@pytest.mark.parametrize("checker, answer", [
    (check_scene_pairs, crashes),
    (check_scene_pairs, not_done),
    (check_sample_frames, lambda clips, m, g: 1 / 0),
    (check_sample_frames, off_by_one_raw),
])
def test_checker_messages_stay_short(checker, answer, capsys):
    """A student's exception is reported with the call's shapes, not with pages of tensor values."""
    ok, out = verdict(checker, answer, capsys)
    assert not ok
    assert "tensor(" not in out and len(out) < 700, out


def test_check_sample_frames_refuses_in_place_changes(capsys):
    def scribbles(clips, max_step, generator):
        clips.mul_(0)
        return frames_reference(clips, max_step, generator)

    ok, out = verdict(check_sample_frames, scribbles, capsys)
    assert ok is False and "in place" in out


# ============================================================== viz.plot_history

def fake_history(steps=range(10, 110, 10), adversary=True):
    return [{"step": s, "rec": 0.1 / math.sqrt(s), "sim": 0.01 * math.exp(-s / 50), "adv": 0.69 if adversary else 0.0,
             "scene": 0.68, "scene_acc": min(0.5 + s / 400, 1.0), "total": 0.1, "time": s / 10} for s in steps]


def labels_of(ax) -> list[str]:
    return [line.get_label() for a in ax.figure.axes for line in a.get_lines() if not line.get_label().startswith("_")]


def test_plot_history_draws_losses_on_a_log_scale_and_accuracy_on_a_twin_axis():
    history = fake_history()
    ax = plot_history(history, title="run")
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "run"
    assert len(ax.figure.axes) == 2
    acc_ax = ax.figure.axes[-1]
    assert acc_ax.get_ylim() == (0.0, 1.0)
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [len(history)] * 4
    (acc_line,) = [line for line in acc_ax.get_lines() if not line.get_label().startswith("_")]
    np.testing.assert_allclose(acc_line.get_xdata(), [row["step"] for row in history])
    np.testing.assert_allclose(acc_line.get_ydata(), [row["scene_acc"] for row in history])
    assert any(np.allclose(line.get_ydata(), 0.5) for line in acc_ax.get_lines())  # the chance line
    assert len(labels_of(ax)) == 5
    assert acc_ax.get_legend() is not None  # on top, so no line covers it


def test_plot_history_skips_a_switched_off_adversary_and_draws_on_a_given_axis():
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_history(fake_history(adversary=False), ax=right)
    assert ax is right
    assert not any("L_{adv}" in label for label in labels_of(ax))
    assert len(ax.get_lines()) == 3
    assert not left.get_lines()


def test_plot_history_draws_the_keys_asked_for_and_names_missing_ones():
    ax = plot_history(fake_history(), keys=["rec", "total"])
    assert len(ax.figure.axes) == 1 and len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="gan"):
        plot_history(fake_history(), keys=["rec", "gan"])


def test_plot_history_is_pure_and_copes_with_short_histories():
    history = fake_history(steps=[5])
    before = [dict(row) for row in history]
    plot_history(history)
    assert history == before
    ax = plot_history([])
    assert not ax.get_lines()
    ax = plot_history([{"step": 1, "rec": float("nan"), "scene_acc": 0.5}])  # NaNs are left out, not drawn
    assert len(ax.get_lines()) == 0


def test_plot_history_reads_a_real_fit_history(mnist_root):
    from drnet_lite.train import fit
    from drnet_lite.presets import preset

    config = preset("mnist-lite", steps=6, log_every=2, width=4, image_size=32, digit_size=20, batch_size=4,
                    content_dim=8, device="cpu")
    history = fit(config, None, data_root=mnist_root, progress=False).history
    assert [row["step"] for row in history] == [2, 4, 6]
    ax = plot_history(history)
    assert len(labels_of(ax)) == 5
