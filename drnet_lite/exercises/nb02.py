"""Notebook 02 (reconstruction), exercise "the reconstruction loss": :func:`check_reconstruction_loss`.

The student writes ``rec_loss(model, x_c, x_p)``, ``L_rec`` of DRNet. The check
runs it on two tiny DRNets (with and without skip connections), compares the
value and the parameter gradients with :func:`drnet_lite.losses.reconstruction_loss`
and names the usual mistakes (wrong target, content and pose swapped, sum
instead of mean, L1, a detached code).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ..losses import reconstruction_loss as _package_reconstruction_loss
from ..models import DRNet, DRNetConfig
from ._common import _as_scalar_loss, _call_named, _check_callable, checks_stub, _close, _correct, _match_wrong, _StudentError, _wrong

__all__ = ["check_reconstruction_loss"]


_REC_MODELS: tuple[dict, ...] = (
    dict(image_size=16, channels=1, content_dim=6, pose_dim=3, width=4),
    dict(image_size=16, channels=2, content_dim=5, pose_dim=2, width=4, skip=True),
)


def _rec_case(index: int) -> tuple[DRNet, torch.Tensor, torch.Tensor]:
    """A tiny DRNet in training mode (as in a training step) and distinct content and pose frames.

    In training mode BatchNorm uses the statistics of the batch, so the output
    depends clearly on which frame feeds which encoder and mistakes show.
    """
    config = DRNetConfig(**_REC_MODELS[index])
    with torch.random.fork_rng(devices=[]):  # seeded, without touching the notebook's own random state
        torch.manual_seed(1705 + index)
        model = DRNet(config).train()
        for module in model.modules():  # PyTorch's default init: larger weights than DCGAN's, so outputs vary more
            if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
                module.reset_parameters()
    shape = (3, config.channels, config.image_size, config.image_size)
    generator = torch.Generator().manual_seed(10 + index)
    return model, torch.rand(shape, generator=generator), torch.rand(shape, generator=generator)


def _rec_wrong_answers(model: DRNet, x_c: torch.Tensor, x_p: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    with torch.no_grad():
        right = model(x_c, x_p)
        swapped = model(x_p, x_c)
        same = model(x_p, x_p)
        diff = right - x_p
    batch = x_p.shape[0]
    return [
        (_mse(right, x_c),
         "You compare the decoded frame with the content frame. The target is the pose frame x_p: "
         "D(E_c(x_c), E_p(x_p)) must redraw x_p (its content is the same, since both frames come from one clip)."),
        (_mse(swapped, x_p),
         "Content and pose are swapped: you encode the content of x_p and the pose of x_c. "
         "Use model.encode_content(x_c) and model.encode_pose(x_p)."),
        (_mse(swapped, x_c),
         "Content and pose are swapped and so is the target: it must be D(E_c(x_c), E_p(x_p)) compared with x_p."),
        (_mse(same, x_p),
         "You encode the content of the pose frame itself: that is the autoencoder that cheats. The content "
         "must come from x_c, another time step of the clip."),
        ((diff ** 2).sum(),
         "You sum the squared errors; L_rec is their mean over every pixel (and frame): use .mean()."),
        ((diff ** 2).sum() / batch,
         "You sum the squared errors of each frame and average over frames; drnet_lite averages over every "
         "pixel too (torch.nn.functional.mse_loss or ((x_hat - x_p) ** 2).mean())."),
        (diff.abs().mean(),
         "That is the mean absolute error (L1). L_rec squares the differences: ((x_hat - x_p) ** 2).mean()."),
        ((diff ** 2).mean().sqrt(),
         "That is the root of the mean squared error; L_rec is the mean squared error itself, without the square root."),
        (diff.mean(),
         "You average the differences without squaring them, so errors of opposite signs cancel: square first."),
    ]


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).mean()


def _student_error_hint(message: str) -> str:
    """Extra advice for errors students commonly hit when composing DRNet."""
    lowered = message.lower()
    if "tuple" in lowered:
        return (message + "\nHint: model.encode_content(x) returns a pair (h_c, skips); unpack it: "
                "h_c, skips = model.encode_content(x_c).")
    if "skip" in lowered:
        return message + "\nHint: pass the content encoder's feature maps to the decoder: model.decode(h_c, h_p, skips)."
    return message


@checks_stub
def check_reconstruction_loss(student_fn: Callable[[Any, torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``rec_loss(model, x_c, x_p)`` (notebook 02).

    It must return ``L_rec = mean((D(E_c(x_c), E_p(x_p)) - x_p)^2)`` as a tensor
    that gradients can flow through, for DRNets with and without skip
    connections: the same value and the same parameter gradients as
    ``reconstruction_loss(model(x_c, x_p), x_p)`` from :mod:`drnet_lite.losses`.

    Prints the verdict (or a hint) and returns True when every case matches.
    """
    problem = _check_callable(student_fn, "check_reconstruction_loss", "rec_loss")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    for index, spec in enumerate(_REC_MODELS):
        model, x_c, x_p = _rec_case(index)
        what = f"a DRNet with {spec['channels']} channel(s){' and skip connections' if spec.get('skip') else ''}"
        model.zero_grad(set_to_none=True)
        try:
            try:
                value = _call_named(student_fn, (model, x_c.clone(), x_p.clone()), ("model", "x_c", "x_p"), name)
            except _StudentError as err:
                raise _StudentError(_student_error_hint(err.message)) from None
            value = _as_scalar_loss(value, name)
        except _StudentError as err:
            return _wrong(f"On {what}: {err.message}")
        student_grads = None
        if value.requires_grad:
            try:
                value.backward()
            except RuntimeError as exc:
                return _wrong(f"On {what}: backward() through your loss failed: {exc}")
            student_grads = [None if p.grad is None else p.grad.clone() for p in model.autoencoder_parameters()]
        model.zero_grad(set_to_none=True)
        expected = _package_reconstruction_loss(model(x_c, x_p), x_p)
        expected.backward()
        expected_grads = [p.grad for p in model.autoencoder_parameters()]
        if not _close(value, expected):
            hint = _match_wrong(value, _rec_wrong_answers(model, x_c, x_p))
            got = f"{name} gives {value.item():.6f} on {what}, expected {expected.item():.6f}."
            return _wrong(f"{got} {hint}" if hint else (
                f"{got} Compose x_hat = model.decode(h_c, h_p, skips) from h_c, skips = model.encode_content(x_c) "
                "and h_p = model.encode_pose(x_p), then return ((x_hat - x_p) ** 2).mean()."))
        if student_grads is None:
            return _wrong(
                f"The value is right, but no gradient can flow through it (on {what}): was it computed under "
                "torch.no_grad() or with .detach()? The optimizer needs the gradients of L_rec."
            )
        names = [n for part in ("content_encoder", "pose_encoder", "decoder")
                 for n, _ in getattr(model, part).named_parameters(prefix=part)]
        for pname, got, want in zip(names, student_grads, expected_grads):
            if want is None:
                continue
            part = pname.split(".")[0].replace("_", " ")
            if got is None or not torch.allclose(got, want, rtol=1e-3, atol=1e-8):
                return _wrong(
                    f"The value is right, but the gradients for the {part} differ (first at {pname}, on {what}). "
                    "Did you .detach() a code or compute one of the encoders under torch.no_grad()? "
                    "L_rec trains both encoders and the decoder."
                )
    return _correct(
        f"{name} matches drnet_lite's reconstruction loss, value and gradients, on {len(_REC_MODELS)} small DRNets "
        "(with and without skip connections)."
    )
