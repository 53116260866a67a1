"""Training DRNet: the config, frame sampling, one step, the fit loop, loading (the presets: :mod:`drnet_lite.presets`).

One step, on a batch of B clips (one clip per row):

1. draw four frames of every clip, at time steps at most ``max_step`` apart:
   content frames x_c1, x_c2 and pose frames x_p1, x_p2;
2. update the scene discriminator C once on L_C (same-clip pairs vs pairs
   whose second pose vector comes from another clip of the batch);
3. update E_c, E_p and D once on L = L_rec + alpha * L_sim + beta * L_adv.

The losses are in :mod:`drnet_lite.losses`. Clips are generated on the fly
(only the four frames a step needs are drawn), so the data never repeat.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from .assets import SHIPPED_DRNETS, asset_path
from .atomic import write_text
from .checkpoint import CheckpointError, check_field_types, load_checkpoint, load_for_resume, read_config
from .device import pick_device
from .data import MovingMNISTConfig, config_from_dict, for_split, make_source
from .data.source import config_fields, scene_labels
from .distributed import current as distributed_context
from .precision import Precision, plain_update
from .leak_losses import (pose_content_dependence, scene_classifier_loss, scene_confusion_loss, scene_kernel_loss,
                          swap_pose_loss)
from .losses import (adversarial_loss, motion_weights, other_scene_partner, reconstruction_loss, same_scene_partner,
                     scene_discriminator_loss, shuffled_partner, similarity_loss, weighted_reconstruction_loss)
from .models import DRNet, DRNetConfig
from .loop import start_state, train_loop
from .runs import CHECKPOINT_NAME, Run, TrainingDiverged, open_run  # noqa: F401  (TrainingDiverged: re-exported)
from .swap import reconstruction_figure, swap_figure
from .viz import save_png


#: Where the scene discriminator's shuffled partners come from (``TrainConfig.partner``).
PARTNERS = ("clip", "scene")


@dataclass
class TrainConfig:
    """A whole training run. ``alpha`` = ``similarity_weight``, ``beta`` = ``adversarial_weight``.

    ``data`` is the config of any registered clip source (Moving MNIST,
    video, ...; see :mod:`drnet_lite.data.source`). ``model.image_size`` must
    equal ``data.image_size`` and ``model.channels`` the data's channel count;
    :func:`drnet_lite.presets.preset` and :func:`with_overrides` keep them in step.
    """

    model: DRNetConfig = field(default_factory=DRNetConfig)
    data: Any = field(default_factory=MovingMNISTConfig)
    steps: int = 10_000
    batch_size: int = 100
    lr: float = 2e-3
    beta1: float = 0.5
    lr_decay: float = 0.0
    similarity_weight: float = 1.0
    adversarial_weight: float = 1e-4
    max_step: int = 20
    motion_weight: float = 0.0  # lambda of the motion-weighted L_rec (losses.motion_weights); 0: the paper's plain MSE
    swap_weight: float = 0.0  # gamma of L_swap (leak_losses.swap_pose_loss, a cycle through a swap; not in the paper); 0: off
    dependence_weight: float = 0.0  # weight of L_dep (leak_losses.pose_content_dependence, pose against content); 0: off
    classifier_weight: float = 0.0  # weight of the scene classifier's confusion term (needs model.scene_classes); 0: off
    kernel_weight: float = 0.0  # weight of L_kernel (leak_losses.scene_kernel_loss, a discriminator with nothing to train); 0: off
    pose_noise: float = 0.0  # std of Gaussian noise on the pose the decoder reads while training (a capacity limit); 0: none
    partner: str = "clip"  # C's shuffled partners: "clip" = another clip of the batch (the paper), "scene" = another scene
    discriminator_steps: int = 1  # updates of C per step on the step's pose vectors (the paper: 1)
    scene_positives: bool = False  # C's "same" pairs: two clips of one scene (True) or two frames of one clip (the paper)
    seed: int = 0
    log_every: int = 50
    image_every: int = 500
    checkpoint_every: int = 500
    device: str = "auto"
    amp: bool = False  # bf16 autocast on CUDA and bf16-capable CPUs, fp16 + GradScaler on older GPUs (drnet_lite.precision)
    init_from: str = ""  # a DRNet file (path or shipped asset name) whose networks start the run (DRNet.start_from); "": DCGAN init

    def validate(self) -> None:
        check_field_types(self)
        if self.model.image_size != self.data.image_size:
            raise ValueError(f"model.image_size {self.model.image_size} != data.image_size {self.data.image_size}")
        if self.model.channels != self.data.num_channels:
            raise ValueError(
                f"model.channels {self.model.channels} != the data's {self.data.num_channels} channel(s) "
                f"({self.data.source} source, channels={self.data.channels!r})"
            )
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be at least 2 (shuffled pairs need another clip), got {self.batch_size}")
        if self.partner not in PARTNERS:
            raise ValueError(f"partner must be one of {PARTNERS} (shuffled partners from another clip or another scene), "
                             f"got {self.partner!r}")
        if self.discriminator_steps < 1:
            raise ValueError(f"discriminator_steps must be at least 1, got {self.discriminator_steps}")
        if self.classifier_weight > 0 and self.model.scene_classes < 1:
            raise ValueError("classifier_weight > 0 needs a scene classifier: set scene_classes to the number of "
                             "scenes (more than the largest scene label of the data)")
        if self.max_step < 0:
            raise ValueError(f"max_step must be >= 0, got {self.max_step}")
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay is the share of the steps over which lr falls to 0, in [0, 1]; got {self.lr_decay}")
        for name in ("lr", "similarity_weight", "adversarial_weight", "motion_weight", "pose_noise", "swap_weight", "kernel_weight",
                     "classifier_weight", "dependence_weight"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        for name in ("log_every", "image_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        d = dict(d)
        model = DRNetConfig(**d.pop("model"))
        data = config_from_dict(d.pop("data"))  # no source name: Moving MNIST (older checkpoints)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(model=model, data=data, **{k: v for k, v in d.items() if k in known})


def with_overrides(config: TrainConfig, **overrides: Any) -> TrainConfig:
    """A copy of ``config`` with fields changed by flat name.

    Names are looked up in TrainConfig, DRNetConfig (``pose_dim``, ``width``,
    ...) and the data config (for Moving MNIST ``num_digits``, ``channels`` =
    the channel mode; for video ``videos``, ``tiles``, ...). ``image_size``
    sets both model and data; the model's channel count follows the data.
    ``None`` values are ignored.
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    top_names = {f.name for f in dataclasses.fields(TrainConfig)} - {"model", "data"}
    model_names = {f.name for f in dataclasses.fields(DRNetConfig)} - {"channels"}
    data_names = config_fields(config.data) - {"source"}
    top, model, data = {}, config.model.to_dict(), config.data.to_dict()
    for key, value in overrides.items():
        if key not in top_names | model_names | data_names:
            raise ValueError(f"unknown setting {key!r}; known: {sorted(top_names | model_names | data_names)}")
        if key in top_names:
            top[key] = value
        if key in model_names:
            model[key] = value
        if key in data_names:
            data[key] = value
    data_config = type(config.data)(**data)
    model["channels"] = data_config.num_channels
    changed = dataclasses.replace(config, model=DRNetConfig(**model), data=data_config, **top)
    changed.validate()  # a bad value is named now, not when training starts
    return changed


