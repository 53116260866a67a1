"""Measured disentanglement for any clip source: reconstructions of held-out frames and probes on frozen codes.

* Reconstruction: ``D(E_c(x_0), E_p(x_k))`` against ``x_k`` for test clips,
  content from the first frame and pose from a later one (PSNR, SSIM), next to
  the same-frame reconstruction ``D(E_c(x_k), E_p(x_k))`` and the baseline
  "the content frame itself" (``x_0`` as a guess of ``x_k``: what a model
  that ignored pose would score). On real video every pixel is scene, so
  whole-frame PSNR/SSIM mean something here (on black Moving MNIST frames a
  blank guess scores well; that source adds its own metrics, :mod:`drnet_lite.experiments.moving_mnist`).
  ``*_moved_psnr`` scores only the pixels that changed between ``x_0`` and
  ``x_k`` (by more than :data:`MOVED` of the range, e.g. the people walking):
  there the content frame is a poor guess, and only a pose that carries the
  moving things can beat it. Where the source knows its scenes' backgrounds
  (``data.scene_medians()``: the video source's per-tile median of all
  frames), ``scene_median_baseline`` is a second guess that has **no people
  at all**: on moved pixels a reconstruction must beat it too before one can
  say that the pose draws the people, not just blurs them away.
* Probes, where the clips carry a ``scene`` label (which tile of which video,
  which person...): a linear probe and a small MLP on frozen content vectors
  and on frozen pose vectors. Content should identify the scene; pose should
  not (near chance).
* A freshly trained scene discriminator on frozen pose pairs (about 50% = pose
  does not tell clips apart).
* The motion floor (:func:`motion_scene_floor`): how well the same probes name
  the scene from *where things moved* alone, no encoder at all. A pose that
  draws the moving things carries at least that much of the scene, so "pose
  -> scene at chance" is out of reach wherever this floor is above chance.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .data import ClipSource, for_split, make_source
from .losses import scene_discriminator_loss, shuffled_partner
from .metrics import psnr, psnr_where, ssim, summarize
from .models import DRNet, SceneDiscriminator

TEST_SEED = 2017
#: A pixel "moved" between the content frame and the target when it changed by more than this (frames in [0, 1]).
MOVED = 0.1


def fit_probe(x_train, y_train, x_test, y_test, classes: int | None, hidden: int | None, epochs: int = 300, seed: int = 0) -> float:
    """Train a linear (hidden=None) or one-hidden-layer probe with Adam, full batch; return test accuracy or R^2."""
    torch.manual_seed(seed)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    out_dim = classes if classes else y_train.shape[1]
    layers: list[nn.Module] = [nn.Linear(x_train.shape[1], out_dim)] if hidden is None else [
        nn.Linear(x_train.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, out_dim)]
    probe = nn.Sequential(*layers)
    optimizer = torch.optim.Adam(probe.parameters(), lr=1e-2, weight_decay=1e-4)
    with torch.enable_grad():
        for _ in range(epochs):
            pred = probe(x_train)
            loss = F.cross_entropy(pred, y_train) if classes else F.mse_loss(pred, y_train)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        pred = probe(x_test)
        if classes:
            return float((pred.argmax(1) == y_test).float().mean())
        residual = (pred - y_test).pow(2).sum()
        total = (y_test - y_test.mean(0)).pow(2).sum()
        return float(1 - residual / total)


def fresh_scene_discriminator(pose: torch.Tensor, split: int, pose_dim: int, hidden: int, steps: int = 1000, seed: int = 0,
                              normalize: bool = False) -> float:
    """Train a new C on frozen pose pairs ``pose`` (clips, 2, pose_dim; first ``split`` clips), return its
    accuracy on the rest (same-clip pairs and pairs rolled by one clip; 0.5 = the pose does not tell clips apart).

    ``normalize=True``: the C standardises every pose dimension over its batch first (as
    ``DRNetConfig.discriminator_norm``), so a pose that hides by being small is read all the same.
    """
    torch.manual_seed(seed)
    disc = SceneDiscriminator(pose_dim, hidden, normalize=normalize)
    optimizer = torch.optim.Adam(disc.parameters(), lr=1e-3)
    train, test = pose[:split], pose[split:]
    g = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        for _ in range(steps):
            idx = torch.randperm(len(train), generator=g)[:100]  # distinct clips: a shuffled pair never meets itself
            a, b = train[idx, 0], train[idx, 1]
            shift = 1 + int(torch.randint(0, len(idx) - 1, (1,), generator=g))
            loss, _ = scene_discriminator_loss(disc(a, b), disc(a, shuffled_partner(b, shift)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        a, b = test[:, 0], test[:, 1]
        _, accuracy = scene_discriminator_loss(disc(a, b), disc(a, shuffled_partner(b, 1)))
    return float(accuracy)


@torch.inference_mode()
def reconstruction_scores(model: DRNet, data: ClipSource, count: int = 200, seed: int = TEST_SEED,
                          batch: int = 100) -> dict[str, float]:
    """PSNR/SSIM of reconstructions of held-out frames (see the module docstring), and ``pose_effect``: how
    much the decoded frame changes when only the pose changes, against how much the truth changes,

        pose_effect = sum |D(h_c(x_0), h_p(x_k)) - D(h_c(x_0), h_p(x_0))| / sum |x_k - x_0|,

    about 0 for a decoder that ignores pose (every column of a swap matrix alike), about 1 for one that
    redraws all that moved."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    later = torch.randint(1, data.seq_len, (count,), generator=g) if data.seq_len > 1 else torch.zeros(count, dtype=torch.long)
    times = torch.stack([torch.zeros_like(later), later], dim=1)
    clips = data.sample(count, generator=g, times=times)
    medians = data.scene_medians() if hasattr(data, "scene_medians") and hasattr(clips, "scene") else None
    scores: dict[str, list[torch.Tensor]] = {}
    change = [0.0, 0.0]  # sum |D(h_c, h_p(x_k)) - D(h_c, h_p(x_0))|, sum |x_k - x_0|
    for start in range(0, count, batch):
        x0, xk = clips.frames[start:start + batch, 0], clips.frames[start:start + batch, 1]
        content, skips = model.encode_content(x0)
        across = model.decode(content, model.encode_pose(xk), skips)
        same = model(xk, xk)
        moved = (xk - x0).abs().mean(dim=1, keepdim=True) > MOVED
        some = moved.flatten(1).any(-1)  # frames with at least one moved pixel
        guesses = [("reconstruction", across), ("same_frame_reconstruction", same), ("content_frame_baseline", x0)]
        if medians is not None:
            guesses.append(("scene_median_baseline", medians[clips.scene[start:start + batch]].to(xk.device)))
        for name, guess in guesses:
            scores.setdefault(f"{name}_psnr", []).append(psnr(guess, xk).cpu())
            scores.setdefault(f"{name}_ssim", []).append(ssim(guess, xk).cpu())
            if name != "same_frame_reconstruction":
                scores.setdefault(f"{name}_moved_psnr", []).append(psnr_where(guess[some], xk[some], moved[some]).cpu())
        scores.setdefault("moved_pixel_share", []).append(moved.float().flatten(1).mean(-1).cpu())
        still = model.decode(content, model.encode_pose(x0), skips)  # the same content with the content frame's pose
        change[0] += float((across - still).abs().sum())
        change[1] += float((xk - x0).abs().sum())
    out = {k: (summarize(torch.cat(v)) if k.endswith("psnr") else float(torch.cat(v).mean())) for k, v in scores.items()}
    out["pose_effect"] = change[0] / max(change[1], 1e-12)
    return out


