"""Three of DRNet's layers computed a faster way on the CPU: same weights, same result up to float rounding.

Each class is the ``torch.nn`` layer it subclasses (same parameters, same
``state_dict`` keys, same initialisation) with a ``forward`` that takes a
quicker route for the shapes DRNet gives it, and the ordinary one otherwise.
Measured on one core of this project's 2-core machine (benchmarks/bench_train.py,
``mnist-lite``: batch 64, width 16, 64 x 64 frames):

* :class:`VectorToMap`, the decoder's first layer: a 4 x 4 transposed
  convolution of a 1 x 1 map (the vector ``[h_c, h_p]``) is a matrix product,
  ``x (B, C) @ W (C, C' * 4 * 4)``; oneDNN's transposed convolution ran it at
  about 20 GFLOP/s, forward and backward ~6 ms, the product ~2 ms.
* :class:`MapToVector`, the encoders' heads: a k x k convolution of a k x k
  map (no padding) is a product of the flattened map with the flattened kernel.
* :class:`FoldConvTranspose2d`, the decoder's last layer (16 channels to 1 or 2):
  oneDNN's transposed convolution with so few output channels ran at about
  4 GFLOP/s (8 ms forward). Here the forward is a product ``x @ W`` giving every
  input pixel's 4 x 4 patch, then ``fold`` (col2im) adds the overlapping patches
  (3.4 ms); the backward is the ordinary convolution backward (2 ms).

The sums are the same, taken in another order, so results agree with the plain
layers to float32 rounding (tests/test_layers.py checks outputs and gradients).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class VectorToMap(nn.ConvTranspose2d):
    """A transposed convolution (stride 1, no padding) of a 1 x 1 map: ``(B, C, 1, 1) -> (B, C', k, k)``
    as one matrix product. The output is channels-last (the layout the rest of the network uses)."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if x.dim() != 4 or x.shape[2:] != (1, 1) or output_size is not None or self.groups != 1 or self.padding != (0, 0):
            return super().forward(x, output_size)
        cin, cout, kh, kw = self.weight.shape
        out = x.flatten(1) @ self.weight.permute(0, 2, 3, 1).reshape(cin, kh * kw * cout)  # (B, k*k*C')
        out = out.view(-1, kh, kw, cout)
        if self.bias is not None:
            out = out + self.bias
        return out.permute(0, 3, 1, 2)  # (B, C', k, k), channels-last strides


class MapToVector(nn.Conv2d):
    """A k x k convolution (no padding) of a k x k map: ``(B, C, k, k) -> (B, C', 1, 1)`` as one matrix product."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[2:] != self.kernel_size or self.padding != (0, 0) or self.groups != 1:
            return super().forward(x)
        cout = self.weight.shape[0]
        # flatten both in (k, k, C) order: a free view of a channels-last map
        out = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1) @ self.weight.permute(0, 2, 3, 1).reshape(cout, -1).t()
        if self.bias is not None:
            out = out + self.bias
        return out[:, :, None, None]


class _FoldTransposedConv(torch.autograd.Function):
    """``conv_transpose2d`` forward as ``x @ W`` then ``fold``; backward by ``aten.convolution_backward``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                stride: tuple[int, int], padding: tuple[int, int]) -> torch.Tensor:
        batch, cin, height, width = x.shape
        cout, kh, kw = weight.shape[1:]
        out_h = (height - 1) * stride[0] - 2 * padding[0] + kh
        out_w = (width - 1) * stride[1] - 2 * padding[1] + kw
        cols = x.permute(0, 2, 3, 1).reshape(batch * height * width, cin) @ weight.reshape(cin, cout * kh * kw)
        cols = cols.view(batch, height * width, cout * kh * kw).transpose(1, 2)
        out = F.fold(cols, (out_h, out_w), (kh, kw), stride=stride, padding=padding)
        if bias is not None:
            out += bias.view(1, -1, 1, 1)
        ctx.save_for_backward(x, weight)
        ctx.conv = (stride, padding, bias is not None)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        stride, padding, has_bias = ctx.conv
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], has_bias and ctx.needs_input_grad[2]]
        grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad, x, weight, [weight.shape[1]] if has_bias else None, list(stride), list(padding), [1, 1],
            True, [0, 0], 1, mask)
        return grad_x, grad_w, grad_b, None, None


class FoldConvTranspose2d(nn.ConvTranspose2d):
    """A transposed convolution whose forward is a matrix product and ``fold`` (col2im), for few output
    channels on the CPU (under CPU autocast in its dtype, as the plain layer would run); other devices
    and other settings (groups, dilation, output padding) take the ordinary path."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        plain = (x.dim() != 4 or x.device.type != "cpu" or output_size is not None or self.groups != 1
                 or self.dilation != (1, 1) or self.output_padding != (0, 0) or self.padding_mode != "zeros")
        if plain:
            return super().forward(x, output_size)
        weight, bias = self.weight, self.bias
        if torch.is_autocast_enabled("cpu"):  # autocast does not look inside a Function: cast as it would
            dtype = torch.get_autocast_dtype("cpu")
            x, weight = x.to(dtype), weight.to(dtype)
            bias = None if bias is None else bias.to(dtype)
            with torch.autocast("cpu", enabled=False):
                return _FoldTransposedConv.apply(x, weight, bias, self.stride, self.padding)
        return _FoldTransposedConv.apply(x, weight, bias, self.stride, self.padding)


_PLAIN = {FoldConvTranspose2d: nn.ConvTranspose2d, VectorToMap: nn.ConvTranspose2d, MapToVector: nn.Conv2d}


def use_plain_layers(module: nn.Module) -> nn.Module:
    """Turn every layer of this file inside ``module`` back into the ``torch.nn`` layer it subclasses, in place
    (they hold the same parameters and nothing else): the step as it was computed before them, for
    benchmarks/bench_train.py and the tests that compare the two."""
    for child in module.modules():
        if type(child) in _PLAIN:
            child.__class__ = _PLAIN[type(child)]
    return module
