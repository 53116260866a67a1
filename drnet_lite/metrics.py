"""Numbers for disentanglement and prediction, computed on exact ground truth.

Frame quality:
    PSNR = 10 log10(1 / MSE) for frames in [0, 1] (inf when equal);
    SSIM (Wang et al. 2004) with an 11x11 Gaussian window (sigma 1.5),
    K1 = 0.01, K2 = 0.03, averaged over the positions where the window fits
    inside the image; equal to scikit-image's ``structural_similarity(...,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=1)``.

Moving MNIST frames are mostly black, so whole-frame scores are blind: a blank
frame scores high. *Window* scores look only at the digit-sized boxes at the
target positions, which is where a swap or a prediction is right or wrong.

Swap target: for content clip A and pose clip B, the ideal swapped frame is B's
positions drawn with A's digits (``render(A.digits, B.positions)``). In grey
frames with several digits, which digit goes to which position is not defined
by the data, so a swap is scored against the best pairing (permutation).
"""
from __future__ import annotations

import itertools
import math

import torch

from .data.moving_mnist import render

SSIM_SIGMA = 1.5
SSIM_WINDOW = 11
K1, K2 = 0.01, 0.03


def psnr(x: torch.Tensor, y: torch.Tensor, dims: int = 3) -> torch.Tensor:
    """PSNR in dB over the last ``dims`` dimensions of frames in [0, 1]: ``10 log10(1 / MSE)``."""
    mse = (x.float() - y.float()).pow(2).flatten(-dims).mean(-1)
    return 10 * torch.log10(1.0 / mse)


