"""Moving MNIST: frames, ground truth, bounce physics, seeding, datasets and the standard file.

The property tests draw generator configurations with hypothesis. Their digits
come from the MNIST test split (10,000 digits, cheap to resize); the split
tests further down check both splits.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from drnet_lite.data.mnist import load_mnist
from drnet_lite.data.moving_mnist import (
    CHANNEL_MODES,
    MovingMNIST,
    MovingMNISTConfig,
    MovingMNISTDataset,
    MovingMNISTStream,
    load_standard_test_set,
    render,
    save_standard_test_set,
)

PROPERTY = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
batch_sizes = st.integers(1, 4)


@st.composite
def configs(draw, channels=st.sampled_from(CHANNEL_MODES), speed_within_limit=False):
    """Keyword arguments of a MovingMNISTConfig: usual frame sizes and small odd ones."""
    image_size = draw(st.sampled_from([32, 64, 128, 5, 7, 9, 13]))
    if image_size >= 32:  # a few digit sizes, so that few digit sets must be resized
        digit_size = draw(st.sampled_from([d for d in (1, 3, 9, 28, 32, 64) if d <= image_size]))
    else:
        digit_size = draw(st.integers(1, image_size))
    limit = image_size - digit_size
    fastest = draw(st.integers(0, limit if speed_within_limit else 2 * image_size))
    slowest = draw(st.integers(0, fastest))
    return dict(
        image_size=image_size,
        digit_size=digit_size,
        num_digits=draw(st.integers(1, 3)),
        seq_len=draw(st.integers(1, 12)),
        speed=(slowest, fastest),
        channels=draw(channels),
        split="test",
    )


def simulate_bounce(position: int, velocity: int, steps: int, limit: int) -> list[int]:
    """One coordinate, moved frame by frame and reflected at 0 and ``limit``."""
    path = [position]
    for _ in range(steps - 1):
        position += velocity
        if position < 0:
            position, velocity = -position, -velocity
        if position > limit:
            position, velocity = 2 * limit - position, -velocity
        path.append(position)
    return path


# --- properties of generated clips ---------------------------------------------


@PROPERTY
@given(fields=configs(), batch=batch_sizes, seed=seeds)
def test_frames_are_float32_in_unit_range_with_shape_btcss(moving_mnist, fields, batch, seed):
    clips = moving_mnist(**fields).sample(batch, seed=seed)
    size, digits, steps = fields["image_size"], fields["num_digits"], fields["seq_len"]
    channels = 1 if fields["channels"] == "grey" else digits
    assert clips.frames.shape == (batch, steps, channels, size, size)
    assert clips.frames.dtype == torch.float32
    assert clips.frames.min() >= 0 and clips.frames.max() <= 1
    assert clips.positions.shape == (batch, steps, digits, 2)
    assert clips.labels.shape == clips.digit_index.shape == (batch, digits)
    assert clips.digits.shape == (batch, digits, fields["digit_size"], fields["digit_size"])


@PROPERTY
@given(fields=configs(), batch=batch_sizes, seed=seeds)
def test_every_digit_stays_inside_the_frame(moving_mnist, fields, batch, seed):
    positions = moving_mnist(**fields).sample(batch, seed=seed).positions
    assert positions.min() >= 0
    assert positions.max() <= fields["image_size"] - fields["digit_size"]


@PROPERTY
@given(fields=configs(), batch=batch_sizes, seed=seeds)
def test_ground_truth_redraws_the_frames_exactly(moving_mnist, fields, batch, seed):
    clips = moving_mnist(**fields).sample(batch, seed=seed)
    redrawn = render(clips.digits, clips.positions, fields["image_size"], fields["channels"])
    assert torch.equal(redrawn, clips.frames)


@PROPERTY
@given(fields=configs(speed_within_limit=True), batch=batch_sizes, seed=seeds)
def test_positions_follow_the_bounce_rule(moving_mnist, fields, batch, seed):
    clips = moving_mnist(**fields).sample(batch, seed=seed)
    limit = fields["image_size"] - fields["digit_size"]
    slowest, fastest = fields["speed"]
    assert clips.velocity.abs().min() >= slowest and clips.velocity.abs().max() <= fastest
    for b, k, axis in itertools.product(range(batch), range(fields["num_digits"]), range(2)):
        path = clips.positions[b, :, k, axis].tolist()
        velocity = int(clips.velocity[b, k, axis])
        assert path == simulate_bounce(path[0], velocity, fields["seq_len"], limit)


@PROPERTY
@given(fields=configs(channels=st.just("grey")), batch=batch_sizes, seed=seeds)
def test_grey_frames_are_the_max_of_the_per_digit_channels(moving_mnist, fields, batch, seed):
    grey = moving_mnist(**fields).sample(batch, seed=seed)
    per_digit = moving_mnist(**{**fields, "channels": "per-digit"}).sample(batch, seed=seed)
    assert torch.equal(grey.positions, per_digit.positions)
    assert torch.equal(grey.frames, per_digit.frames.amax(dim=2, keepdim=True))


@PROPERTY
@given(fields=configs(channels=st.just("per-digit")), batch=batch_sizes, seed=seeds)
def test_each_per_digit_channel_holds_its_digit_in_its_box_and_nothing_else(moving_mnist, fields, batch, seed):
    clips = moving_mnist(**fields).sample(batch, seed=seed)
    size = fields["digit_size"]
    for b, t, k in itertools.product(range(batch), range(fields["seq_len"]), range(fields["num_digits"])):
        channel = clips.frames[b, t, k].clone()
        y, x = clips.positions[b, t, k].tolist()
        assert torch.equal(channel[y:y + size, x:x + size], clips.digits[b, k])
        channel[y:y + size, x:x + size] = 0
        assert not channel.any(), "ink outside the digit's box"


@PROPERTY
@given(fields=configs(), batch=batch_sizes, seed=seeds, picks=st.integers(1, 6))
def test_times_draws_the_same_frames_as_the_full_clip(moving_mnist, fields, batch, seed, picks):
    generator = moving_mnist(**fields)
    times = torch.randint(fields["seq_len"], (batch, picks), generator=torch.Generator().manual_seed(seed))
    full = generator.sample(batch, seed=seed)
    part = generator.sample(batch, seed=seed, times=times)
    rows = torch.arange(batch)[:, None]
    assert torch.equal(part.times, times)
    assert torch.equal(part.frames, full.frames[rows, times])
    assert torch.equal(part.positions, full.positions[rows, times])


# --- seeds ------------------------------------------------------------------------


def test_same_seed_same_clips_and_another_seed_other_clips(moving_mnist):
    generator = moving_mnist()
    first, again, other = (generator.sample(8, seed=s) for s in (0, 0, 1))
    for name in ("frames", "labels", "digit_index", "positions", "velocity", "digits"):
        assert torch.equal(getattr(first, name), getattr(again, name)), name
    assert not torch.equal(first.frames, other.frames)
    assert not torch.equal(first.digit_index, other.digit_index)


def test_a_generator_stream_moves_on_and_replays_from_its_seed(moving_mnist):
    generator = moving_mnist(seq_len=4)
    stream = torch.Generator().manual_seed(5)
    first, second = generator.sample(4, generator=stream), generator.sample(4, generator=stream)
    replay = generator.sample(4, generator=torch.Generator().manual_seed(5))
    assert not torch.equal(first.frames, second.frames)
    assert torch.equal(first.frames, replay.frames)


def test_unseeded_sampling_follows_torch_manual_seed(moving_mnist):
    """Without seed or generator, sampling uses (and never reseeds) torch's global generator."""
    generator = moving_mnist(seq_len=4)
    runs = []
    for _ in range(2):
        torch.manual_seed(1234)
        runs.append((generator.sample(4).frames, torch.rand(3)))
    assert torch.equal(runs[0][0], runs[1][0])
    assert torch.equal(runs[0][1], runs[1][1]), "sample() changed what torch.manual_seed promises"


