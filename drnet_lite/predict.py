"""Future prediction with DRNet: an LSTM over pose vectors, the content held fixed.

DRNet's frozen encoders turn the observed frames x_1 .. x_T into pose vectors
``h_p(t) = E_p(x_t)`` and one content vector ``h_c = E_c(x_T)`` (the last
observed frame). The pose LSTM f predicts the next pose vector:

    h_hat(t+1) = f(h_p(t), h_c) = tanh(W_out LSTM(W_in [h_p(t), h_c]))

Training (teacher forcing): the input at every step is the *true* pose, and the
loss is the MSE to the true next pose over all T + K - 1 transitions of a clip
of T observed and K predicted frames (mean over steps, clips and dimensions):

    L_lstm = mean_t || f(h_p(t), h_c) - h_p(t+1) ||^2

Generating (free running): the LSTM reads the observed poses; from then on its
own prediction is fed back in,

    h_hat(t+1) = f(h_hat(t), h_c)   for t >= T,      x_hat(t) = D(h_c, h_hat(t)),

so a rollout can run for any number of frames; the content never drifts
because it is never predicted. Everything that generates runs without autograd
and keeps only the LSTM state between steps, so memory does not grow with the
horizon.
"""
from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any, Iterator

import torch
from torch import nn

from .device import device_of, to_cpu
from .models import DRNet


@dataclass
class LSTMConfig:
    """The pose LSTM and its training run (the reference values of Denton & Birodkar 2017 as defaults).

    Attributes:
        hidden_size: units per LSTM layer (and of the input embedding).
        num_layers: stacked LSTM layers.
        observed: frames the LSTM reads before predicting (T).
        predicted: frames predicted while training (K).
        batch_size, lr, beta1: Adam on the MSE to the next pose vector.
        steps: training steps (each on a fresh batch: new clips, or new windows of the bank).
        lr_decay: share of the steps at the end over which lr falls linearly to 0.
        bank_clips, bank_length: 0 = encode fresh clips every step (the
            reference); otherwise encode ``bank_clips`` clips of
            ``bank_length`` frames once and train on random windows of them
            (encoding dominates a CPU step: 6x more steps per second on 2 cores).
    """

    hidden_size: int = 256
    num_layers: int = 2
    observed: int = 10
    predicted: int = 10
    batch_size: int = 100
    lr: float = 2e-4
    beta1: float = 0.9
    lr_decay: float = 0.0
    bank_clips: int = 0
    bank_length: int = 100
    steps: int = 20_000
    seed: int = 0
    log_every: int = 50
    checkpoint_every: int = 500
    device: str = "auto"

    def validate(self) -> None:
        for name in ("hidden_size", "num_layers", "observed", "predicted", "batch_size", "log_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be in [0, 1], got {self.lr_decay}")
        if self.bank_clips < 0:
            raise ValueError(f"bank_clips must be >= 0 (0: fresh clips every step), got {self.bank_clips}")
        if self.bank_clips and self.bank_length < self.seq_len:
            raise ValueError(f"bank_length {self.bank_length} is shorter than observed + predicted = {self.seq_len}")

    @property
    def seq_len(self) -> int:
        return self.observed + self.predicted

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LSTMConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