def psnr_where(x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of (N, C, H, W) frames over only the pixels where ``mask`` (N, 1 or C, H, W) is true:
    ``10 log10(1 / MSE over those pixels)``, one value per frame. A frame without such a pixel gets NaN
    (nothing to score); drop those before averaging."""
    mask = mask.expand_as(x).float()
    mse = (mask * (x.float() - y.float()).pow(2)).flatten(1).sum(-1) / mask.flatten(1).sum(-1)
    return 10 * torch.log10(1.0 / mse)


def _gaussian_kernel(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA, device=None) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return (g / g.sum()).float()


def _band(n: int, kernel: torch.Tensor) -> torch.Tensor:
    """(n - k + 1, n) matrix whose row i holds ``kernel`` at columns i .. i + k - 1 (a "valid" 1-D filter)."""
    k = len(kernel)
    rows = n - k + 1
    band = torch.zeros(rows, n, dtype=kernel.dtype, device=kernel.device)
    columns = torch.arange(rows, device=kernel.device)[:, None] + torch.arange(k, device=kernel.device)
    return band.scatter_(1, columns, kernel.expand(rows, k))


def ssim_map(x: torch.Tensor, y: torch.Tensor, window: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """SSIM at every position where the window fits: (N, C, H, W) x2 -> (N, C, H-w+1, W-w+1)."""
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"ssim needs two (N, C, H, W) tensors of one shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if min(x.shape[-2:]) < window:
        raise ValueError(f"frames of {tuple(x.shape[-2:])} are smaller than the {window}x{window} SSIM window")
    x, y = x.double(), y.double()
    n, c, h, w = x.shape
    g = _gaussian_kernel(window, sigma, x.device).double()
    stack = torch.stack([x, y, x * x, y * y, x * y])  # (5, N, C, H, W)
    # the separable Gaussian filter ("valid" positions only) as two banded matrices: rows_h @ image @ cols_w^T
    # (a batched matmul in float64 is ~7x faster on the CPU than conv2d with one channel)
    filtered = _band(h, g) @ stack @ _band(w, g).T
    mu_x, mu_y, xx, yy, xy = filtered
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    c1, c2 = K1**2, K2**2
    value = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return value.float()


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean SSIM per frame: (N, C, H, W) x2 -> (N,)."""
    return ssim_map(x, y).flatten(1).mean(1)


def crop_windows(frames: torch.Tensor, positions: torch.Tensor, size: int) -> torch.Tensor:
    """Boxes of ``size`` at ``positions`` (N, K, 2) from frames (N, C, H, W) -> (N, K, C, size, size)."""
    n, k = positions.shape[:2]
    positions = positions.to(frames.device)
    ar = torch.arange(size, device=frames.device)
    rows = (positions[..., 0, None] + ar)[:, :, None, :, None]  # (N, K, 1, d, 1)
    cols = (positions[..., 1, None] + ar)[:, :, None, None, :]  # (N, K, 1, 1, d)
    frame = torch.arange(n, device=frames.device)[:, None, None, None, None]
    channel = torch.arange(frames.shape[1], device=frames.device)[None, None, :, None, None]
    return frames[frame, channel, rows, cols]


def digit_windows(frames: torch.Tensor, positions: torch.Tensor, size: int, channels: str = "grey") -> torch.Tensor:
    """The box of every digit: (N, K, C', size, size).

    In ``"per-digit"`` mode digit k is read from channel k only (C' = 1, the
    channel that holds it); in ``"grey"`` mode from every channel (C' = C).
    """
    boxes = crop_windows(frames, positions, size)
    if channels == "per-digit":
        own = torch.arange(positions.shape[1], device=boxes.device)
        boxes = boxes[:, own, own, None]
    return boxes


def window_scores(output: torch.Tensor, target: torch.Tensor, positions: torch.Tensor, size: int,
                  channels: str = "grey") -> dict[str, torch.Tensor]:
    """PSNR and SSIM on the digit windows at ``positions`` (see :func:`digit_windows`),
    averaged over the K digits: -> (N,) each; ``ssim_per_digit`` (N, K) keeps every box's SSIM."""
    k = positions.shape[1]
    out_w = digit_windows(output, positions, size, channels).flatten(0, 1)
    tgt_w = digit_windows(target, positions, size, channels).flatten(0, 1)
    per_digit = ssim(out_w, tgt_w).view(-1, k)
    return {"psnr": psnr(out_w, tgt_w).view(-1, k).mean(1), "ssim": per_digit.mean(1), "ssim_per_digit": per_digit}


def swap_targets(content_digits: torch.Tensor, pose_positions: torch.Tensor, image_size: int, channels: str) -> torch.Tensor:
    """Exact swap targets for every pairing of digits to positions.

    Args:
        content_digits: (N, K, d, d) the content clips' digit images.
        pose_positions: (N, K, 2) the pose frames' digit positions.

    Returns:
        (P, N, C, S, S): target frames for each of the P permutations of the
        content digits (P = 1 in per-digit mode, where channel k binds digit k
        to position k; K! in grey mode).
    """
    k = content_digits.shape[1]
    perms = [tuple(range(k))] if channels == "per-digit" else list(itertools.permutations(range(k)))
    return torch.stack([render(content_digits[:, list(p)], pose_positions[:, None], image_size, channels)[:, 0] for p in perms])


def best_pairing_scores(output: torch.Tensor, targets: torch.Tensor, positions: torch.Tensor, size: int,
                        channels: str = "grey") -> dict[str, torch.Tensor]:
    """Score ``output`` (N, C, S, S) against the best of P targets (P, N, C, S, S) by window SSIM.

    Returns whole-frame PSNR/SSIM and window PSNR/SSIM (N,) for the chosen
    pairing, plus ``pairing`` (N,), the index of the chosen permutation.
    """
    per_target = [window_scores(output, t, positions, size, channels)["ssim"] for t in targets]
    best = torch.stack(per_target).argmax(0)
    chosen = targets[best, torch.arange(len(best))]
    windows = window_scores(output, chosen, positions, size, channels)
    return {
        "psnr": psnr(output, chosen), "ssim": ssim(output, chosen),
        "window_psnr": windows["psnr"], "window_ssim": windows["ssim"], "pairing": best,
    }


def shift_tolerant_window_ssim(output: torch.Tensor, digits: torch.Tensor, positions: torch.Tensor, image_size: int,
                               channels: str = "grey", radius: int = 2) -> torch.Tensor:
    """Window SSIM against the exact target drawn up to ``radius`` pixels off, the best shift per frame: (N,).

    A diagnostic, not a target: it tells a digit that is right but misplaced by a
    pixel or two (a "where is a digit" convention the model never had reason to
    share with MNIST's boxes) from one that is blurred or wrong. The target
    ``render(digits, positions + (dy, dx))`` moves all K digits together, and
    the windows move with it.

    Args:
        output: (N, C, S, S) frames; digits: (N, K, d, d); positions: (N, K, 2).
    """
    return best_shift(output, digits, positions, image_size, channels, radius)[0]


def shift_tolerant_box_ssim(output: torch.Tensor, digits: torch.Tensor, positions: torch.Tensor, image_size: int,
                            channels: str = "grey", radius: int = 2) -> torch.Tensor:
    """Window SSIM of every target box (N, K), each box against the target drawn up to ``radius`` px off
    with its own best shift (:func:`shift_tolerant_window_ssim` moves all K boxes by one shift)."""
    size, limit = digits.shape[-1], image_size - digits.shape[-1]
    best = None
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            shifted = (positions + torch.tensor([dy, dx], device=positions.device)).clamp(0, limit)
            target = render(digits, shifted[:, None], image_size, channels)[:, 0]
            score = window_scores(output, target, shifted, size, channels)["ssim_per_digit"]
            best = score if best is None else torch.maximum(best, score)
    return best


def best_shift(output: torch.Tensor, digits: torch.Tensor, positions: torch.Tensor, image_size: int,
               channels: str = "grey", radius: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`shift_tolerant_window_ssim` (N,) and the shift (dy, dx) that scores it (N, 2); ties go to the first shift tried."""
    size = digits.shape[-1]
    limit = image_size - size
    best, shift = None, None
    for dy in range(-radius, radius + 1):  # (2r+1)^2 shifts, each one batched over all frames
        for dx in range(-radius, radius + 1):
            offset = torch.tensor([dy, dx], device=positions.device)
            shifted = (positions + offset).clamp(0, limit)
            target = render(digits, shifted[:, None], image_size, channels)[:, 0]
            score = window_scores(output, target, shifted, size, channels)["ssim"]
            if best is None:
                best, shift = score, offset.expand(len(score), 2).clone()
            else:
                better = score > best
                best = torch.where(better, score, best)
                shift[better] = offset
    return best, shift


def summarize(values: torch.Tensor) -> float:
    """Mean over finite values (PSNR of an exact match is +inf); +inf if all are +inf.
    NaN anywhere (a broken model) gives NaN, never inf: a NaN is not a perfect score."""
    if bool(torch.isnan(values).any()) or bool((values == -math.inf).any()):
        return math.nan
    finite = values[torch.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.inf
