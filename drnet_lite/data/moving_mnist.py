"""Moving MNIST: bouncing digits with exact ground truth, generated in batches.

A clip is fully described by its digits (which MNIST images) and their
trajectories (the top-left corner of each digit box in every frame). Content is
*which* digits; pose is *where* they are. Because both are known, any frame can
be drawn again, e.g. the exact target of a pose/content swap:
``render(digits_of_clip_A, positions_of_clip_B)``.

Trajectories bounce off the borders. With ``L = image_size - digit_size`` the
position along one axis at time ``t`` is the triangle wave

    u = (p0 + v * t) mod 2L,      p(t) = L - |u - L|,

i.e. a digit moving at ``v`` pixels per frame that is reflected whenever it
would leave ``[0, L]``.

Channel modes:
    ``"grey"``: one channel, overlapping digits are composited with ``max``;
    ``"per-digit"``: digit ``k`` is drawn in channel ``k`` (as in the DRNet
    reference code), which binds digit ``k`` to pose slot ``k``.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from ..atomic import atomic_write
from .mnist import load_mnist
from .source import ConfiguredSource, generator_for, register_source

CHANNEL_MODES = ("grey", "per-digit")


@dataclass(frozen=True)
class MovingMNISTConfig:
    """Everything that defines a Moving MNIST distribution.

    Attributes:
        image_size: frame height and width in pixels (32, 64 or 128 are usual).
        num_digits: digits per clip (1 to 3 are usual).
        digit_size: digit box size in pixels (MNIST is 28; the DRNet code used 32).
        seq_len: frames per clip.
        speed: (min, max) speed in pixels per frame along each axis; the sign
            of each axis is drawn separately.
        channels: ``"grey"`` or ``"per-digit"``.
        split: MNIST split the digits come from (``"train"`` or ``"test"``).
        source: the registered source name (always ``"moving-mnist"``; see
            :mod:`drnet_lite.data.source`).
    """

    image_size: int = 64
    num_digits: int = 2
    digit_size: int = 28
    seq_len: int = 20
    speed: tuple[int, int] = (1, 4)
    channels: str = "grey"
    split: str = "train"
    source: str = "moving-mnist"

    def __post_init__(self) -> None:
        object.__setattr__(self, "speed", tuple(int(s) for s in self.speed))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and how to fix it."""
        if self.image_size < 1:
            raise ValueError(f"image_size must be positive, got {self.image_size}")
        if self.digit_size < 1:
            raise ValueError(f"digit_size must be positive, got {self.digit_size}")
        if self.digit_size > self.image_size:
            raise ValueError(
                f"digit_size {self.digit_size} is larger than image_size {self.image_size}: "
                "a digit must fit inside the frame; use a smaller digit_size or a larger image_size"
            )
        if self.num_digits < 1:
            raise ValueError(f"num_digits must be at least 1, got {self.num_digits}")
        if self.seq_len < 1:
            raise ValueError(f"seq_len must be at least 1, got {self.seq_len}")
        if len(self.speed) != 2 or not 0 <= self.speed[0] <= self.speed[1]:
            raise ValueError(f"speed must be (min, max) with 0 <= min <= max, got {self.speed}")
        if self.channels not in CHANNEL_MODES:
            raise ValueError(f"channels must be one of {CHANNEL_MODES}, got {self.channels!r}")
        if self.split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {self.split!r}")
        if self.source != "moving-mnist":
            raise ValueError(f"a MovingMNISTConfig describes the 'moving-mnist' source, got source={self.source!r}")

    @property
    def num_channels(self) -> int:
        """Channels per frame: 1 for grey, ``num_digits`` for per-digit."""
        return 1 if self.channels == "grey" else self.num_digits

    @property
    def max_position(self) -> int:
        """``L = image_size - digit_size``: the largest top-left coordinate."""
        return self.image_size - self.digit_size

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Clips:
    """A batch of clips and their ground truth.

    Attributes:
        frames: float32 (B, T, C, H, W) in [0, 1].
        labels: int64 (B, K) digit classes.
        digit_index: int64 (B, K) indices into the MNIST split.
        positions: int64 (B, T, K, 2) top-left (row, col) of each digit box.
        velocity: int64 (B, K, 2) velocity (rows, cols per frame) at t = 0.
        times: int64 (B, T) the time step of every frame.
        digits: float32 (B, K, d, d) the digit images that were drawn.
    """

    frames: torch.Tensor
    labels: torch.Tensor
    digit_index: torch.Tensor
    positions: torch.Tensor
    velocity: torch.Tensor
    times: torch.Tensor
    digits: torch.Tensor = field(repr=False)

    def __len__(self) -> int:
        return self.frames.shape[0]