def learning_rate(config: Any, step: int) -> float:
    """The learning rate of step ``step`` (0-based) for a config with ``lr``, ``lr_decay`` and ``steps``:
    ``lr`` until the last ``lr_decay`` share of the steps, then falling linearly towards 0
    (``lr_decay = 0``: constant, as in the paper)."""
    decay_steps = config.lr_decay * config.steps
    if decay_steps <= 0 or step < config.steps - decay_steps:
        return config.lr
    return config.lr * max(0.0, (config.steps - step) / decay_steps)


def sample_times(batch_size: int, max_step: int, generator: torch.Generator) -> torch.Tensor:
    """(B, 4) time steps ``[t_c1, t_c2, t_p1, t_p2]``, each uniform in ``[0, max_step]``.

    Trajectories start at random positions, so time 0 is no special frame:
    the four frames of a row are simply at most ``max_step`` apart.
    """
    return torch.randint(0, max_step + 1, (batch_size, 4), generator=generator)


@dataclass
class Optimizers:
    """Adam for E_c + E_p + D, and Adam for the scene discriminator C (and the scene classifier, if any)."""

    autoencoder: torch.optim.Optimizer
    discriminator: torch.optim.Optimizer

    @classmethod
    def create(cls, model: DRNet, config: TrainConfig) -> "Optimizers":
        kwargs: dict[str, Any] = dict(lr=config.lr, betas=(config.beta1, 0.999))
        on_cuda = next(model.parameters()).device.type == "cuda"
        fast = {"fused": True} if on_cuda else {"foreach": True}
        return cls(
            torch.optim.Adam(model.autoencoder_parameters(), **kwargs, **fast),
            torch.optim.Adam(model.adversary_parameters(), **kwargs, **fast),
        )

    def state_dict(self) -> dict[str, Any]:
        return {"autoencoder": self.autoencoder.state_dict(), "discriminator": self.discriminator.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.autoencoder.load_state_dict(state["autoencoder"])
        self.discriminator.load_state_dict(state["discriminator"])


def noisy_pose(pose: torch.Tensor, std: float) -> torch.Tensor:
    """``pose + std * N(0, 1)``: the pose the decoder reads while training, with ``TrainConfig.pose_noise``.

    The pose vector is bounded (tanh, in [-1, 1]), so noise of a fixed size limits how many values each
    dimension can carry to the decoder: a capacity limit like a smaller ``pose_dim``, without fewer
    dimensions. The scene discriminator and every evaluation read the clean pose. ``std == 0``: ``pose`` itself.
    """
    return pose + std * torch.randn_like(pose) if std > 0 else pose


def train_step(model: DRNet, optimizers: Optimizers, frames: torch.Tensor, config: TrainConfig, shift: int,
               autocast: contextlib.AbstractContextManager | None = None,
               partner: Callable[[torch.Tensor, int], torch.Tensor] = shuffled_partner,
               update: Callable[[torch.optim.Optimizer, torch.Tensor], None] = plain_update,
               positive: Callable[[torch.Tensor], torch.Tensor] | None = None,
               scene: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """One DRNet step on ``frames`` (B, 4, C, H, W) = [x_c1, x_c2, x_p1, x_p2] per clip.

    Args:
        shift: how far the batch is rolled to build the shuffled pairs, in [1, B-1].
        partner: builds the shuffled pairs, ``partner(pose, shift)`` (several processes roll their
            global batch; with ``config.partner == "scene"`` the caller passes partners from other scenes).
        positive: ``positive(pose_2)`` gives the second member of C's "same" pairs (None: the clip's own
            second pose frame; with ``config.scene_positives`` the caller passes another clip of the same scene).
        scene: the scene of every clip (B,), for the scene classifier (``config.classifier_weight > 0``).
        update: ``update(optimizer, loss)`` = zero_grad, backward, step (with gradient
            scaling and averaging over processes when they are on: :mod:`drnet_lite.precision`).

    Returns:
        detached scalars: ``rec``, ``sim``, ``adv``, ``scene`` (L_C, plus the scene classifier's loss when it is on),
        ``scene_acc`` (C's accuracy before its update), ``total``; and, where their terms are on, ``swap``,
        ``kernel``, ``confusion`` and ``classifier_acc`` (the scene classifier's accuracy before its update).
    """
    autocast = autocast or contextlib.nullcontext()
    x_c1, x_c2, x_p1, x_p2 = frames.unbind(1)
    batch = frames.shape[0]
    with autocast:
        h_c1, skips = model.encode_content(x_c1)
        with torch.no_grad():
            h_c2 = model.encode_content(x_c2)[0]
        h_p = model.encode_pose(torch.cat([x_p1, x_p2]))
        h_p1, h_p2 = h_p[:batch], h_p[batch:]

        # 1. The scene discriminator, on pose vectors it cannot change (``discriminator_steps`` updates).
        pose_1, pose_2 = h_p1.detach(), h_p2.detach()
        pose_shuffled = partner(pose_2, shift)
        h_p2_same = h_p2 if positive is None else positive(h_p2)  # the second member of the "same" pairs
        pose_2 = h_p2_same.detach()
    classifier_on = model.scene_classifier is not None and config.classifier_weight > 0
    classifier_acc = torch.zeros(())
    if classifier_on and scene is None:
        raise ValueError("classifier_weight > 0 needs the scene of every clip: pass scene= (fit does)")
    for repeat in range(config.discriminator_steps):
        with autocast:
            logits_same = model.scene_discriminator(pose_1, pose_2)
            logits_shuffled = model.scene_discriminator(pose_1, pose_shuffled)
            loss, acc = scene_discriminator_loss(logits_same.float(), logits_shuffled.float())
            if classifier_on:  # the scene classifier learns in the same update as C, on the same detached pose
                scene_logits = model.scene_classifier(torch.cat([pose_1, h_p2.detach()])).float()
                loss = loss + scene_classifier_loss(scene_logits, scene.repeat(2))
        if repeat == 0:  # what is logged: C before this step's updates
            loss_scene, accuracy = loss, acc
            if classifier_on:
                classifier_acc = (scene_logits.argmax(1) == scene.repeat(2)).float().mean()
        update(optimizers.discriminator, loss)

    # 2. Encoders and decoder, against the updated discriminator.
    with autocast:
        reconstruction = model.decode(h_c1, noisy_pose(h_p1, config.pose_noise), skips)
        if config.motion_weight > 0:
            weights = motion_weights(x_p1.float(), x_c1.float(), config.motion_weight)
            loss_rec = weighted_reconstruction_loss(reconstruction.float(), x_p1.float(), weights)
        else:
            loss_rec = reconstruction_loss(reconstruction.float(), x_p1.float())
        loss_sim = similarity_loss(h_c1.float(), h_c2.float())
        off = torch.zeros((), device=frames.device)  # the value of every term that is switched off
        loss_adv = adversarial_loss(model.scene_discriminator(h_p1, h_p2_same).float()) if config.adversarial_weight > 0 else off
        # the pose encoder makes the scene classifier maximally unsure
        loss_confusion = (scene_confusion_loss(model.scene_classifier(torch.cat([h_p1, h_p2])).float(), scene.repeat(2))
                          if classifier_on else off)
        loss_swap = off
        if config.swap_weight > 0:  # L_swap: this clip's content in another clip's pose, the pose read back
            pose_given = h_p1.detach().roll(1, dims=0)
            with torch.no_grad():  # the swap is an input here: the decoder is not taught to hide pose in it
                swapped = model.decode(h_c1, pose_given, skips)
            loss_swap = swap_pose_loss(model.encode_pose(swapped).float(), pose_given.float())
        loss_kernel = scene_kernel_loss(h_p1.float(), h_p2.float()) if config.kernel_weight > 0 else off
        # pose against its own clip's content (detached: content is not moved)
        loss_dependence = (pose_content_dependence(torch.cat([h_p1, h_p2]).float(), torch.cat([h_c1, h_c1]).detach().float(),
                                                   shift=shift % batch or 1) if config.dependence_weight > 0 else off)
        total = (loss_rec + config.similarity_weight * loss_sim + config.adversarial_weight * loss_adv
                 + config.swap_weight * loss_swap + config.kernel_weight * loss_kernel
                 + config.classifier_weight * loss_confusion + config.dependence_weight * loss_dependence)
    update(optimizers.autoencoder, total)
    out = {
        "rec": loss_rec.detach(), "sim": loss_sim.detach(), "adv": loss_adv.detach(),
        "scene": loss_scene.detach(), "scene_acc": accuracy, "total": total.detach(),
    }
    for name, value, on in (("swap", loss_swap, config.swap_weight > 0), ("kernel", loss_kernel, config.kernel_weight > 0),
                            ("dependence", loss_dependence, config.dependence_weight > 0),
                            ("confusion", loss_confusion, classifier_on), ("classifier_acc", classifier_acc, classifier_on)):
        if on:  # logged only by the runs that use the term, so a run's history keeps one set of columns
            out[name] = value.detach()
    return out


@dataclass
class FitResult:
    model: DRNet
    config: TrainConfig
    history: list[dict[str, float]]
    out_dir: Path | None
    step: int

    @property
    def checkpoint(self) -> Path | None:
        return None if self.out_dir is None else self.out_dir / "checkpoint.pt"


def build_model(config: TrainConfig, device: torch.device | str = "cpu") -> DRNet:
    """A freshly initialised DRNet for ``config`` (seeded by ``config.seed``), started from the
    networks of ``config.init_from`` when it names a DRNet file (a path, or a shipped asset's name)."""
    torch.manual_seed(config.seed)
    model = DRNet(config.model)
    if config.init_from:
        source = Path(config.init_from) if Path(config.init_from).is_file() else asset_path(config.init_from)
        try:
            model.start_from(load_drnet(source)[0])
        except ValueError as error:
            raise ValueError(f"init_from={config.init_from!r}: {error}. Give a file of matching networks, "
                             "or init_from='' (--init-from '') to start from random weights") from None
    return model.to(device)


def preview_frames(config: TrainConfig, count: int = 6, root: str | os.PathLike | None = None,
                   device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed test-split frames for periodic pictures, the same for every run: ``(content_frames, pose_frames)``.

    Both are (count, C, H, W) and come from the *same* ``count`` clips: content
    frame i is frame 0 of clip i, pose frame i a later frame of that clip
    (``min(max_step, seq_len - 1)``). So :func:`~drnet_lite.swap.reconstruction_figure`
    shows true reconstructions (pose frame i is the target of column i), and in
    :func:`~drnet_lite.swap.swap_figure` the diagonal is those reconstructions while
    every other cell swaps between clips.
    """
    data = for_split(config.data, "test")
    later = min(config.max_step, data.seq_len - 1)
    times = torch.tensor([0, later]).expand(count, 2)
    clips = make_source(data, root=root, device=device).sample(count, seed=20171, times=times)
    return clips.frames[:, 0], clips.frames[:, 1]


def write_history_csv(history: list[dict[str, float]], path: Path) -> None:
    """Write the logged figures as CSV, atomically."""
    if not history:
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    write_text(path, buffer.getvalue())


def checkpoint_payload(model: DRNet, optimizers: Optimizers, config: TrainConfig, step: int,
                       data_rng: torch.Generator, history: list[dict[str, float]], elapsed: float) -> dict[str, Any]:
    return {
        "kind": "drnet",
        "config": config.to_dict(),
        "state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizers": optimizers.state_dict(),
        "step": step,
        "rng": {"data": data_rng.get_state(), "torch": torch.get_rng_state()},
        "history": history,
        "elapsed": elapsed,
    }


def load_drnet(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[DRNet, TrainConfig]:
    """Rebuild a trained DRNet (eval mode) and its config from a checkpoint."""
    payload = load_checkpoint(path, kind="drnet", map_location="cpu")
    config = read_config(payload, path, TrainConfig.from_dict)
    try:
        model = DRNet(config.model)
        model.load_state_dict(payload["state"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: checkpoint does not match the DRNet it describes: {exc}") from exc
    return model.to(device).eval(), config


def load_shipped_drnet(name: str = "mnist-lite", device: str = "cpu") -> tuple[DRNet, TrainConfig]:
    """A shipped DRNet (eval mode) and its TrainConfig: ``"mnist-lite"`` (one grey digit) or
    ``"mnist2-lite"`` (two digits, one colour channel each)."""
    if name not in SHIPPED_DRNETS:
        raise ValueError(f"no shipped DRNet {name!r}; choose one of {sorted(SHIPPED_DRNETS)}")
    return load_drnet(asset_path(SHIPPED_DRNETS[name]), device=device)


def training_bytes(config: TrainConfig) -> int:
    """About how many bytes a training step of ``config`` holds: the weights with their gradients and two
    Adam moments (4 copies), and the activations of the four frames of each clip (content twice, pose
    twice: encoders and decoder) kept for the backward pass and their gradients (2 copies). Measured by
    running the networks on the ``meta`` device, which allocates nothing."""
    with torch.device("meta"):
        model = DRNet(config.model).eval()
        frame = torch.zeros(1, config.model.channels, config.model.image_size, config.model.image_size)
        sizes: list[int] = []
        hooks = [m.register_forward_hook(lambda m, i, out: sizes.append(out.numel() if isinstance(out, torch.Tensor)
                                                                         else 0))
                 for m in model.modules() if not list(m.children())]
        try:
            with torch.no_grad():
                model(frame, frame)
        finally:
            for hook in hooks:
                hook.remove()
    weights = sum(p.numel() for p in model.parameters())
    per_frame = sum(sizes)  # the activations of one content frame, one pose frame and one decoded frame
    return 4 * 4 * weights + 2 * 4 * 2 * per_frame * config.batch_size


def memory_of(device: torch.device) -> int:
    """The memory of ``device`` in bytes (a CUDA GPU's, else this machine's RAM; 0 if unknown)."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def check_memory(config: TrainConfig, device: torch.device) -> None:
    """Refuse, before anything is allocated, a run whose step needs more memory than ``device`` has."""
    need, have = training_bytes(config), memory_of(device)
    if have and need > have:
        raise ValueError(
            f"this run needs about {need / 2**30:,.1f} GB for one training step (width {config.model.width}, batch "
            f"{config.batch_size}, {config.model.image_size}x{config.model.image_size} frames) and the {device.type} "
            f"has {have / 2**30:,.1f} GB: use a smaller --width or --batch-size")


def fit(config: TrainConfig, out_dir: str | os.PathLike | None = None, resume: bool = False,
        data_root: str | os.PathLike | None = None, progress: bool = True,
        callback: Callable[[int, list[dict[str, float]], DRNet], None] | None = None,
        compile_model: bool = False, overwrite: bool = False) -> FitResult:
    """Train DRNet for ``config.steps`` steps in total.

    Args:
        out_dir: where ``checkpoint.pt``, ``history.csv`` and ``images/`` go
            (None: keep everything in memory).
        resume: continue from ``out_dir/checkpoint.pt`` (same config); the
            result equals an uninterrupted run on the CPU.
        overwrite: replace the run already in ``out_dir`` (without it, or
            ``resume``, a folder holding a run is refused; see :mod:`drnet_lite.runs`).
        data_root: the source's data folder (Moving MNIST: the MNIST folder, default
            ``$DRNET_DATA`` or the cache; video: the decoded-frame cache).
        progress: show a tqdm bar with the losses and C's accuracy.
        callback: called as ``callback(step, history, model)`` after each log.
        compile_model: ``torch.compile`` the four networks (optional; pays
            off on long GPU runs, costs a warm-up).

    On CUDA and the CPU the networks and frames use the channels_last layout
    (1.3x faster for the lite preset on 2 CPU cores); Adam uses its fused
    kernel on CUDA and its foreach kernel on the CPU.

    Ctrl-C stops the run after the step in progress and saves it (then raises
    :class:`~drnet_lite.runs.Interrupted`).

    Raises:
        TrainingDiverged: a loss became NaN/inf or exploded, or the weights became
            non-finite; the last good checkpoint is kept.
        RunFolderError: ``out_dir`` cannot be used (see :func:`~drnet_lite.runs.open_run`).
    """
    config.validate()
    device = pick_device(config.device)
    dist = distributed_context(device)  # torchrun: one process of several (else a world of one)
    device = dist.device(device)
    batch_size = dist.local_batch(config.batch_size)  # this process's share of the global batch
    check_memory(dataclasses.replace(config, batch_size=batch_size), device)  # before any allocation or folder
    # rank 0 alone opens (probes, locks, cleans) the folder; if it refuses, every rank raises
    run = dist.on_main(lambda: open_run(out_dir, resume=resume, overwrite=overwrite)) or Run(None)
    out = run.folder
    ckpt_path = Path(out_dir) / CHECKPOINT_NAME if out_dir is not None else None  # every rank reads it on resume
    try:  # the setup: a failure here releases the folder
        model = build_model(config, device)
        # channels_last: measured 1.3x faster for the lite preset on a 2-core CPU, and the fast layout on CUDA
        layout = torch.channels_last if device.type in ("cuda", "cpu") else torch.contiguous_format
        model = dist.prepare(model.to(memory_format=layout))
        optimizers = Optimizers.create(model, config)
        precision = Precision.create(device, config.amp, average_gradients=dist.average_gradients)
        data_rng, shared_rng = dist.generators(config.seed)  # the same generator in a world of one
        payload = load_for_resume(ckpt_path, "drnet", config, TrainConfig.from_dict) if resume else None
        if payload is not None:
            model.load_state_dict(payload["state"])
            optimizers.load_state_dict(payload["optimizers"])
            precision.load_state_dict(payload.get("scaler", {}))
        state = start_state(run, payload, lambda rng: dist.restore_rng(rng, data_rng, shared_rng))

        if compile_model:
            for network in (model.content_encoder, model.pose_encoder, model.decoder, model.scene_discriminator):
                network.compile()
        data = make_source(config.data, root=data_root, device=device)
        try:  # before any work: can the source give frames max_step apart?
            probe = data.sample(2, seed=0, times=torch.tensor([[0, config.max_step]] * 2))
        except ValueError as exc:
            raise ValueError(f"max_step {config.max_step} does not fit this data ({exc}); "
                             "use a smaller max_step or longer clips (seq_len)") from exc
        # the settings that read the scene label of every clip, and what to set instead
        scene_users = [(what, fix) for what, fix, on in (
            ("partner='scene'", "partner='clip' and scene_positives=False", config.partner == "scene"),
            ("scene_positives", "partner='clip' and scene_positives=False", config.scene_positives),
            ("classifier_weight > 0", "classifier_weight=0", config.classifier_weight > 0)) if on]
        labels = scene_labels(probe) if scene_users else None
        if scene_users and labels is None:
            what, fix = scene_users[0]
            raise ValueError(f"{what} needs clips that say which scene they show; the {config.data.source} "
                             f"source's clips do not: use {fix}")
        if config.partner == "scene" or config.scene_positives:
            what = "partner='scene'" if config.partner == "scene" else "scene_positives"
            if dist.enabled:
                raise ValueError(f"{what} is not implemented for several processes: use partner='clip' and "
                                 "scene_positives=False")
        if config.classifier_weight > 0:
            if int(labels.max()) >= config.model.scene_classes:
                raise ValueError(f"scene_classes {config.model.scene_classes} is too small for scene label "
                                 f"{int(labels.max())}: use at least {int(labels.max()) + 1}")
        if config.discriminator_steps > 1 and precision.state_dict():
            raise ValueError("discriminator_steps > 1 does not work with float16 gradient scaling (amp on this "
                             "device): use discriminator_steps=1 or amp=False")
        preview = preview_frames(config, root=data_root, device=device) if out is not None else None

        def save(at_step: int) -> None:  # every rank checks the (identical) state is finite; rank 0 writes
            rng = dist.rng_states(data_rng, shared_rng)  # a collective: every rank takes part
            payload = checkpoint_payload(model, optimizers, config, at_step, data_rng, state.history, state.elapsed)
            payload["rng"].update(rng)
            payload["log_partial"] = state.partial_record()
            if precision.state_dict():
                payload["scaler"] = precision.state_dict()
            run.save(payload, after=lambda: write_history_csv(state.history, out / "history.csv"))

        def pictures(at_step: int) -> None:
            if out is None:  # in memory, or a rank other than 0
                return
            save_png(reconstruction_figure(model, *preview), out / "images" / f"reconstruction_{at_step:06d}.png", scale=2)
            save_png(swap_figure(model, *preview), out / "images" / f"swap_{at_step:06d}.png", scale=2)
    except BaseException:
        run.close()
        raise

    def one_step(at: int) -> dict[str, torch.Tensor]:
        times = sample_times(batch_size, config.max_step, data_rng)
        shift = int(torch.randint(1, config.batch_size, (1,), generator=shared_rng))  # rolls the global batch
        clips = data.sample(batch_size, generator=data_rng, times=times)
        frames = clips.frames
        partner, positive = dist.shuffled_partner, None
        if config.partner == "scene":  # partners from another scene of the batch (losses.other_scene_partner)
            index = other_scene_partner(scene_labels(clips), generator=data_rng)
            partner = lambda pose, _shift: pose[index]  # noqa: E731
        if config.scene_positives:  # "same" pairs from two clips of one scene (losses.same_scene_partner)
            same = same_scene_partner(scene_labels(clips), generator=data_rng)
            positive = lambda pose: pose[same]  # noqa: E731
        for group in optimizers.autoencoder.param_groups + optimizers.discriminator.param_groups:
            group["lr"] = learning_rate(config, at)
        if layout is torch.channels_last:
            frames = frames.flatten(0, 1).contiguous(memory_format=layout).unflatten(0, frames.shape[:2])
        scene = scene_labels(clips) if config.classifier_weight > 0 else None
        losses = train_step(model, optimizers, frames, config, shift, precision.autocast(),
                            partner=partner, update=precision.update, positive=positive, scene=scene)
        precision.end_step()
        return dist.mean(losses)  # the global batch's losses, the same on every rank (so every rank stops alike)

    model.train()
    train_loop(run, state, config.steps, one_step, save, config.log_every, config.checkpoint_every,
               pictures=pictures, image_every=config.image_every, progress=progress and dist.is_main, desc="DRNet",
               postfix=lambda row: dict(rec=f"{row['rec']:.4f}", sim=f"{row['sim']:.4f}", adv=f"{row['adv']:.3f}",
                                        C_acc=f"{row['scene_acc']:.2f}"),
               on_log=None if callback is None or not dist.is_main else (lambda at, rows: callback(at, rows, model)),
               agree=dist.any)
    step, history = state.step, state.history
    # hand back the ordinary layout, so the model computes exactly like one rebuilt by load_drnet
    model = dist.release(model).to(memory_format=torch.contiguous_format).eval()
    return FitResult(model=model, config=config, history=history, out_dir=out, step=step)