@torch.no_grad()
def encode_frames(model: DRNet, data: ClipSource, count: int, seed: int, frames_per_clip: int = 2, batch: int = 250):
    """Content and pose vectors (count, frames_per_clip, dim) of random frames of ``count`` seeded clips, and the clips."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    times = torch.stack([torch.randperm(data.seq_len, generator=g)[:frames_per_clip] for _ in range(count)])
    clips = data.sample(count, generator=g, times=times)
    flat = clips.frames.flatten(0, 1)
    content = torch.cat([model.encode_content(flat[i:i + batch])[0] for i in range(0, len(flat), batch)])
    pose = torch.cat([model.encode_pose(flat[i:i + batch]) for i in range(0, len(flat), batch)])
    shape = (count, frames_per_clip)
    return content.view(*shape, -1).cpu().clone(), pose.view(*shape, -1).cpu().clone(), clips


def probe_scene(features: dict[str, torch.Tensor], scene: torch.Tensor) -> dict[str, float]:
    """A linear and an MLP probe naming the ``scene`` label from each of ``features`` (name -> (N, D)),
    fit on the first half of the N rows and scored on the second: ``{name}_to_scene_{linear,mlp}``, with
    ``classes`` (how many scenes) and ``chance`` (the most common scene's share of the scored half)."""
    _, label = torch.unique(scene.cpu(), return_inverse=True)
    classes, half = int(label.max()) + 1, len(label) // 2
    out: dict[str, float] = {"classes": classes,
                             "chance": float(torch.bincount(label[half:], minlength=classes).max()) / (len(label) - half)}
    for probe, hidden in (("linear", None), ("mlp", 128)):
        for name, x in features.items():
            out[f"{name}_to_scene_{probe}"] = fit_probe(x[:half], label[:half], x[half:], label[half:], classes, hidden)
    return out


def scene_probes(model: DRNet, data: ClipSource, count: int = 1000, seed: int = TEST_SEED + 1) -> dict[str, float]:
    """Scene identity from content and from pose (linear and MLP probes), and a fresh scene discriminator.

    Needs clips with a ``scene`` label; returns ``{}`` for a source without one.
    Probes are trained on the first half of the clips and scored on the second.
    """
    content, pose, clips = encode_frames(model, data, count, seed)
    scene = getattr(clips, "scene", None)
    half = count // 2
    results: dict[str, float] = {}
    if scene is not None:
        found = probe_scene({"content": content[:, 0], "pose": pose[:, 0]}, scene)
        results["scene_classes"] = found.pop("classes")
        results["scene_probe_chance"] = found.pop("chance")
        results.update(found)
    results["fresh_scene_discriminator_accuracy"] = fresh_scene_discriminator(pose, half, model.config.pose_dim,
                                                                               model.config.discriminator_hidden)
    return results


def motion_scene_floor(data: ClipSource, clips: int = 1000, grid: int = 4, apart: int = 10,
                       seed: int = TEST_SEED) -> dict[str, float]:
    """The scene named from motion alone: probes on the mask of pixels that moved between two frames.

    For ``clips`` seeded clips of ``data`` (which must carry a ``scene`` label), the mask
    ``|x_{t+apart} - x_t| > MOVED`` (mean over channels) is average-pooled to ``grid`` x ``grid`` cells
    (a coarse *where*) and, separately, reduced to the moved share (one number: how busy the scene is).
    :func:`probe_scene` reads the scene from each (the probes of :func:`scene_probes`). Returns ``chance`` and ``moved_mask_{grid}x{grid}_to_scene_{linear,mlp}``,
    ``moved_share_to_scene_{linear,mlp}``.
    """
    if not 1 <= apart < data.seq_len:
        raise ValueError(f"apart={apart}: the two frames must lie within a clip of {data.seq_len} frames (1 <= apart < seq_len)")
    g = torch.Generator().manual_seed(seed)
    first = torch.randint(0, data.seq_len - apart, (clips,), generator=g)
    sample = data.sample(clips, generator=g, times=torch.stack([first, first + apart], 1))
    scene = getattr(sample, "scene", None)
    if scene is None:
        raise ValueError(f"{type(data).__name__} clips carry no scene label: the motion floor needs one")
    frames = sample.frames.float().cpu()
    moved = ((frames[:, 1] - frames[:, 0]).abs().mean(1, keepdim=True) > MOVED).float()
    features = {f"moved_mask_{grid}x{grid}": F.adaptive_avg_pool2d(moved, grid).flatten(1),
                "moved_share": moved.flatten(1).mean(1, keepdim=True)}
    out = probe_scene(features, scene)
    del out["classes"]
    return out


def evaluate_frames(model: DRNet, data_config: Any, root=None, count: int = 200, probe_clips: int = 1000,
                    device: str | torch.device = "cpu") -> dict[str, Any]:
    """Every number of this module for one model, on the test split of its source."""
    model = model.to(device).eval()
    data = make_source(for_split(data_config, "test"), root=root, device=device)
    results: dict[str, Any] = {"data": data.config.to_dict()}
    results.update(reconstruction_scores(model, data, count=count))
    results.update(scene_probes(model, data, count=probe_clips))
    return results
