"""The three training signals of DRNet, one small function per term.

Notation (as in the notebooks): x_c1, x_c2 are two content frames and x_p1,
x_p2 two pose frames, all from the same clip; h_c = E_c(x), h_p = E_p(x);
C is the scene discriminator, sigma the logistic function.

    L_rec = || D(h_c1, h_p1) - x_p1 ||^2                      (mean over pixels)
          (with motion weight lambda > 0: sum w (D - x_p1)^2 / sum w,  w = 1 + lambda |x_p1 - x_c1|)
    L_sim = || h_c1 - stopgrad(h_c2) ||^2                     (mean over dims)
    L_C   = 1/2 [ BCE(sigma(C(h_p1, h_p2)), 1) + BCE(sigma(C(h_p1, h_p2')), 0) ]
    L_adv = BCE(sigma(C(h_p1, h_p2)), 1/2)

where h_p2' is the pose of a frame from *another* clip of the batch. C
minimises L_C; the encoders and the decoder minimise

    L = L_rec + alpha * L_sim + beta * L_adv.

L_adv is smallest (log 2) when C outputs 1/2 on same-clip pairs: then the
pose vectors tell nothing about which clip they come from, i.e. they carry no
content.

A teaching note on the reference code: its shuffled pairs were labelled as
same-clip (labels inverted). The encoders' target 1/2 does not care, but the
discriminator accuracy it reported was wrong. Here same-clip pairs have label
1 and shuffled pairs label 0.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def reconstruction_loss(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``L_rec = mean((D(h_c1, h_p1) - x_p1)^2)``: pixel MSE of the decoded frame against the pose frame."""
    if reconstruction.shape != target.shape:
        raise ValueError(f"reconstruction {tuple(reconstruction.shape)} and target {tuple(target.shape)} differ in shape")
    return F.mse_loss(reconstruction, target)


def motion_weights(pose_frame: torch.Tensor, content_frame: torch.Tensor, strength: float) -> torch.Tensor:
    """``w = 1 + lambda * |x_p1 - x_c1|`` per pixel (mean over colour channels): large where the pose
    frame differs from the content frame, i.e. where something moved between the two.

    On real video most pixels stand still, and the skips can copy them from the content frame; the
    few that move are all the pose vector has to explain. Weighting them up makes the decoder pay
    for drawing the content frame's people where the pose frame has none.
    """
    if pose_frame.shape != content_frame.shape:
        raise ValueError(f"pose frame {tuple(pose_frame.shape)} and content frame {tuple(content_frame.shape)} differ in shape")
    if strength < 0:
        raise ValueError(f"the motion weight must be >= 0, got {strength}")
    return 1.0 + strength * (pose_frame - content_frame).abs().mean(dim=1, keepdim=True)


