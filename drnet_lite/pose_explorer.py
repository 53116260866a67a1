"""One slider per pose dimension: what does each coordinate of h_p do? (core ipywidgets only)

Start from a frame's pose vector ``h_p = E_p(x_pose)`` and the content of another
frame ``h_c = E_c(x_content)``; moving slider ``k`` redraws

    D(h_c, h_p + delta * e_k)

so a student sees, dimension by dimension, whether it moves the digit, changes its
size, or does nothing. ``h_p`` comes out of a tanh, so every slider spans ``[-1, 1]``.
The drawing is pure (:meth:`PoseExplorer.decode`, :meth:`PoseExplorer.panel`,
:meth:`PoseExplorer.sweep`); the widget only calls it.
"""
from __future__ import annotations

from typing import Sequence

import torch

from .models import DRNet
from .viz import frame_grid, png_bytes

#: the range of every pose coordinate (the pose encoder ends in tanh)
POSE_RANGE = (-1.0, 1.0)


class PoseExplorer:
    """Decode one content with a pose vector edited coordinate by coordinate.

    Args:
        model: a trained DRNet (put in eval mode).
        content_frame: (C, H, W), gives h_c (and the skips of a skip model).
        pose_frame: (C, H, W), gives the starting pose vector h_p.
        scale: pixel magnification of the PNG.

    Frames may be on any device; the networks run on the model's device and
    everything returned is on the CPU.
    """

    def __init__(self, model: DRNet, content_frame: torch.Tensor, pose_frame: torch.Tensor, scale: int = 3) -> None:
        self.model = model.eval()
        device = next(model.parameters()).device
        self.content_frame, self.pose_frame = content_frame.detach().cpu(), pose_frame.detach().cpu()
        self.scale = scale
        with torch.inference_mode():
            self.content, self.skips = model.encode_content(content_frame[None].to(device))
            self.start = model.encode_pose(pose_frame[None].to(device))[0].cpu()

    @property
    def pose_dim(self) -> int:
        return self.start.numel()

    def _pose(self, pose: Sequence[float] | torch.Tensor) -> torch.Tensor:
        pose = torch.as_tensor(pose, dtype=torch.float32).reshape(-1)
        if pose.numel() != self.pose_dim:
            raise ValueError(f"a pose vector of this model has {self.pose_dim} values, got {pose.numel()}")
        return pose

    def decode(self, pose: Sequence[float] | torch.Tensor) -> torch.Tensor:
        """``D(h_c, pose)`` as a (C, H, W) frame on the CPU."""
        return self.decode_many(self._pose(pose)[None])[0]

    def decode_many(self, poses: torch.Tensor) -> torch.Tensor:
        """``D(h_c, pose_i)`` for a batch of pose vectors (N, pose_dim) -> (N, C, H, W), one decoder pass."""
        device = self.content.device
        n = poses.shape[0]
        with torch.inference_mode():
            skips = [s.expand(n, *s.shape[1:]) for s in self.skips]
            return self.model.decode(self.content.expand(n, -1), poses.to(device, torch.float32), skips).cpu()

    def panel(self, pose: Sequence[float] | torch.Tensor) -> bytes:
        """PNG bytes of [content frame | pose frame | D(h_c, pose)]."""
        frames = torch.stack([self.content_frame, self.pose_frame, self.decode(pose)])
        return png_bytes(frame_grid(frames), scale=self.scale)

    def sweep(self, dim: int, values: Sequence[float] = (-1.0, -0.5, 0.0, 0.5, 1.0)) -> torch.Tensor:
        """(len(values), C, H, W): the start pose with coordinate ``dim`` set to each of ``values``."""
        if not 0 <= dim < self.pose_dim:
            raise IndexError(f"dim must be in [0, {self.pose_dim}), got {dim}")
        poses = self.start.repeat(len(values), 1)
        poses[:, dim] = torch.as_tensor(values, dtype=torch.float32)
        return self.decode_many(poses)

    def effects(self, values: Sequence[float] = (-1.0, -0.5, 0.0, 0.5, 1.0)) -> torch.Tensor:
        """(pose_dim,): how much each coordinate changes the picture, the mean absolute pixel change
        of its :meth:`sweep` from the frame decoded at the start pose (0: the decoder ignores it)."""
        start = self.decode(self.start)
        return torch.stack([(self.sweep(d, values) - start).abs().mean() for d in range(self.pose_dim)])

    def widget(self):
        """One FloatSlider per pose dimension (starting at the frame's pose), a reset button, the live panel."""
        import ipywidgets as widgets

        low, high = POSE_RANGE
        sliders = [widgets.FloatSlider(value=float(v), min=low, max=high, step=0.05, description=f"h_p[{k}]",
                                       continuous_update=True, readout_format=".2f")
                   for k, v in enumerate(self.start.tolist())]
        reset = widgets.Button(description="back to the frame's pose")
        image = widgets.Image(value=self.panel(self.start), format="png")

        def redraw(_change=None) -> None:
            image.value = self.panel([s.value for s in sliders])

        def back(_button=None) -> None:
            for slider, value in zip(sliders, self.start.tolist()):
                slider.unobserve(redraw, names="value")
                slider.value = float(value)
                slider.observe(redraw, names="value")
            redraw()

        for slider in sliders:
            slider.observe(redraw, names="value")
        reset.on_click(back)
        box = widgets.HBox([widgets.VBox([*sliders, reset]), image])
        box.sliders, box.image, box.reset = tuple(sliders), image, reset  # handles for tests and notebooks
        return box
