"""Interactive swapping with ipywidgets sliders (core widgets only: IntSlider, Image, Output).

The drawing is a pure function, :meth:`SwapExplorer.panel`, returning PNG
bytes; the sliders only call it. Content and pose vectors of every frame are
computed once up front, so moving a slider costs one decoder pass, fast
enough to drag.
"""
from __future__ import annotations

import torch

from .device import device_of, to_cpu
from .models import DRNet
from .viz import frame_grid, png_bytes


class SwapExplorer:
    """Content clips x pose clips x time, decoded on demand.

    Args:
        model: a trained DRNet (put in eval mode).
        content_clips: (N, T, C, H, W) clips that give the content.
        pose_clips: (M, T, C, H, W) clips that give the pose.
        scale: pixel magnification of the PNG.

    The panel shows, left to right: the content frame (time 0 of the content
    clip), the pose frame (time t of the pose clip), and the swap
    ``D(E_c(content), E_p(pose))``.
    """

    def __init__(self, model: DRNet, content_clips: torch.Tensor, pose_clips: torch.Tensor, scale: int = 3) -> None:
        self.model = model.eval()
        self.content_clips = content_clips
        self.pose_clips = pose_clips
        self.scale = scale
        device = device_of(model)  # clips on any device; codes on the model's
        with torch.inference_mode():
            self.content, self.skips = model.encode_content(content_clips[:, 0].to(device))
            m, t = pose_clips.shape[:2]
            self.pose = model.encode_pose(pose_clips.flatten(0, 1).to(device)).view(m, t, -1)

    def swap(self, content_index: int, pose_index: int, t: int) -> torch.Tensor:
        """The swapped frame (C, H, W), on the CPU."""
        self._check(content_index, pose_index, t)
        with torch.inference_mode():
            skips = [s[content_index:content_index + 1] for s in self.skips]
            return to_cpu(self.model.decode(self.content[content_index:content_index + 1], self.pose[pose_index, t][None], skips)[0])

    def panel(self, content_index: int, pose_index: int, t: int) -> bytes:
        """PNG bytes of [content frame | pose frame | swap]."""
        self._check(content_index, pose_index, t)
        frames = torch.stack([to_cpu(self.content_clips[content_index, 0]), to_cpu(self.pose_clips[pose_index, t]),
                              self.swap(content_index, pose_index, t)])
        return png_bytes(frame_grid(frames), scale=self.scale)

    def _check(self, content_index: int, pose_index: int, t: int) -> None:
        n, (m, steps) = len(self.content_clips), self.pose_clips.shape[:2]
        if not (0 <= content_index < n and 0 <= pose_index < m and 0 <= t < steps):
            raise IndexError(f"content_index in [0, {n}), pose_index in [0, {m}), t in [0, {steps}) expected, "
                             f"got {content_index}, {pose_index}, {t}")

    def widget(self):
        """Sliders for content clip, pose clip and time above the live panel."""
        import ipywidgets as widgets

        content = widgets.IntSlider(0, 0, len(self.content_clips) - 1, description="content clip")
        pose = widgets.IntSlider(0, 0, len(self.pose_clips) - 1, description="pose clip")
        time = widgets.IntSlider(0, 0, self.pose_clips.shape[1] - 1, description="time")
        image = widgets.Image(value=self.panel(0, 0, 0), format="png")

        def redraw(_change=None) -> None:
            image.value = self.panel(content.value, pose.value, time.value)

        for slider in (content, pose, time):
            slider.observe(redraw, names="value")
        box = widgets.VBox([widgets.HBox([content, pose, time]), image])
        box.sliders = (content, pose, time)  # handles for tests and notebooks
        box.image = image
        return box


