"""Notebook 03 (similarity), exercise "the similarity loss": :func:`check_similarity_loss`.

The student writes ``sim_loss(h_c1, h_c2)``, ``L_sim = mean((h_c1 - stopgrad(h_c2))^2)``.
The check compares the value with :func:`drnet_lite.losses.similarity_loss` and
the gradients by hand: ``2 (h_c1 - h_c2) / N`` into ``h_c1``, none into the
detached target ``h_c2``.
"""
from __future__ import annotations

from typing import Callable

import torch

from ..losses import similarity_loss as _package_similarity_loss
from ._common import _as_scalar_loss, _call_named, _check_callable, checks_stub, _close, _correct, _match_wrong, _StudentError, _wrong

__all__ = ["check_similarity_loss"]


_SIM_SHAPES: tuple[tuple[int, int], ...] = ((4, 8), (1, 5), (16, 32))


def _sim_inputs(index: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(2017 + index)
    shape = _SIM_SHAPES[index]
    h_c1 = (torch.rand(shape, generator=generator) * 2 - 1).requires_grad_()
    h_c2 = (torch.rand(shape, generator=generator) * 2 - 1).requires_grad_()
    return h_c1, h_c2


@checks_stub
def check_similarity_loss(student_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``sim_loss(h_c1, h_c2)`` (notebook 03).

    It must return ``L_sim = mean((h_c1 - stopgrad(h_c2))^2)``: the value of
    :func:`drnet_lite.losses.similarity_loss`, a gradient ``2 (h_c1 - h_c2) / N``
    into the first content vector and **no gradient at all into the second**
    (the target is detached).

    Prints the verdict (or a hint) and returns True when every case matches.
    """
    problem = _check_callable(student_fn, "check_similarity_loss", "sim_loss")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    for index, shape in enumerate(_SIM_SHAPES):
        h_c1, h_c2 = _sim_inputs(index)
        a, b = h_c1.detach().clone(), h_c2.detach().clone()
        try:
            value = _as_scalar_loss(_call_named(student_fn, (h_c1, h_c2), ("h_c1", "h_c2"), name), name)
        except _StudentError as err:
            return _wrong(err.message)
        expected = _package_similarity_loss(a, b)
        what = f"content vectors of shape {shape}"
        if not _close(value, expected):
            diff = a - b
            hint = _match_wrong(value, [
                ((diff ** 2).sum(), "You sum the squared differences; L_sim is their mean over every dimension (and row): use .mean()."),
                ((diff ** 2).sum() / shape[0], "You sum over the dimensions of each vector and average over rows; drnet_lite averages over every element: ((h_c1 - h_c2) ** 2).mean()."),
                (diff.abs().mean(), "That is the mean absolute difference (L1); L_sim squares the differences."),
                ((diff ** 2).mean().sqrt(), "That is the root of the mean squared difference; L_sim has no square root."),
                ((diff ** 2).sum(dim=1).sqrt().mean(), "That is the mean Euclidean distance; L_sim is the mean squared difference."),
                (diff.mean(), "You average the differences without squaring them: square first."),
            ])
            got = f"{name} gives {value.item():.6f} on {what}, expected {expected.item():.6f}."
            return _wrong(f"{got} {hint}" if hint else f"{got} L_sim = mean((h_c1 - h_c2.detach()) ** 2).")
        if not value.requires_grad:
            return _wrong(
                "The value is right, but no gradient flows through your loss at all: did you detach both vectors or "
                "use torch.no_grad()? Only the target h_c2 is detached; h_c1 must receive the gradient."
            )
        try:
            value.backward()
        except RuntimeError as exc:
            return _wrong(f"backward() through your loss failed: {exc}")
        into_target = h_c2.grad is not None and bool(h_c2.grad.abs().sum() > 0)
        into_content = h_c1.grad is not None and bool(h_c1.grad.abs().sum() > 0)
        if into_target and not into_content:
            return _wrong(
                "The value is right, but you detached the wrong vector: the gradient flows into h_c2 and not into h_c1. "
                "h_c1 (the frame being trained) keeps its gradient; h_c2 is the fixed target: h_c2.detach()."
            )
        if into_target:
            return _wrong(
                "The value is right, but gradient flows into the second argument h_c2. In DRNet it is a fixed target "
                "(stopgrad): detach it, (h_c1 - h_c2.detach()), so only h_c1 is pulled towards h_c2."
            )
        if not into_content:
            return _wrong("The value is right, but no gradient reaches h_c1; only h_c2 should be detached.")
        want = 2 * (a - b) / a.numel()
        if not torch.allclose(h_c1.grad, want, rtol=1e-4, atol=1e-8):
            return _wrong(
                f"The value is right, but the gradient into h_c1 on {what} is not 2 (h_c1 - h_c2) / N. "
                "Compute the loss directly from h_c1 with differentiable torch operations."
            )
    return _correct(
        f"{name} matches drnet_lite's similarity loss on {len(_SIM_SHAPES)} cases: same value, gradient "
        "2 (h_c1 - h_c2) / N into h_c1 and none into the detached target h_c2."
    )
