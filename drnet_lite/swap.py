"""Swapping content and pose with a trained DRNet.

``swap_matrix(model, content_frames, pose_frames)[i, j] = D(E_c(content_i), E_p(pose_j))``:
row i keeps the content (which digits) of content frame i, column j takes the
pose (where they are) of pose frame j.

Every function here takes frames on any device, runs on the model's device and
returns its result on the CPU.
"""
from __future__ import annotations

import numpy as np
import torch

from .device import device_of, to_cpu
from .models import DRNet
from .viz import frame_grid


def decode_all_pairs(model: DRNet, content_frames: torch.Tensor, pose_frames: torch.Tensor) -> torch.Tensor:
    """``D(E_c(x_i), E_p(x_j))`` for every pair, in whatever mode ``model`` is: -> (Nc, Np, C, H, W)."""
    device = device_of(model)
    content_frames, pose_frames = content_frames.to(device), pose_frames.to(device)
    content, skips = model.encode_content(content_frames)
    pose = model.encode_pose(pose_frames)
    nc, np_ = len(content), len(pose)
    out = model.decode(content.repeat_interleave(np_, dim=0), pose.repeat(nc, 1),
                       [s.repeat_interleave(np_, dim=0) for s in skips])
    return to_cpu(out.view(nc, np_, *out.shape[1:]))


@torch.inference_mode()
def swap_matrix(model: DRNet, content_frames: torch.Tensor, pose_frames: torch.Tensor) -> torch.Tensor:
    """All pairs ``D(E_c(x_i), E_p(x_j))`` in eval mode: (Nc, C, H, W) x (Np, C, H, W) -> (Nc, Np, C, H, W)."""
    was_training = model.training
    model.eval()
    try:
        return decode_all_pairs(model, content_frames, pose_frames)
    finally:
        model.train(was_training)


@torch.inference_mode()
def reconstruct(model: DRNet, content_frames: torch.Tensor, pose_frames: torch.Tensor) -> torch.Tensor:
    """Row-wise ``D(E_c(content_i), E_p(pose_i))`` (eval mode)."""
    was_training = model.training
    model.eval()
    try:
        device = device_of(model)
        return to_cpu(model(content_frames.to(device), pose_frames.to(device)))
    finally:
        model.train(was_training)


def swap_figure(model: DRNet, content_frames: torch.Tensor, pose_frames: torch.Tensor) -> np.ndarray:
    """A picture of the swap matrix with its headers.

    Top row: the pose frames; left column: the content frames; cell (i, j):
    content of row i in the pose of column j. The corner is blank.
    """
    swaps = swap_matrix(model, content_frames, pose_frames)
    content_frames, pose_frames = to_cpu(content_frames), to_cpu(pose_frames)
    blank = torch.zeros_like(pose_frames[:1])
    top = torch.cat([blank, pose_frames])[None]
    rows = torch.cat([content_frames[:, None], swaps], dim=1)
    return frame_grid(torch.cat([top, rows]))


@torch.inference_mode()
def swap_over_time(model: DRNet, content_frames: torch.Tensor, pose_clips: torch.Tensor) -> torch.Tensor:
    """Each content frame driven by each pose clip: (Nc, C, H, W) x (Np, T, C, H, W) -> (Nc, Np, T, C, H, W),
    ``out[i, j, t] = D(E_c(content_i), E_p(pose_j[t]))`` (eval mode; one content frame at a time)."""
    np_, steps = pose_clips.shape[:2]
    poses = pose_clips.flatten(0, 1)
    rows = [swap_matrix(model, content_frames[i:i + 1], poses)[0] for i in range(len(content_frames))]
    return torch.stack(rows).view(len(content_frames), np_, steps, *rows[0].shape[1:])


def driven_clips(content_frame: torch.Tensor, pose_clips: torch.Tensor, swaps: torch.Tensor) -> torch.Tensor:
    """Clips to animate one content frame (C, H, W) driven by pose clips (Np, T, C, H, W), whose swaps are
    ``swaps`` (Np, T, C, H, W): per pose clip three clips side by side, the content frame (still), the pose
    clip, and the swap -> (3 Np, T, C, H, W), to tile three to a row (:func:`~drnet_lite.viz.save_gif`, ``ncols=3``)."""
    still = to_cpu(content_frame)[None, None].expand(*pose_clips.shape[:2], *content_frame.shape)
    return torch.stack([still, to_cpu(pose_clips), to_cpu(swaps)], dim=1).flatten(0, 1)


def reconstruction_figure(model: DRNet, content_frames: torch.Tensor, pose_frames: torch.Tensor) -> np.ndarray:
    """Three rows: content frames, pose frames, and ``D(E_c(x_c), E_p(x_p))`` row by row.

    Column i decodes content frame i with pose frame i. Only when both come from
    the *same clip* (as :func:`~drnet_lite.train.preview_frames` gives them) is
    the pose frame the target of a reconstruction; with frames of different
    clips the bottom row is a swap, whose target is the content digit drawn at
    the pose frame's place.
    """
    recon = reconstruct(model, content_frames, pose_frames)
    return frame_grid(torch.stack([to_cpu(content_frames), to_cpu(pose_frames), recon]))


@torch.inference_mode()
def interpolate(model: DRNet, content_a: torch.Tensor, content_b: torch.Tensor, pose_a: torch.Tensor, pose_b: torch.Tensor,
                steps: int = 8) -> torch.Tensor:
    """Frames decoded along straight lines between two codes.

    ``content_a``/``content_b`` and ``pose_a``/``pose_b`` are single frames
    (C, H, W). Returns (2, steps, C, H, W): row 0 moves the pose from a to b
    with content a fixed; row 1 moves the content from a to b with pose a fixed.
    """
    model.eval()
    frames = torch.stack([content_a, content_b, pose_a, pose_b]).to(device_of(model))
    content, skips = model.encode_content(frames[:2])
    pose = model.encode_pose(frames[2:])
    w = torch.linspace(0, 1, steps, device=frames.device)[:, None]
    pose_line = (1 - w) * pose[0] + w * pose[1]
    content_line = (1 - w) * content[0] + w * content[1]
    skips_a = [s[:1].expand(steps, *s.shape[1:]) for s in skips]
    skips_line = [(1 - w.view(-1, 1, 1, 1)) * s[:1] + w.view(-1, 1, 1, 1) * s[1:2] for s in skips]
    row_pose = model.decode(content[:1].expand(steps, -1), pose_line, skips_a)
    row_content = model.decode(content_line, pose[:1].expand(steps, -1), skips_line)
    return to_cpu(torch.stack([row_pose, row_content]))


def pca_2d(vectors: torch.Tensor) -> torch.Tensor:
    """Project (N, D) vectors on their first two principal components -> (N, 2)."""
    centred = vectors.float() - vectors.float().mean(0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    return centred @ v[:2].T