def bounce(start: torch.Tensor, velocity: torch.Tensor, times: torch.Tensor, limit: int) -> torch.Tensor:
    """Positions of bouncing points: ``p(t) = L - |((p0 + v t) mod 2L) - L|``.

    Args:
        start: (B, K, 2) integer start positions in ``[0, limit]``.
        velocity: (B, K, 2) integer velocities.
        times: (B, T) integer time steps.
        limit: ``L``, the largest allowed coordinate.

    Returns:
        (B, T, K, 2) int64 positions in ``[0, limit]``.
    """
    if limit == 0:
        return torch.zeros(times.shape + start.shape[1:], dtype=torch.int64, device=start.device)
    travelled = start[:, None] + velocity[:, None] * times[:, :, None, None]
    u = torch.remainder(travelled, 2 * limit)
    return limit - (u - limit).abs()


def render(digits: torch.Tensor, positions: torch.Tensor, image_size: int, channels: str = "grey") -> torch.Tensor:
    """Draw frames from digit images and their positions.

    Args:
        digits: (B, K, d, d) float images in [0, 1].
        positions: (B, T, K, 2) integer top-left (row, col), each in
            ``[0, image_size - d]``.
        image_size: frame size ``S``.
        channels: ``"grey"`` (max-composite into one channel) or
            ``"per-digit"`` (digit ``k`` in channel ``k``).

    Returns:
        (B, T, C, S, S) float frames.

    Each digit box is written through a strided view of the canvas that holds
    every d x d window, so one indexed copy places all digits of all frames
    (no per-clip or per-pixel Python loop).
    """
    if digits.dim() != 4 or digits.shape[-1] != digits.shape[-2]:
        raise ValueError(f"digits must be (B, K, d, d), got shape {tuple(digits.shape)}")
    if positions.dim() != 4 or positions.shape[-1] != 2:
        raise ValueError(f"positions must be (B, T, K, 2), got shape {tuple(positions.shape)}")
    batch, num_digits, size = digits.shape[0], digits.shape[1], digits.shape[-1]
    if positions.shape[0] != batch or positions.shape[2] != num_digits:
        raise ValueError(
            f"positions {tuple(positions.shape)} do not match digits {tuple(digits.shape)}: "
            "batch and number of digits must agree"
        )
    if channels not in CHANNEL_MODES:
        raise ValueError(f"channels must be one of {CHANNEL_MODES}, got {channels!r}")
    limit = image_size - size
    if limit < 0:
        raise ValueError(f"digits of {size} px do not fit in {image_size} px frames")
    if not digits.is_floating_point():
        raise ValueError(f"digits must be float images in [0, 1], got dtype {digits.dtype}; use digits.float() / 255")
    if digits.numel() and (bool((digits < 0).any()) or bool((digits > 1).any())):
        raise ValueError(f"digits must lie in [0, 1], got values from {float(digits.min()):g} to "
                         f"{float(digits.max()):g}" + ("; divide by 255" if float(digits.max()) > 1.5 else ""))
    if positions.is_floating_point() and bool((positions != positions.round()).any()):
        raise ValueError("positions must be whole pixels (row, col), got fractions; round them first (positions.round())")
    positions = positions.to(device=digits.device, dtype=torch.int64)
    if positions.numel() and (positions.min() < 0 or positions.max() > limit):
        raise ValueError(f"positions must lie in [0, {limit}] so that every digit is inside the frame")

    steps = positions.shape[1]
    num_channels = 1 if channels == "grey" else num_digits
    canvas = torch.zeros(batch, steps, num_channels, image_size, image_size, dtype=digits.dtype, device=digits.device)
    if canvas.numel() == 0:
        return canvas
    # windows[f, y, x] is the d x d box of plane f = (b * T + t) * C + c whose
    # top-left corner is (y, x): a view, so assigning to it draws into canvas.
    plane = image_size * image_size
    planes = canvas.view(-1, image_size, image_size)
    windows = planes.as_strided((planes.shape[0], limit + 1, limit + 1, size, size), (plane, image_size, 1, image_size, 1))
    frame = torch.arange(batch * steps, device=digits.device).view(batch, steps) * num_channels
    for k in range(num_digits):  # K is 1-3: the loop is over digits, not pixels
        index = frame if channels == "grey" else frame + k
        y, x = positions[:, :, k, 0], positions[:, :, k, 1]
        value = digits[:, k, None]  # (B, 1, d, d) broadcasts over time
        if channels == "grey" and k > 0:
            value = torch.maximum(windows[index, y, x], value)
        windows[index, y, x] = value
    return canvas


