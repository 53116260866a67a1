"""Mixed precision: which dtype where, and the gradient scaler's path (run on the CPU)."""
from __future__ import annotations

import copy

import pytest
import torch

from drnet_lite.precision import Precision, choose_dtype, plain_update
from drnet_lite.train import Optimizers, build_model, train_step
from drnet_lite.presets import preset

CUDA, CPU = torch.device("cuda"), torch.device("cpu")


def test_dtype_choice_bf16_where_supported_fp16_on_a_t4_and_off_elsewhere():
    assert choose_dtype(CUDA, amp=True, bf16_supported=True) is torch.bfloat16
    assert choose_dtype(CUDA, amp=True, bf16_supported=False) is torch.float16  # T4: fp16 + GradScaler
    assert choose_dtype(CUDA, amp=False, bf16_supported=True) is torch.float32  # opt-in
    assert choose_dtype(CPU, amp=True, bf16_supported=True) is torch.bfloat16  # AVX512-BF16 / AMX
    assert choose_dtype(CPU, amp=True, bf16_supported=False) is torch.float32  # emulated bf16 would be slower
    assert choose_dtype(CPU, amp=False, bf16_supported=True) is torch.float32
    assert choose_dtype(torch.device("mps"), amp=True) is torch.float32
    assert Precision(CPU, torch.float16).scaler.is_enabled()
    assert not Precision(CPU, torch.bfloat16).scaler.is_enabled()
    with pytest.raises(ValueError, match="float32, bfloat16 or float16"):
        Precision(CPU, torch.float64)


def _linear_step(update) -> torch.Tensor:
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = torch.randn(16, 5)
    update(optimizer, model(x).pow(2).mean())
    return model.weight.detach().clone()


def test_scaled_update_equals_the_plain_update_and_skips_a_step_with_inf_gradients():
    plain = _linear_step(plain_update)
    fp16 = Precision(CPU, torch.float16)
    assert fp16.scaler.get_scale() == 65536.0
    # the scale is a power of two: scaling and unscaling are exact
    torch.testing.assert_close(_linear_step(fp16.update), plain, rtol=0, atol=0)
    fp16.end_step()

    torch.manual_seed(0)
    model = torch.nn.Linear(5, 3)
    before = model.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    fp16.update(optimizer, model(torch.randn(4, 5)).sum() * float("inf"))
    fp16.end_step()
    torch.testing.assert_close(model.weight.detach(), before, rtol=0, atol=0)  # the step was skipped
    assert fp16.scaler.get_scale() == 32768.0  # and the scale halved
    restored = Precision(CPU, torch.float16)
    restored.load_state_dict(fp16.state_dict())
    assert restored.scaler.get_scale() == 32768.0


def test_a_drnet_step_under_bf16_and_fp16_autocast_on_the_cpu():
    config = preset("mnist-lite", width=4, image_size=32, batch_size=4, steps=1, device="cpu")
    frames = torch.rand(4, 4, 1, 32, 32)
    reference = build_model(config)
    results = {}
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        model = copy.deepcopy(reference)
        precision = Precision(CPU, dtype)
        losses = train_step(model, Optimizers.create(model, config), frames, config, shift=1,
                            autocast=precision.autocast(), update=precision.update)
        precision.end_step()
        assert all(torch.isfinite(v) for v in losses.values()), (dtype, losses)
        assert all(p.dtype is torch.float32 for p in model.parameters())  # weights stay float32
        results[dtype] = losses["rec"].item()
    # lower precision computes nearly the same loss, but not bit for bit: autocast was really on
    for dtype in (torch.bfloat16, torch.float16):
        assert results[dtype] == pytest.approx(results[torch.float32], rel=0.05)
        assert results[dtype] != results[torch.float32]