def weighted_reconstruction_loss(reconstruction: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``L_rec = sum(w (D(h_c1, h_p1) - x_p1)^2) / sum(w)``: the pixel MSE with per-pixel weights
    (``weights`` broadcasts over channels); all weights equal gives :func:`reconstruction_loss`."""
    if reconstruction.shape != target.shape:
        raise ValueError(f"reconstruction {tuple(reconstruction.shape)} and target {tuple(target.shape)} differ in shape")
    weights = weights.expand_as(target)
    return (weights * (reconstruction - target).square()).sum() / weights.sum()


def similarity_loss(content: torch.Tensor, content_target: torch.Tensor) -> torch.Tensor:
    """``L_sim = mean((h_c1 - stopgrad(h_c2))^2)``: content must not change over time.

    The second content vector is a fixed target (detached), as in the reference code.
    """
    if content.shape != content_target.shape:
        raise ValueError(f"content vectors differ in shape: {tuple(content.shape)} vs {tuple(content_target.shape)}")
    return F.mse_loss(content, content_target.detach())


def shuffled_partner(pose: torch.Tensor, shift: int) -> torch.Tensor:
    """Pair every row with a row of *another* clip: ``roll`` by ``shift`` in ``[1, B-1]``.

    A roll is a permutation without fixed points, so no row keeps its own clip.
    """
    batch = pose.shape[0]
    if batch < 2:
        raise ValueError("the scene discriminator needs a batch of at least 2 clips to build shuffled pairs")
    if not 1 <= shift < batch:
        raise ValueError(f"shift must be in [1, {batch - 1}] so that no clip is paired with itself, got {shift}")
    return pose.roll(shift, dims=0)


def other_scene_partner(scene: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """For every row, the row index of a partner from *another scene*, drawn uniformly among them.

    ``scene`` (B,) says what each clip was cut from (the tile of a video, the toy on the turntable).
    :func:`shuffled_partner` pairs a clip with another clip of the batch, and with few scenes that
    clip often shows the same scene (12 tiles, batch 32: one pair in 12). Such a pair is labelled
    "different" although pose vectors that carry the scene are identical in it, so the scene
    discriminator is taught that a shared scene says nothing. Drawing the partner from another
    scene makes "same clip" and "same scene" agree. A row whose batch holds no other scene
    falls back to the next clip (``roll`` by 1), the paper's rule.

    Returns:
        int64 (B,) indices into the batch; ``pose[index]`` are the partners.
    """
    if scene.dim() != 1:
        raise ValueError(f"scene labels must be one per clip, shape (B,), got {tuple(scene.shape)}")
    batch = scene.shape[0]
    if batch < 2:
        raise ValueError("the scene discriminator needs a batch of at least 2 clips to build shuffled pairs")
    other = scene[None, :] != scene[:, None]  # (B, B): row i may take column j
    scores = torch.rand(batch, batch, generator=generator, device="cpu").to(scene.device)
    index = torch.where(other, scores, torch.full_like(scores, -1.0)).argmax(1)  # uniform among the allowed
    fallback = torch.arange(batch, device=scene.device).roll(1)
    return torch.where(other.any(1), index, fallback)


def same_scene_partner(scene: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """For every row, the row index of *another clip of the same scene*, drawn uniformly among them.

    Two frames of one clip are close in time, so their pose vectors are alike for a reason that is
    pose (the people stood near each other a second apart, the toy turned by less than a half
    turn): a discriminator can call such a pair "same" without looking at the scene, and the
    adversary then pushes pose to forget where things are. A same-scene pair of two *different*
    clips shares nothing but the scene. A row whose batch holds no other clip of its scene keeps
    its own clip (its index).

    Returns:
        int64 (B,) indices into the batch.
    """
    if scene.dim() != 1:
        raise ValueError(f"scene labels must be one per clip, shape (B,), got {tuple(scene.shape)}")
    batch = scene.shape[0]
    rows = torch.arange(batch, device=scene.device)
    allowed = (scene[None, :] == scene[:, None]) & (rows[None, :] != rows[:, None])
    scores = torch.rand(batch, batch, generator=generator, device="cpu").to(scene.device)
    index = torch.where(allowed, scores, torch.full_like(scores, -1.0)).argmax(1)
    return torch.where(allowed.any(1), index, rows)


def scene_discriminator_loss(logits_same: torch.Tensor, logits_shuffled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``L_C``: binary cross-entropy, same-clip pairs labelled 1, shuffled pairs 0.

    Returns:
        ``(loss, accuracy)``: the mean of the two BCE terms, and the share of
        pairs that C classifies correctly (logit > 0 means "same clip").
    """
    loss_same = F.binary_cross_entropy_with_logits(logits_same, torch.ones_like(logits_same))
    loss_shuffled = F.binary_cross_entropy_with_logits(logits_shuffled, torch.zeros_like(logits_shuffled))
    with torch.no_grad():
        correct = (logits_same > 0).float().sum() + (logits_shuffled <= 0).float().sum()
        accuracy = correct / (logits_same.numel() + logits_shuffled.numel())
    return 0.5 * (loss_same + loss_shuffled), accuracy


def adversarial_loss(logits_same: torch.Tensor) -> torch.Tensor:
    """``L_adv = BCE(sigma(C(h_p1, h_p2)), 1/2)``: the pose encoder makes C maximally unsure.

    Minimal, equal to ``log 2``, when every logit is 0 (C outputs 1/2).
    """
    return F.binary_cross_entropy_with_logits(logits_same, torch.full_like(logits_same, 0.5))
