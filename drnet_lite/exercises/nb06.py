"""Notebook 06 (swap), exercise "build the swap matrix": :func:`check_swap_matrix`.

The student writes ``my_swap_matrix(model, content_frames, pose_frames)``, every
content frame decoded with every pose, (Nc, Np, C, H, W). The check compares it
with :func:`drnet_lite.swap.swap_matrix` on small models with and without skip
connections and recognises a model left in training mode.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ._common import _answer_tensor, _call_shown, _check_callable, checks_stub, _correct, _StudentError, _wrong

__all__ = ["check_swap_matrix"]


@checks_stub
def check_swap_matrix(student_fn: Callable[[Any, torch.Tensor, torch.Tensor], Any]) -> bool:
    """Check ``student_fn(model, content_frames, pose_frames) -> (Nc, Np, C, H, W)`` against
    :func:`drnet_lite.swap.swap_matrix`, on small models with and without skip connections."""
    from ..models import DRNet, DRNetConfig
    from ..swap import swap_matrix

    problem = _check_callable(student_fn, "check_swap_matrix", "my_swap_matrix")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    for case, (nc, np_, skip) in enumerate([(3, 4, False), (2, 5, True), (3, 3, True), (1, 1, False)]):
        torch.manual_seed(100 + case)
        model = DRNet(DRNetConfig(image_size=32, width=4, content_dim=6, pose_dim=3, skip=skip)).train()
        content, pose = torch.rand(nc, 1, 32, 32), torch.rand(np_, 1, 32, 32)
        expected = swap_matrix(model, content, pose)
        try:
            raw = _call_shown(student_fn, (model, content, pose), f"model, content ({nc} frames), pose ({np_} frames)", name)
            got = _answer_tensor(raw, "the swap matrix").float()
        except _StudentError as exc:
            return _wrong(exc.message)
        except TypeError as exc:
            return _wrong(f"{exc}.")
        if tuple(got.shape) != tuple(expected.shape):
            if tuple(got.shape) == (np_, nc, *expected.shape[2:]):
                return _wrong(f"shape {tuple(got.shape)}: rows and columns are swapped; row i must be content frame i.")
            return _wrong(f"expected shape {tuple(expected.shape)} = (Nc, Np, C, H, W), got {tuple(got.shape)}.")
        if torch.allclose(got, expected, atol=1e-5):
            continue
        if torch.allclose(got, expected.transpose(0, 1).reshape(expected.shape), atol=1e-5):
            return _wrong("every swap is right but in the wrong cell: the decodes come pose-major (all content frames "
                          "for pose 0, then for pose 1, ...), so viewing them as (Nc, Np) scrambles the matrix"
                          + (" (here, with Nc = Np, it is the transpose)" if nc == np_ else "") + ". Repeat_interleave "
                          "the content and repeat the pose, or view as (Np, Nc) and transpose; cell [i, j] is content i "
                          "in pose j.")
        if torch.allclose(got, swap_matrix(model, pose, content).transpose(0, 1), atol=1e-5):
            return _wrong("the encoders got each other's frames: content_frames go to encode_content (with their skips), "
                          "pose_frames to encode_pose.")
        in_training_mode = _swap_matrix_in_training_mode(model, content, pose)
        if torch.allclose(got, in_training_mode, atol=1e-5):
            return _wrong("these are the swaps of a model in training mode: call model.eval() first "
                          "(BatchNorm then uses its running statistics, not the batch's).")
        return _wrong("the values differ from D(E_c(content_i), E_p(pose_j)); check which frames go to which encoder, "
                      "that cell [i, j] pairs content i with pose j (repeat_interleave the content, repeat the pose)"
                      + (" and that you pass the skips to decode" if skip else "") + ".")
    return _correct("your swap matrix matches drnet_lite.swap.swap_matrix for every case, skips included.")


def _swap_matrix_in_training_mode(model: Any, content: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """The swap matrix a student gets who forgets ``model.eval()`` (on a copy: BatchNorm's statistics stay put)."""
    import copy

    from ..swap import decode_all_pairs

    with torch.no_grad():
        return decode_all_pairs(copy.deepcopy(model).train(), content, pose)
