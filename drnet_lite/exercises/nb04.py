"""Notebook 04 (adversarial), exercise "C's batch": :func:`check_scene_pairs`.

The student writes ``scene_pairs(pose_1, pose_2, shift)``, the scene
discriminator's batch: B same-clip pairs (target 1) on top of B shuffled pairs
(target 0). The check accepts any shuffle that pairs every clip with another
clip and names the usual mistakes (inverted labels, the encoders' target 1/2,
both members rolled, a permutation with fixed points).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ..losses import shuffled_partner
from ._common import _answer_tensor, _call_shown, _check_callable, checks_stub, _correct, _StudentError, _wrong

__all__ = ["check_scene_pairs", "reference_scene_pairs"]


def reference_scene_pairs(pose_1: torch.Tensor, pose_2: torch.Tensor, shift: int):
    """The package's C batch: ``(first, second, targets)``, B same-clip pairs (target 1) on top of B
    shuffled pairs (target 0), ``pose_2`` rolled by ``shift`` (:func:`drnet_lite.losses.shuffled_partner`)."""
    batch = pose_1.shape[0]
    first = torch.cat([pose_1, pose_1])
    second = torch.cat([pose_2, shuffled_partner(pose_2, shift)])
    return first, second, torch.cat([torch.ones(batch), torch.zeros(batch)])


# (batch, pose_dim, shift): small and large batches, both ends of the shift range.
_SCENE_PAIR_CASES: tuple[tuple[int, int, int], ...] = (
    (4, 3, 1), (4, 3, 3), (5, 2, 2), (2, 10, 1), (8, 10, 5), (16, 10, 15), (3, 1, 2),
)


def _row_sources(rows: torch.Tensor, table: torch.Tensor) -> list[int | None]:
    """For every row, the index of the identical row of ``table`` (None when there is none)."""
    out: list[int | None] = []
    for row in rows:
        hits = (table == row).all(dim=1).nonzero().flatten().tolist()
        out.append(hits[0] if hits else None)
    return out


def _scene_pair_problem(case: tuple[int, int, int], pose_1: torch.Tensor, pose_2: torch.Tensor, raw: Any, name: str) -> str | None:
    """What is wrong with ``raw = student(pose_1, pose_2, shift)`` (None when it is right)."""
    batch, dim, shift = case
    call = f"{name}(pose_1, pose_2, shift={shift}) with B={batch} clips and pose_dim={dim}"
    if not isinstance(raw, (tuple, list)) or len(raw) != 3:
        return f"{call} should return three things, (first, second, targets); got {type(raw).__name__}."
    try:
        first, second, targets = (_answer_tensor(v, w) for v, w in zip(raw, ("first", "second", "targets")))
    except TypeError as exc:
        return f"{call}: {exc}."
    for what, value in (("first", first), ("second", second)):
        if tuple(value.shape) != (2 * batch, dim):
            return (f"{call}: `{what}` has shape {tuple(value.shape)}, expected (2B, pose_dim) = {(2 * batch, dim)}: "
                    "B same-clip pairs stacked on top of B shuffled pairs (torch.cat along dim 0).")
    if tuple(targets.shape) != (2 * batch,):
        hint = " Use one number per pair, e.g. torch.cat([torch.ones(B), torch.zeros(B)])." if targets.numel() == 2 * batch else ""
        return f"{call}: `targets` has shape {tuple(targets.shape)}, expected (2B,) = ({2 * batch},).{hint}"
    if not targets.is_floating_point():
        return (f"{call}: `targets` has dtype {targets.dtype}; binary cross-entropy needs float targets "
                "(torch.ones(B) and torch.zeros(B) are float, or add .float()).")
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    same_t, shuffled_t = targets[:batch].float(), targets[batch:].float()
    if torch.equal(same_t, zeros) and torch.equal(shuffled_t, ones):
        return (f"{call}: your labels are inverted (same-clip pairs 0, shuffled pairs 1). That is exactly the "
                "slip in the reference code: the encoders' target 1/2 does not notice, but every accuracy you "
                "report becomes 1 - accuracy. Here same clip = 1, shuffled = 0.")
    if torch.allclose(targets.float(), torch.full_like(targets.float(), 0.5)):
        return (f"{call}: all targets are 1/2. That is the *pose encoder's* target in L_adv (make C unsure); "
                "C itself learns from hard labels: 1 for same-clip pairs, 0 for shuffled pairs.")
    if not (torch.equal(same_t, ones) and torch.equal(shuffled_t, zeros)):
        return (f"{call}: targets should be B ones (the same-clip pairs, first) followed by B zeros (the shuffled "
                f"pairs); got {targets.tolist()}.")
    if not torch.equal(first[:batch], pose_1) or not torch.equal(second[:batch], pose_2):
        if torch.equal(first[:batch], pose_1) and torch.equal(second[:batch], pose_1):
            return (f"{call}: the same-clip pairs pair pose_1 with itself. A same-clip pair is two *different* "
                    "frames of one clip: (pose_1[i], pose_2[i]).")
        if torch.equal(first[:batch], pose_2) and torch.equal(second[:batch], pose_1):
            return f"{call}: the members of the same-clip pairs are swapped: keep the order (pose_1[i], pose_2[i])."
        return (f"{call}: the first B rows must be the same-clip pairs, unchanged: first[:B] = pose_1 and "
                "second[:B] = pose_2.")
    if not torch.equal(first[batch:], pose_1):
        if torch.equal(first[batch:], pose_1.roll(shift, 0)) and torch.equal(second[batch:], pose_2.roll(shift, 0)):
            return (f"{call}: you rolled both members of the shuffled pairs by the same shift, so every "
                    "'shuffled' pair is (pose_1[j], pose_2[j]) of one clip j, a same-clip pair. Keep pose_1 in place and "
                    "roll only pose_2.")
        return (f"{call}: the first member of every shuffled pair should stay pose_1[i] (first[B:] = pose_1); "
                "only the second member comes from another clip.")
    sources = _row_sources(second[batch:], pose_2)
    if any(j is None for j in sources):
        if all(j is not None for j in _row_sources(second[batch:], pose_1)):
            return (f"{call}: the second members of the shuffled pairs are rows of pose_1; take them from pose_2 "
                    "(the other frame of each clip), e.g. torch.roll(pose_2, shift, dims=0).")
        return (f"{call}: some second members of the shuffled pairs are not rows of pose_2. They should be "
                "pose_2's rows, reordered so that no row keeps its own clip.")
    own = [i for i, j in enumerate(sources) if j == i]
    if own:
        return (f"{call}: shuffled row(s) {own} pair a clip with itself (pose_1[i], pose_2[i]), labelled 0 although "
                "it is a same-clip pair. A random permutation (torch.randperm) has fixed points now and then; "
                "torch.roll(pose_2, shift, dims=0) with shift in [1, B-1] never has any.")
    return None


@checks_stub
def check_scene_pairs(student_fn: Callable[[torch.Tensor, torch.Tensor, int], Any]) -> bool:
    """Check ``scene_pairs(pose_1, pose_2, shift) -> (first, second, targets)`` (notebook 04).

    ``pose_1`` and ``pose_2`` are (B, pose_dim) pose vectors of two frames of
    the same B clips (row i = clip i). The answer stacks B same-clip pairs on
    top of B shuffled pairs:

    - ``first = [pose_1; pose_1]`` and ``second = [pose_2; pose_2 rolled by shift]``,
      (2B, pose_dim) each, so shuffled row i pairs clip i with another clip;
    - ``targets = [1, ..., 1, 0, ..., 0]``, (2B,) float: same clip = 1, shuffled = 0.

    Any shuffle that pairs every clip with *another* clip is accepted (a roll
    by ``shift`` in [1, B-1] is the package's choice, :func:`drnet_lite.losses.shuffled_partner`).
    Prints the verdict (or a hint) and returns True when every case is right.
    """
    problem = _check_callable(student_fn, "check_scene_pairs", "scene_pairs")
    if problem:
        return _wrong(problem)
    from ..losses import shuffled_partner

    name = getattr(student_fn, "__name__", "your function")
    generator = torch.Generator().manual_seed(404)
    exact_roll = True
    for case in _SCENE_PAIR_CASES:
        batch, dim, shift = case
        pose_1 = torch.rand(batch, dim, generator=generator) * 2 - 1
        pose_2 = torch.rand(batch, dim, generator=generator) * 2 - 1
        kept_1, kept_2 = pose_1.clone(), pose_2.clone()
        try:
            raw = _call_shown(student_fn, (pose_1, pose_2, shift),
                              f"{name}(pose_1, pose_2, shift={shift}) with pose vectors of shape {(batch, dim)}", name)
        except _StudentError as err:
            return _wrong(err.message)
        if not (torch.equal(pose_1, kept_1) and torch.equal(pose_2, kept_2)):
            return _wrong(f"{name} changed pose_1 or pose_2 in place; build new tensors (torch.cat, torch.roll) instead.")
        try:
            problem = _scene_pair_problem(case, pose_1, pose_2, raw, name)
        except Exception as exc:  # an answer too odd to analyse: say so instead of crashing
            problem = f"{name}(pose_1, pose_2, shift={shift}) returned something the checker cannot read ({type(exc).__name__}: {exc})."
        if problem:
            return _wrong(problem)
        second = _answer_tensor(raw[1], "second")
        exact_roll = exact_roll and torch.equal(second[batch:], shuffled_partner(pose_2, shift))
    how = ("exactly as drnet_lite.losses.shuffled_partner does (torch.roll by shift)" if exact_roll else
           "with a shuffle of your own that never pairs a clip with itself (the package uses torch.roll by shift)")
    return _correct(
        f"{name} builds B same-clip pairs (target 1) and B shuffled pairs (target 0), {how}, "
        f"on all {len(_SCENE_PAIR_CASES)} test cases (B from 2 to 16, shift from 1 to B-1)."
    )