def _resize_digits(images: np.ndarray, size: int) -> torch.Tensor:
    digits = torch.from_numpy(np.array(images)).float().div_(255.0)
    if size != digits.shape[-1]:
        digits = F.interpolate(digits[:, None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[:, 0]
        digits.clamp_(0.0, 1.0)
    return digits


class MovingMNIST(ConfiguredSource):
    """Batched Moving MNIST generator over one MNIST split.

    >>> mm = MovingMNIST(MovingMNISTConfig(num_digits=2))     # doctest: +SKIP
    >>> clips = mm.sample(100, seed=0)                          # doctest: +SKIP
    >>> clips.frames.shape                                      # doctest: +SKIP
    torch.Size([100, 20, 1, 64, 64])

    Random draws use a CPU ``torch.Generator``, so a seed gives the same clips
    on every device; drawing happens on ``device``.
    """

    def __init__(
        self,
        config: MovingMNISTConfig | None = None,
        root: str | os.PathLike | None = None,
        device: str | torch.device = "cpu",
        download: bool = False,
        **overrides,
    ) -> None:
        config = config or MovingMNISTConfig()
        if overrides:
            config = MovingMNISTConfig(**{**config.to_dict(), **overrides})
        self.config = config
        self.device = torch.device(device)
        mnist = load_mnist(config.split, root=root, download=download)
        self.digits = _resize_digits(mnist.images, config.digit_size).to(self.device)
        self.labels = torch.from_numpy(np.array(mnist.labels)).to(self.device)

    def __repr__(self) -> str:
        return f"MovingMNIST({self.config}, {len(self.digits)} digits, device={self.device})"

    def draw(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Draw the random part of ``batch_size`` clips.

        Returns:
            ``(digit_index (B, K), start (B, K, 2), velocity (B, K, 2))``, on the CPU.
        """
        cfg = self.config
        k = cfg.num_digits
        digit_index = torch.randint(len(self.digits), (batch_size, k), generator=generator)
        start = torch.randint(cfg.max_position + 1, (batch_size, k, 2), generator=generator)
        low, high = cfg.speed
        magnitude = torch.randint(low, high + 1, (batch_size, k, 2), generator=generator)
        sign = torch.randint(0, 2, (batch_size, k, 2), generator=generator) * 2 - 1
        return digit_index, start, magnitude * sign

    def sample(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        times: torch.Tensor | None = None,
    ) -> Clips:
        """Generate ``batch_size`` clips with their ground truth.

        Args:
            batch_size: number of clips.
            generator: a CPU ``torch.Generator`` to draw from (for a stream).
            seed: alternatively, a seed for a fresh generator. With neither,
                the draws come from torch's global generator (``torch.manual_seed``).
            times: optional (B, T') int64 time steps to draw per clip (e.g. just
                the four frames a training step needs); default ``0..seq_len-1``.
        """
        if batch_size < 0:
            raise ValueError(f"batch_size must be >= 0, got {batch_size}")
        generator = generator_for(generator, seed)
        digit_index, start, velocity = self.draw(batch_size, generator)
        if times is None:
            times = torch.arange(self.config.seq_len).expand(batch_size, -1)
        elif times.dim() != 2 or times.shape[0] != batch_size:
            raise ValueError(f"times must be (batch_size, T), got {tuple(times.shape)}")
        times = times.to(torch.int64)
        positions = bounce(start, velocity, times.cpu(), self.config.max_position)
        digit_index = digit_index.to(self.device)
        digits = self.digits[digit_index]
        frames = render(digits, positions.to(self.device), self.config.image_size, self.config.channels)
        return Clips(
            frames=frames,
            labels=self.labels[digit_index],
            digit_index=digit_index,
            positions=positions.to(self.device),
            velocity=velocity.to(self.device),
            times=times.to(self.device),
            digits=digits,
        )


def _make_moving_mnist(config: MovingMNISTConfig, root: str | os.PathLike | None = None,
                       device: str | torch.device = "cpu") -> MovingMNIST:
    return MovingMNIST(config, root=root, device=device)


register_source("moving-mnist", MovingMNISTConfig, _make_moving_mnist,
                "bouncing MNIST digits with exact ground truth (root: the MNIST folder)")


def _index_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0] >> 1)


class MovingMNISTDataset(Dataset):
    """Map-style dataset of a fixed number of clips.

    Clip ``i`` is generated from its own seed derived from ``(seed, i)``, so it
    is the same whichever DataLoader worker draws it and in whatever order.
    Items are dicts of tensors: ``frames`` (T, C, H, W), ``labels`` (K,),
    ``positions`` (T, K, 2), ``digit_index`` (K,), ``velocity`` (K, 2).
    """

    def __init__(self, generator: MovingMNIST, length: int, seed: int = 0) -> None:
        if length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        self.generator = generator
        self.length = length
        self.seed = seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} clips")
        index %= self.length
        clips = self.generator.sample(1, seed=_index_seed(self.seed, index))
        return {
            "frames": clips.frames[0],
            "labels": clips.labels[0],
            "positions": clips.positions[0],
            "digit_index": clips.digit_index[0],
            "velocity": clips.velocity[0],
        }


class MovingMNISTStream(IterableDataset):
    """An endless stream of ready batches (:class:`Clips`) for training.

    Use with ``DataLoader(stream, batch_size=None)``. Each worker gets its own
    seed derived from ``(seed, worker_id)``, so workers never repeat each other
    and a run with the same seed and worker count is reproducible.
    """

    def __init__(self, generator: MovingMNIST, batch_size: int, seed: int = 0) -> None:
        self.generator = generator
        self.batch_size = batch_size
        self.seed = seed

    def __iter__(self) -> Iterator[Clips]:
        info = get_worker_info()
        worker = info.id if info is not None else 0
        rng = torch.Generator()
        rng.manual_seed(_index_seed(self.seed, worker))
        while True:
            yield self.generator.sample(self.batch_size, generator=rng)


NPY_MAGIC = b"\x93NUMPY"
#: Layouts of a standard-format file: the published one is time first.
LAYOUTS = ("auto", "time-first", "clip-first")


def standard_file_layout(array: np.ndarray) -> str:
    """``"time-first"`` (the published layout), ``"clip-first"`` or ``"unclear"``, told from the data: the
    ink of a frame (its pixel sum) stays nearly constant along a clip, as the same digits only move, and
    varies between clips. An axis counts as time when its ink varies at most a third as much as along the
    other; otherwise (random data, blank frames) the data cannot tell. A file with a single entry along
    either axis is read in the published layout."""
    if array.shape[0] < 2 or array.shape[1] < 2:
        return "time-first"
    ink = np.asarray(array[:32, :32], dtype=np.float64).sum((2, 3))
    along_0, along_1 = float(ink.std(0).mean()), float(ink.std(1).mean())
    if along_1 < along_0 / 3:
        return "clip-first"
    if along_0 < along_1 / 3:
        return "time-first"
    return "unclear"


def read_standard_array(path: str | os.PathLike) -> np.ndarray:
    """The array of a standard-format ``.npy`` file, checked (never unpickled), memory-mapped."""
    path = Path(path)
    expected = "the standard test set is mnist_test_seq.npy: uint8, shape (20, 10000, 64, 64), time first"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist. The standard test set is the file mnist_test_seq.npy "
            "(uint8, shape (20, 10000, 64, 64)) published with Srivastava et al. 2015."
        )
    with open(path, "rb") as handle:
        head = handle.read(6)
    if not head:
        raise ValueError(f"{path} is empty; {expected}")
    if head.startswith(b"PK"):
        raise ValueError(f"{path} is a .npz (zip) archive, not a .npy file; extract the .npy array from it and pass "
                         f"that ({expected})")
    if head != NPY_MAGIC:
        raise ValueError(f"{path} is not a .npy file (it does not start with the NumPy header); {expected}")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc) or "object" in str(exc).lower():
            raise ValueError(f"{path} holds Python objects, not frames, and is refused (objects are never "
                             f"unpickled); {expected}") from None
        raise ValueError(f"{path} is not a readable .npy file (truncated or corrupt?); {expected}") from None
    except OSError:
        raise ValueError(f"{path} is not a readable .npy file (truncated or corrupt?); {expected}") from None
    if array.dtype != np.uint8 or array.ndim != 4 or array.shape[2] != array.shape[3]:
        raise ValueError(f"{path}: expected uint8 (T, N, H, W) with square frames, got {array.dtype} {array.shape}; "
                         f"{expected}")
    return array


def load_standard_test_set(path: str | os.PathLike, layout: str = "auto") -> torch.Tensor:
    """Read the standard fixed Moving MNIST test file (Srivastava et al. 2015).

    The file ``mnist_test_seq.npy`` is uint8, time first: (20, 10000, 64, 64).
    A clip-first (N, T, H, W) array is recognised when its data show it
    (``layout="auto"``, see :func:`standard_file_layout`) or when told.
    When the data cannot tell (random or blank frames), ``"auto"`` raises a
    ``ValueError`` giving both readings, rather than guess. The file is never unpickled.

    Returns:
        uint8 tensor (N, T, 1, H, W), clip first like everything else here.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    array = read_standard_array(path)
    if layout == "auto":
        layout = standard_file_layout(array)
        if layout == "unclear":
            a, b = array.shape[:2]
            raise ValueError(
                f"{path}: its frames do not show which axis is time (shape {tuple(array.shape)}): time first "
                f"(the published layout) it holds {b} clips of {a} frames, clip first {a} clips of {b} frames; "
                "say which with layout='time-first' or 'clip-first' (--standard-layout on the command line)")
    clip_first = array if layout == "clip-first" else array.transpose(1, 0, 2, 3)
    return torch.from_numpy(np.array(clip_first, order="C"))[:, :, None]  # a writable copy of the memory map


def save_standard_test_set(path: str | os.PathLike, frames: torch.Tensor) -> Path:
    """Write clips (N, T, 1, H, W) in [0, 1] as a time-first uint8 ``.npy`` like the standard file (atomically)."""
    if frames.dim() != 5 or frames.shape[2] != 1:
        raise ValueError(f"frames must be (N, T, 1, H, W) grey clips, got {tuple(frames.shape)}")
    array = (frames[:, :, 0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 0, 2, 3).cpu().numpy()
    return atomic_write(path, lambda handle: np.save(handle, array))