class PoseLSTM(nn.Module):
    """``f(h_p, h_c)``: linear embedding, stacked LSTM, linear + tanh to the next pose vector."""

    def __init__(self, pose_dim: int, content_dim: int, hidden_size: int = 256, num_layers: int = 2) -> None:
        super().__init__()
        self.pose_dim, self.content_dim = pose_dim, content_dim
        self.embed = nn.Linear(pose_dim + content_dim, hidden_size)
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers, batch_first=True)
        self.out = nn.Sequential(nn.Linear(hidden_size, pose_dim), nn.Tanh())

    @classmethod
    def for_drnet(cls, drnet: DRNet, config: LSTMConfig) -> "PoseLSTM":
        return cls(drnet.config.pose_dim, drnet.config.content_dim, config.hidden_size, config.num_layers)

    def forward(self, pose: torch.Tensor, content: torch.Tensor,
                state: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Next-pose predictions for a sequence of input poses.

        Args:
            pose: (B, T, pose_dim) input pose vectors h_p(1..T).
            content: (B, content_dim) the fixed content vector h_c.
            state: the LSTM state (h, c) to continue from (None: zeros).

        Returns:
            (B, T, pose_dim) predictions of h_p(2..T+1), and the new state.
        """
        if pose.dim() != 3 or pose.shape[-1] != self.pose_dim:
            raise ValueError(f"pose must be (B, T, {self.pose_dim}), got {tuple(pose.shape)}")
        if content.shape != (pose.shape[0], self.content_dim):
            raise ValueError(f"content must be ({pose.shape[0]}, {self.content_dim}), got {tuple(content.shape)}")
        inputs = torch.cat([pose, content[:, None].expand(-1, pose.shape[1], -1)], dim=2)
        hidden, state = self.lstm(self.embed(inputs), state)
        return self.out(hidden), state


def lstm_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``L_lstm``: MSE between predicted and true next pose vectors (mean over all elements)."""
    return (predicted - target).pow(2).mean()


@torch.no_grad()
def encode_sequence(drnet: DRNet, frames: torch.Tensor, content_time: int, batch: int = 1000,
                    with_skips: bool = False):
    """Pose vectors of every frame and the content of one frame.

    Args:
        frames: (B, T, C, H, W) clips.
        content_time: index of the frame whose content is kept (the last observed one).
        with_skips: also return the content encoder's feature maps of that
            frame (the rest of the content for a ``skip=True`` DRNet, which
            its decoder needs to draw a frame).

    Returns:
        pose (B, T, pose_dim) and content (B, content_dim); with ``with_skips``
        a third item, the list of feature maps (B, C_i, H_i, W_i). All on the CPU
        (frames may be on any device; encoding runs on the DRNet's).
    """
    if frames.dim() != 5:
        raise ValueError(f"frames must be (B, T, C, H, W), got {tuple(frames.shape)}")
    b, t = frames.shape[:2]
    if not -t <= content_time < t:
        raise ValueError(f"content_time {content_time} is outside the {t} frames of the clips")
    device = device_of(drnet)
    flat = frames.flatten(0, 1)
    pose = torch.cat([to_cpu(drnet.encode_pose(flat[i:i + batch].to(device))) for i in range(0, len(flat), batch)])
    content, skips = drnet.encode_content(frames[:, content_time].to(device))
    content = to_cpu(content)
    if with_skips:
        return pose.view(b, t, -1), content, [to_cpu(m) for m in skips]
    return pose.view(b, t, -1), content


def _need_skips(drnet: DRNet, skips: list[torch.Tensor] | None) -> None:
    if drnet.config.skip and skips is None:
        raise ValueError("this DRNet has skip connections (skip=True): its decoder also needs the content encoder's "
                         "feature maps of the content frame; pass skips (e.g. from encode_sequence(..., with_skips=True) "
                         "or drnet.encode_content(frame)[1])")


def teacher_forced(lstm: PoseLSTM, pose: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Predictions of h_p(2..T) from the true h_p(1..T-1): the training pass, (B, T-1, pose_dim).

    Runs on the LSTM's device and returns on the device of ``pose`` (the CPU
    for poses from :func:`encode_sequence`; the training device in ``fit_lstm``,
    where the loss needs the result where the targets are).
    """
    device = device_of(lstm)
    out = lstm(pose[:, :-1].to(device), content.to(device))[0]
    return to_cpu(out) if pose.device.type == "cpu" else out.to(pose.device)


@torch.inference_mode()
def iterate_poses(lstm: PoseLSTM, observed_pose: torch.Tensor, content: torch.Tensor, horizon: int,
                  chunk: int = 50) -> Iterator[torch.Tensor]:
    """Free-running pose predictions, ``chunk`` steps at a time: yields (B, <=chunk, pose_dim).

    The LSTM reads the T observed poses (its last output predicts h_p(T+1)),
    then each prediction is fed back as the next input. Only the LSTM state is
    kept between steps, so memory does not grow with ``horizon``.
    """
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    if observed_pose.dim() != 3 or observed_pose.shape[1] < 1:
        raise ValueError(f"observed_pose must be (B, T >= 1, pose_dim), got {tuple(observed_pose.shape)}")
    if horizon == 0:
        return
    device = device_of(lstm)  # poses on any device; the chunks come back on the CPU
    observed_pose, content = observed_pose.to(device), content.to(device)
    out, state = lstm(observed_pose, content)
    current = out[:, -1:]
    buffer = [current]
    for _ in range(horizon - 1):
        if len(buffer) == chunk:
            yield to_cpu(torch.cat(buffer, dim=1))
            buffer = []
        current, state = lstm(current, content, state)
        buffer.append(current)
    yield to_cpu(torch.cat(buffer, dim=1))


def generate_poses(lstm: PoseLSTM, observed_pose: torch.Tensor, content: torch.Tensor, horizon: int) -> torch.Tensor:
    """The predicted poses h_hat(T+1 .. T+horizon): (B, horizon, pose_dim) on the CPU, no autograd."""
    chunks = list(iterate_poses(lstm, observed_pose, content, horizon))
    if not chunks:
        return torch.zeros(observed_pose.shape[0], 0, observed_pose.shape[2])
    return torch.cat(chunks, dim=1)


@torch.inference_mode()
def decode_poses(drnet: DRNet, content: torch.Tensor, pose: torch.Tensor, batch: int = 1000,
                 skips: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Frames ``D(h_c, h_p(t))`` for every step: content (B, Dc), pose (B, T, Dp) -> (B, T, C, H, W) on the CPU.

    ``skips``: the content frame's feature maps (B, ...) each, needed by a
    ``skip=True`` DRNet. Decoding runs ``batch`` frames at a time, and the
    content (vector and maps) is indexed per chunk, never repeated for all
    T steps at once, so memory does not grow with T beyond the output.
    """
    b, t = pose.shape[:2]
    _need_skips(drnet, skips)
    if t == 0:
        s = drnet.config.image_size
        return torch.zeros(b, 0, drnet.config.channels, s, s)
    device = device_of(drnet)
    flat_pose = pose.flatten(0, 1)
    chunks = []
    for i in range(0, len(flat_pose), batch):
        rows = torch.arange(i, min(i + batch, len(flat_pose)), device=pose.device) // t
        maps = [m[rows.to(m.device)].to(device) for m in skips] if skips is not None and drnet.config.skip else None
        chunks.append(to_cpu(drnet.decode(content[rows.to(content.device)].to(device), flat_pose[i:i + batch].to(device), maps)))
    frames = torch.cat(chunks)
    return frames.view(b, t, *frames.shape[1:])


@dataclass
class Rollout:
    """A rollout from observed frames.

    Attributes:
        content: (B, content_dim) the content vector of the last observed frame.
        observed_pose: (B, T, pose_dim) pose vectors of the observed frames.
        pose: (B, horizon, pose_dim) the predicted pose vectors.
        frames: (B, horizon, C, H, W) decoded predictions, or None when not kept.
        skips: the content encoder's feature maps of the last observed frame
            (the rest of the content; what a ``skip=True`` decoder needs).
    """

    content: torch.Tensor
    observed_pose: torch.Tensor
    pose: torch.Tensor
    frames: torch.Tensor | None
    skips: list[torch.Tensor] | None = None

    def decode(self, drnet: DRNet, pose: torch.Tensor | None = None) -> torch.Tensor:
        """Frames of these (or other) poses with this rollout's content: (B, T, C, H, W)."""
        return decode_poses(drnet, self.content, self.pose if pose is None else pose, skips=self.skips)


@torch.inference_mode()
def rollout(drnet: DRNet, lstm: PoseLSTM, observed: torch.Tensor, horizon: int, decode: bool = True) -> Rollout:
    """Predict ``horizon`` frames after the observed frames (B, T, C, H, W).

    Content: ``h_c = E_c(x_T)`` (with the content encoder's feature maps of
    x_T for a skip DRNet); poses: :func:`generate_poses`; frames:
    ``D(h_c, h_hat(t))`` (skipped with ``decode=False``: poses are tiny,
    frames are not, 500 frames of one 64x64 clip are 8 MB).
    """
    drnet.eval()
    lstm.eval()
    observed_pose, content, skips = encode_sequence(drnet, observed, content_time=-1, with_skips=True)
    skips = skips if drnet.config.skip else None
    pose = generate_poses(lstm, observed_pose, content, horizon)
    frames = decode_poses(drnet, content, pose, skips=skips) if decode else None
    return Rollout(content=content, observed_pose=observed_pose, pose=pose, frames=frames, skips=skips)


@torch.inference_mode()
def oracle_frames(drnet: DRNet, content: torch.Tensor, future: torch.Tensor,
                  skips: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Upper bound for the LSTM: the decoder fed the *true* future poses ``D(h_c, E_p(x_t))``
    (``skips``: the content frame's feature maps, for a skip DRNet; e.g. ``Rollout.skips``)."""
    pose, _ = encode_sequence(drnet, future, content_time=0)
    return decode_poses(drnet, content, pose, skips=skips)


def copy_last_frames(observed: torch.Tensor, horizon: int) -> torch.Tensor:
    """The trivial baseline: the last observed frame, repeated ``horizon`` times."""
    return observed[:, -1:].expand(-1, horizon, *observed.shape[2:])