# --- which MNIST digits -------------------------------------------------------


@pytest.mark.parametrize("split", ["train", "test"])
def test_clips_draw_their_digits_from_the_configured_split(moving_mnist, mnist_root, split):
    images, labels = load_mnist(split, root=mnist_root)
    clips = moving_mnist(split=split).sample(64, seed=0)
    index = clips.digit_index.numpy()
    assert index.min() >= 0 and index.max() < len(labels)
    assert index.max() >= 0.9 * len(labels), "digits should come from the whole split"
    assert np.array_equal(clips.labels.numpy(), labels[index])
    assert torch.equal(clips.digits, torch.from_numpy(images[index]).float() / 255)


# --- bad parameters -------------------------------------------------------------


@pytest.mark.parametrize(
    "field, bad",
    [
        ("digit_size", dict(image_size=32, digit_size=33)),
        ("num_digits", dict(num_digits=0)),
        ("seq_len", dict(seq_len=0)),
        ("seq_len", dict(seq_len=-5)),
        ("channels", dict(channels="rgb")),
        ("speed", dict(speed=(4, 1))),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(tmp_path, field, bad):
    with pytest.raises(ValueError, match=field):
        MovingMNISTConfig(**bad)
    with pytest.raises(ValueError, match=field):  # checked before any MNIST file is looked for
        MovingMNIST(root=tmp_path, **bad)


# --- datasets and DataLoader workers -------------------------------------------


def items_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


def test_dataset_item_depends_only_on_its_index(moving_mnist):
    generator = moving_mnist(seq_len=5)
    in_order = [MovingMNISTDataset(generator, 6, seed=3)[i] for i in range(6)]
    dataset = MovingMNISTDataset(generator, 6, seed=3)
    backwards = [dataset[i] for i in reversed(range(6))][::-1]
    assert all(items_equal(a, b) for a, b in zip(in_order, backwards))
    assert items_equal(dataset[-1], in_order[5])
    assert not items_equal(in_order[0], in_order[1])
    assert not items_equal(MovingMNISTDataset(generator, 6, seed=4)[0], in_order[0])
    with pytest.raises(IndexError):
        dataset[6]


def test_dataset_gives_the_same_batches_with_two_workers(moving_mnist):
    dataset = MovingMNISTDataset(moving_mnist(seq_len=5), 8, seed=0)
    single = list(DataLoader(dataset, batch_size=4, num_workers=0))
    parallel = list(DataLoader(dataset, batch_size=4, num_workers=2))
    assert len(single) == len(parallel) == 2
    assert all(items_equal(a, b) for a, b in zip(single, parallel))


def first_batches(stream: MovingMNISTStream, count: int, workers: int = 2) -> list:
    batches = DataLoader(stream, batch_size=None, num_workers=workers)
    return list(itertools.islice(batches, count))


def test_stream_workers_differ_and_a_seed_replays(moving_mnist):
    generator = moving_mnist(seq_len=4)
    run = first_batches(MovingMNISTStream(generator, batch_size=4, seed=0), 4)
    replay = first_batches(MovingMNISTStream(generator, batch_size=4, seed=0), 4)
    other_seed = first_batches(MovingMNISTStream(generator, batch_size=4, seed=1), 4)
    # the loader takes batches from the workers in turn: 0, 1, 0, 1
    for a, b in itertools.combinations(run, 2):
        assert not torch.equal(a.frames, b.frames)
    assert all(torch.equal(a.frames, b.frames) for a, b in zip(run, replay))
    assert not torch.equal(run[0].frames, other_seed[0].frames)
    assert run[0].frames.shape == (4, 4, 1, 64, 64)


# --- the standard fixed test set (Srivastava et al. 2015) -------------------------


def test_standard_file_is_read_clip_first(tmp_path):
    time_first = np.random.default_rng(0).integers(0, 256, (20, 3, 64, 64), dtype=np.uint8)
    np.save(tmp_path / "mnist_test_seq.npy", time_first)
    clips = load_standard_test_set(tmp_path / "mnist_test_seq.npy", layout="time-first")  # noise: the data cannot tell
    assert clips.shape == (3, 20, 1, 64, 64) and clips.dtype == torch.uint8
    assert np.array_equal(clips[:, :, 0].numpy(), time_first.transpose(1, 0, 2, 3))


def test_saved_clips_are_written_in_the_standard_format(tmp_path):
    levels = torch.randint(0, 256, (3, 20, 1, 64, 64), generator=torch.Generator().manual_seed(0))
    path = save_standard_test_set(tmp_path / "mine.npy", levels / 255)
    on_disk = np.load(path)
    assert on_disk.dtype == np.uint8 and on_disk.shape == (20, 3, 64, 64)
    assert np.array_equal(on_disk, levels[:, :, 0].numpy().transpose(1, 0, 2, 3))
    assert torch.equal(load_standard_test_set(path, layout="time-first"), levels.to(torch.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["mine.npy"]


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((20, 2, 64, 64), dtype=np.float32),  # not uint8
        np.zeros((20, 2, 64), dtype=np.uint8),  # a frame axis missing
        np.zeros((20, 2, 64, 32), dtype=np.uint8),  # frames not square
    ],
    ids=["float32", "3-d", "not-square"],
)
def test_standard_file_of_the_wrong_kind_is_refused(tmp_path, array):
    np.save(tmp_path / "mnist_test_seq.npy", array)
    with pytest.raises(ValueError):
        load_standard_test_set(tmp_path / "mnist_test_seq.npy")


def test_missing_standard_file_says_which_file_is_needed(tmp_path):
    with pytest.raises(FileNotFoundError, match="mnist_test_seq.npy"):
        load_standard_test_set(tmp_path / "test_set.npy")