def explorer_toggle(explorers: dict[str, SwapExplorer]):
    """One set of sliders per model behind a toggle (e.g. the one-digit and the two-digit DRNet).

    ``explorers`` maps a label to a :class:`SwapExplorer`; the toggle shows that explorer's
    widget (each keeps its own slider positions). Handles: ``box.toggle`` and
    ``box.panels`` (label -> that explorer's widget).
    """
    import ipywidgets as widgets

    if not explorers:
        raise ValueError("explorer_toggle needs at least one SwapExplorer")
    panels = {label: explorer.widget() for label, explorer in explorers.items()}
    toggle = widgets.ToggleButtons(options=list(panels), description="model")
    box = widgets.VBox([toggle, panels[toggle.value]])

    def switch(_change=None) -> None:
        box.children = (toggle, panels[toggle.value])

    toggle.observe(switch, names="value")
    box.toggle, box.panels = toggle, panels
    return box


def shipped_explorer(name: str = "mnist-lite", clips: int = 8, seed: int = 7, scale: int = 3) -> SwapExplorer:
    """A :class:`SwapExplorer` of a shipped DRNet (see :func:`drnet_lite.train.load_shipped_drnet`) on
    ``clips`` content and ``clips`` pose clips of its own kind, drawn from MNIST test digits."""
    from .train import load_shipped_drnet
    from .data import MovingMNIST
    from .experiments.moving_mnist import test_config

    model, config = load_shipped_drnet(name)
    frames = MovingMNIST(test_config(config.data)).sample(2 * clips, seed=seed).frames
    return SwapExplorer(model, frames[:clips], frames[clips:], scale=scale)


class RolloutExplorer:
    """A long rollout next to the truth, one time step at a time.

    Args:
        truth: (B, T, C, H, W) true clips, observed frames first.
        predicted: (B, T - observed, C, H, W) the predicted frames.
        observed: how many frames of ``truth`` were observed.
        scale: pixel magnification of the PNG.

    The panel at step t (0-based over the whole clip) shows [truth | prediction]
    for every clip; during the observed frames the prediction column repeats
    the observed frame.
    """

    def __init__(self, truth: torch.Tensor, predicted: torch.Tensor, observed: int, scale: int = 3) -> None:
        if truth.shape[0] != predicted.shape[0] or truth.shape[1] != observed + predicted.shape[1]:
            raise ValueError(f"truth {tuple(truth.shape)} must hold the {observed} observed frames followed by "
                             f"the {predicted.shape[1]} predicted steps of predicted {tuple(predicted.shape)}")
        self.truth, self.predicted, self.observed, self.scale = truth, predicted, observed, scale

    @property
    def steps(self) -> int:
        return self.truth.shape[1]

    def frames(self, t: int) -> torch.Tensor:
        """(B, 2, C, H, W): truth and prediction at step t."""
        if not 0 <= t < self.steps:
            raise IndexError(f"t must be in [0, {self.steps}), got {t}")
        guess = self.truth[:, t] if t < self.observed else self.predicted[:, t - self.observed]
        return torch.stack([to_cpu(self.truth[:, t]), to_cpu(guess)], dim=1)

    def panel(self, t: int) -> bytes:
        """PNG bytes: one row per clip, [truth | prediction] at step t."""
        return png_bytes(frame_grid(self.frames(t)), scale=self.scale)

    def widget(self):
        """A time slider over the whole rollout above the live panel."""
        import ipywidgets as widgets

        time = widgets.IntSlider(self.observed, 0, self.steps - 1, description="time step",
                                 layout=widgets.Layout(width="90%"))
        label = widgets.Label()
        image = widgets.Image(value=self.panel(time.value), format="png")

        def redraw(_change=None) -> None:
            t = time.value
            label.value = f"observed frame {t + 1}" if t < self.observed else f"predicted t+{t - self.observed + 1}"
            image.value = self.panel(t)

        redraw()
        time.observe(redraw, names="value")
        box = widgets.VBox([widgets.HBox([time, label]), image])
        box.sliders = (time,)
        box.image = image
        return box
