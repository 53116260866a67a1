"""Terms against the scene leaking into pose that are not in the paper, one small function each.

DRNet keeps content out of the pose vector with one adversary, the scene discriminator C
(:mod:`drnet_lite.losses`). These are the other levers the course measured (assets/README.md; notebook 10,
section 4c; notebook 08), each switched on by a weight of :class:`~drnet_lite.train.TrainConfig` and off
by default:

* ``L_swap`` (``swap_weight``): the pose encoder reads back the pose a swap was drawn with;
* ``L_kernel`` (``kernel_weight``): two pose vectors of one clip no closer than two of different clips;
* ``L_dep`` (``dependence_weight``): the kernel alignment of pose with its clip's content;
* a scene classifier on one pose vector (``classifier_weight``), trained like C, and its confusion term.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def swap_pose_loss(pose_of_swap: torch.Tensor, pose_given: torch.Tensor) -> torch.Tensor:
    """``L_swap = mean((E_p(D(h_c1, h_p')) - h_p')^2)``, ``h_p'`` the pose of *another* clip: a cycle through a swap.

    Not in the paper: an extra signal against content in pose. The decoder draws this clip's content in
    another clip's pose; the pose encoder must read back the pose it was given. If ``h_p'`` carried its
    own clip's identity (which object, which scene), the swap, drawn with this clip's content, would
    not show it, and the pose read back would differ: only pose that says nothing of the content can be
    read back from every content. The swap is passed in detached, so the decoder is not taught to hide
    the other clip's identity in it (:func:`drnet_lite.train.train_step`).
    """
    return F.mse_loss(pose_of_swap, pose_given)


def scene_kernel_loss(pose_1: torch.Tensor, pose_2: torch.Tensor) -> torch.Tensor:
    """``L_kernel = mean_i k(h_p1^i, h_p2^i) - mean_{i != j} k(h_p1^i, h_p2^j)``, ``k`` Gaussian kernels.

    Not in the paper: a scene discriminator with nothing to train. How much closer are two pose vectors
    of one clip than two of different clips? Gaussian kernels at three widths (half, once and twice the
    batch's median squared distance, not differentiated) measure closeness; 0 means pose vectors of one
    clip are no more alike than any two, which is what the paper's C is trained to check.
    """
    dist = torch.cdist(pose_1, pose_2).pow(2)  # (B, B): [i, j] = |h_p1^i - h_p2^j|^2
    scale = dist.detach().median().clamp(min=1e-6)
    kernel = sum(torch.exp(-dist / (width * scale)) for width in (0.5, 1.0, 2.0)) / 3
    batch = dist.shape[0]
    same = kernel.diagonal().mean()
    other = (kernel.sum() - kernel.diagonal().sum()) / (batch * (batch - 1))
    return same - other


def scene_classifier_loss(logits: torch.Tensor, scene: torch.Tensor) -> torch.Tensor:
    """The scene classifier's loss: cross-entropy of its logits (N, K) against the scene of each pose vector (N,).

    Not in the paper, and not unsupervised: it reads the scene label each clip carries (which toy, which tile).
    It asks of one pose vector what the probes ask, where the paper's C compares two.
    """
    return F.cross_entropy(logits, scene)


def scene_confusion_loss(logits: torch.Tensor, scene: torch.Tensor) -> torch.Tensor:
    """The pose encoder's term against the scene classifier: the cross-entropy of its distribution over the K
    scenes of the batch against the uniform one, minus log K, so 0 when the classifier is maximally unsure
    among them (the counterpart of the paper's target 1/2 for C)."""
    present = scene.unique()
    return -F.log_softmax(logits[:, present], dim=1).mean(dim=1).mean() - math.log(len(present))


def _centred_gram(x: torch.Tensor) -> torch.Tensor:
    """``H K H``: the Gaussian kernel matrix of the rows of ``x`` (width: the median squared distance, not
    differentiated), centred by ``H = I - 1/n``."""
    dist = torch.cdist(x, x).pow(2)
    apart = dist.detach()[dist.detach() > 0]
    scale = apart.median().clamp(min=1e-6) if apart.numel() else dist.new_tensor(1.0)  # all rows equal: any width
    gram = torch.exp(-dist / scale)
    return gram - gram.mean(0, keepdim=True) - gram.mean(1, keepdim=True) + gram.mean()


def kernel_alignment(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``CKA(x, y)``: the alignment of Gaussian kernel matrices of the rows of ``x`` and of ``y`` (normalised
    HSIC), in [0, 1]: 1 when the two matrices agree, near 0 when ``x`` and ``y`` are independent (a small
    batch leaves a positive floor)."""
    k, l = _centred_gram(x), _centred_gram(y)
    return (k * l).sum() / ((k * k).sum() * (l * l).sum()).sqrt().clamp(min=1e-12)


def pose_content_dependence(pose: torch.Tensor, content: torch.Tensor, shift: int = 1) -> torch.Tensor:
    """``L_dep = max(0, CKA(h_p, h_c) - CKA(h_p, roll(h_c)))``: how much more the pose vectors of a batch
    align with their own clips' content than with other clips' content.

    Not in the paper: a measure of dependence with nothing to train, so nothing to fool. The second term,
    the same pose against content rolled by ``shift`` rows (other clips), is the floor a small batch
    leaves even for independent vectors; without it, a pose that says nothing at all (a constant) would
    score best. Unlike two pose vectors of one clip, a pose and its clip's content share no time, so pose
    that follows the clip's motion is not penalised.
    """
    return (kernel_alignment(pose, content) - kernel_alignment(pose, content.roll(shift, dims=0))).clamp(min=0)
