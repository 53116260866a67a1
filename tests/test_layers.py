"""drnet_lite.layers: the faster layers compute what the plain torch.nn layers compute, and the training
step built on them is the step before them, up to float rounding."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from drnet_lite.layers import FoldConvTranspose2d, MapToVector, VectorToMap, use_plain_layers
from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.presets import preset
from drnet_lite.train import Optimizers, build_model, train_step


def _outputs_and_grads(layer: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    x = x.detach().clone().requires_grad_()
    y = layer(x)
    weights = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)  # a gradient that is not all ones
    grads = torch.autograd.grad((y * weights).sum(), [x, *layer.parameters()])
    return [y, *grads]


@pytest.mark.parametrize("fast, plain_type, make, shape", [
    (FoldConvTranspose2d, nn.ConvTranspose2d, lambda cls: cls(16, 2, 4, 2, 1), (3, 16, 8, 8)),
    (FoldConvTranspose2d, nn.ConvTranspose2d, lambda cls: cls(5, 1, 4, 2, 1, bias=False), (2, 5, 16, 16)),
    (FoldConvTranspose2d, nn.ConvTranspose2d, lambda cls: cls(4, 3, 3, 1, 1), (2, 4, 7, 5)),
    (VectorToMap, nn.ConvTranspose2d, lambda cls: cls(12, 8, 4, 1, 0, bias=False), (3, 12, 1, 1)),
    (VectorToMap, nn.ConvTranspose2d, lambda cls: cls(12, 8, 4, 1, 0), (3, 12, 1, 1)),
    (MapToVector, nn.Conv2d, lambda cls: cls(8, 5, 4, 1, 0, bias=False), (3, 8, 4, 4)),
    (MapToVector, nn.Conv2d, lambda cls: cls(8, 5, 1, bias=True), (3, 8, 1, 1)),
    (MapToVector, nn.Conv2d, lambda cls: cls(8, 5, 3, 1, 1), (3, 8, 6, 6)),  # not k x k to 1 x 1: the plain path
])
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_each_layer_equals_its_plain_torch_layer_outputs_and_gradients(fast, plain_type, make, shape, layout):
    torch.manual_seed(0)
    plain = make(plain_type)
    quick = make(fast)
    quick.load_state_dict(plain.state_dict())  # same parameters, same keys
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        x = torch.randn(shape, dtype=dtype).contiguous(memory_format=layout)
        a = _outputs_and_grads(quick.to(dtype), x)
        b = _outputs_and_grads(plain.to(dtype), x)
        assert a[0].shape == b[0].shape
        for got, want in zip(a, b):
            torch.testing.assert_close(got, want, rtol=tol, atol=tol)


def test_the_model_keeps_its_parameters_and_state_dict_and_plain_layers_restore_the_torch_types():
    model = DRNet(DRNetConfig(image_size=32, width=4, content_pool=True))
    kinds = {type(m) for m in model.modules()}
    assert {FoldConvTranspose2d, VectorToMap, MapToVector} <= kinds
    keys = list(model.state_dict())
    plain = use_plain_layers(copy.deepcopy(model))
    assert not {FoldConvTranspose2d, VectorToMap, MapToVector} & {type(m) for m in plain.modules()}
    assert list(plain.state_dict()) == keys
    x = torch.rand(2, 1, 32, 32)
    torch.testing.assert_close(model.eval()(x, x), plain.eval()(x, x), rtol=1e-5, atol=1e-6)


def _steps(model: DRNet, config, frames: list[torch.Tensor], grads: list[torch.Tensor] | None = None
           ) -> list[dict[str, torch.Tensor]]:
    """Train ``model`` on each batch; ``grads`` collects every gradient of every update."""
    def update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grads is not None:
            grads.extend(p.grad.clone() for group in optimizer.param_groups for p in group["params"])
        optimizer.step()

    optimizers = Optimizers.create(model, config)
    return [train_step(model, optimizers, f, config, shift=1 + i % (f.shape[0] - 1), update=update)
            for i, f in enumerate(frames)]


@pytest.mark.parametrize("name", ["mnist-lite", "mnist2-joint", "mnist2-lite", "video-64"])  # video-64: the skip decoder
def test_a_few_training_steps_before_and_after_agree(name):
    """The step before drnet_lite.layers (plain layers) and now, from the same seed and batches (the
    presets' layers at width 4, batch 6). In float64 every gradient and the weights after four Adam
    steps agree to 1e-9 (measured: 1e-13): the two compute the same thing. In float32 the first step's losses
    and gradients (as one vector, relative to its norm) agree to float tolerance. (Float32 weights are
    not compared: Adam divides each gradient by its own size, so float rounding of a gradient that is
    nearly 0 moves its weight by up to 2 lr, and runs drift apart slowly from there, as two runs of one
    recipe on different thread counts do.)"""
    config = preset(name, width=4, batch_size=6, device="cpu", init_from="")  # mnist2-lite: per channel, not from mnist-lite.pt
    c, s = config.model.channels, config.model.image_size
    generator = torch.Generator().manual_seed(0)
    frames = [torch.rand(6, 4, c, s, s, generator=generator, dtype=torch.float64) for _ in range(4)]
    # (train_step computes the losses in float32 whatever the model's dtype: they agree to float32 rounding)
    for dtype, steps, tol, loss_tol in ((torch.float64, 4, 1e-9, 1e-6), (torch.float32, 1, 1e-5, 1e-5)):
        batches = [f.to(dtype).contiguous() for f in frames[:steps]]
        new = build_model(config).to(dtype).to(memory_format=torch.channels_last)
        old = use_plain_layers(copy.deepcopy(new))
        new_grads: list[torch.Tensor] = []
        old_grads: list[torch.Tensor] = []
        for a, b in zip(_steps(new, config, batches, new_grads), _steps(old, config, batches, old_grads)):
            for key in a:
                torch.testing.assert_close(a[key], b[key], rtol=loss_tol, atol=loss_tol * 1e-2)
        a = torch.cat([g.flatten() for g in new_grads])
        b = torch.cat([g.flatten() for g in old_grads])
        assert a.numel() == b.numel() > 0
        assert (a - b).norm() <= tol * b.norm()
        if dtype is torch.float64:
            for p, q in zip(new.parameters(), old.parameters()):
                torch.testing.assert_close(p, q, rtol=tol, atol=tol)


def test_under_cpu_autocast_the_fold_layer_computes_in_bf16_like_the_plain_layer():
    torch.manual_seed(0)
    layer = FoldConvTranspose2d(8, 1, 4, 2, 1)
    plain = use_plain_layers(copy.deepcopy(layer))
    x = torch.rand(2, 8, 8, 8).contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = _outputs_and_grads(layer, x)
        want = _outputs_and_grads(plain, x)
    assert got[0].dtype is want[0].dtype is torch.bfloat16  # the convolution ran in bf16, as autocast asks
    assert [g.dtype for g in got[1:]] == [g.dtype for g in want[1:]] == [torch.float32] * 3  # float32 weights' grads
    for a, b in zip(got, want):
        torch.testing.assert_close(a.float(), b.float(), rtol=0.02, atol=0.02 * b.abs().max().item())
    torch.testing.assert_close(got[0].float(), layer(x), rtol=0.05, atol=0.02)  # and near float32
