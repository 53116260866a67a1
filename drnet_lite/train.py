"""Training DRNet: configs and presets, frame sampling, one step, the fit loop.

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
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from .checkpoint import CheckpointError, load_checkpoint, load_for_resume, save_checkpoint
from .course import pick_device
from .data import MovingMNIST, MovingMNISTConfig
from .distributed import current as distributed_context
from .precision import Precision, plain_update
from .losses import adversarial_loss, reconstruction_loss, scene_discriminator_loss, shuffled_partner, similarity_loss
from .models import DRNet, DRNetConfig
from .swap import reconstruction_figure, swap_figure
from .viz import save_png


@dataclass
class TrainConfig:
    """A whole training run. ``alpha`` = ``similarity_weight``, ``beta`` = ``adversarial_weight``.

    ``model.image_size`` must equal ``data.image_size`` and ``model.channels``
    the data's channel count; :func:`preset` and :func:`with_overrides` keep
    them in step.
    """

    model: DRNetConfig = field(default_factory=DRNetConfig)
    data: MovingMNISTConfig = field(default_factory=MovingMNISTConfig)
    steps: int = 10_000
    batch_size: int = 100
    lr: float = 2e-3
    beta1: float = 0.5
    lr_decay: float = 0.0
    similarity_weight: float = 1.0
    adversarial_weight: float = 1e-4
    max_step: int = 20
    seed: int = 0
    log_every: int = 50
    image_every: int = 500
    checkpoint_every: int = 500
    device: str = "auto"
    amp: bool = False  # CUDA only: bf16 autocast where supported, else fp16 + GradScaler (drnet_lite.precision)

    def validate(self) -> None:
        if self.model.image_size != self.data.image_size:
            raise ValueError(f"model.image_size {self.model.image_size} != data.image_size {self.data.image_size}")
        if self.model.channels != self.data.num_channels:
            raise ValueError(
                f"model.channels {self.model.channels} != the data's {self.data.num_channels} channel(s) "
                f"({self.data.channels!r} mode with {self.data.num_digits} digit(s))"
            )
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be at least 2 (shuffled pairs need another clip), got {self.batch_size}")
        if self.max_step < 0:
            raise ValueError(f"max_step must be >= 0, got {self.max_step}")
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay is the share of the steps over which lr falls to 0, in [0, 1]; got {self.lr_decay}")
        for name in ("lr", "similarity_weight", "adversarial_weight"):
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
        data = MovingMNISTConfig(**d.pop("data"))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(model=model, data=data, **{k: v for k, v in d.items() if k in known})


def with_overrides(config: TrainConfig, **overrides: Any) -> TrainConfig:
    """A copy of ``config`` with fields changed by flat name.

    Names are looked up in TrainConfig, DRNetConfig (``pose_dim``, ``width``,
    ...) and MovingMNISTConfig (``num_digits``, ``channels`` = the channel
    mode, ...). ``image_size`` sets both model and data; the model's channel
    count follows the data. ``None`` values are ignored.
    """
    overrides = {k: v for k, v in overrides.items() if v is not None}
    top_names = {f.name for f in dataclasses.fields(TrainConfig)} - {"model", "data"}
    model_names = {f.name for f in dataclasses.fields(DRNetConfig)} - {"channels"}
    data_names = {f.name for f in dataclasses.fields(MovingMNISTConfig)}
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
    data_config = MovingMNISTConfig(**data)
    model["channels"] = data_config.num_channels
    return dataclasses.replace(config, model=DRNetConfig(**model), data=data_config, **top)


def _paper() -> TrainConfig:
    """The reference hyperparameters (DRNET.md): Adam 2e-3 (beta1 0.5), batch 100,
    content 128, pose 10, width 64, alpha 1, beta 1e-4, max_step 20, two digits
    in their own colour channels."""
    data = MovingMNISTConfig(image_size=64, num_digits=2, digit_size=32, channels="per-digit", seq_len=21)
    model = DRNetConfig(image_size=64, channels=2, content_dim=128, pose_dim=10, width=64)
    return TrainConfig(model=model, data=data, steps=100_000, batch_size=100, lr=2e-3, beta1=0.5,
                       similarity_weight=1.0, adversarial_weight=1e-4, max_step=20)


def _lite() -> TrainConfig:
    """A DRNet that learns a working swap on a 2-core CPU in minutes (one grey digit).

    Kept from the paper: the networks, the three losses, one C update then one
    E_c/E_p/D update per step, Adam 2e-3 (beta1 0.5), content 128, pose 10.
    Changed, each measured to matter (notebook 05 tells the story):
      * width 16 and batch 64: about 3x faster per step than width 32;
      * content frames up to max_step = 40 frames from the pose frame, so the
        content frame's position says little about the target's: content
        gains nothing by carrying position, and the scene discriminator
        cannot tell same-clip pairs by nearby positions (with max_step 12,
        content carried position, R^2 0.91, and pose learned slowly);
      * normalize_content: content cannot collapse to a constant;
      * content_pool: content is translation-invariant by construction
        (swap accuracy 53% after 1,000 steps, against 24% at 1,250 without);
      * alpha = 0.01 (with alpha = 1 content stayed empty for 1,500 steps),
        beta = 0.1 (1e-4 in the paper code, which lets pose carry identity).
    """
    data = MovingMNISTConfig(image_size=64, num_digits=1, digit_size=28, channels="grey", seq_len=41)
    model = DRNetConfig(image_size=64, channels=1, content_dim=128, pose_dim=10, width=16,
                        normalize_content=True, content_pool=True)
    return TrainConfig(model=model, data=data, steps=12000, batch_size=64, lr=2e-3, beta1=0.5,
                       similarity_weight=0.01, adversarial_weight=0.1, max_step=40,
                       log_every=25, image_every=500, checkpoint_every=500)


PRESETS: dict[str, Callable[[], TrainConfig]] = {"mnist-paper": _paper, "mnist-lite": _lite}


def preset(name: str, **overrides: Any) -> TrainConfig:
    """A named preset (``mnist-paper``, ``mnist-lite``) with optional flat overrides."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return with_overrides(PRESETS[name](), **overrides)


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
    """Adam for E_c + E_p + D, and Adam for the scene discriminator C."""

    autoencoder: torch.optim.Optimizer
    discriminator: torch.optim.Optimizer

    @classmethod
    def create(cls, model: DRNet, config: TrainConfig) -> "Optimizers":
        kwargs: dict[str, Any] = dict(lr=config.lr, betas=(config.beta1, 0.999))
        on_cuda = next(model.parameters()).device.type == "cuda"
        fast = {"fused": True} if on_cuda else {"foreach": True}
        return cls(
            torch.optim.Adam(model.autoencoder_parameters(), **kwargs, **fast),
            torch.optim.Adam(model.scene_discriminator.parameters(), **kwargs, **fast),
        )

    def state_dict(self) -> dict[str, Any]:
        return {"autoencoder": self.autoencoder.state_dict(), "discriminator": self.discriminator.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.autoencoder.load_state_dict(state["autoencoder"])
        self.discriminator.load_state_dict(state["discriminator"])


def train_step(model: DRNet, optimizers: Optimizers, frames: torch.Tensor, config: TrainConfig, shift: int,
               autocast: contextlib.AbstractContextManager | None = None,
               partner: Callable[[torch.Tensor, int], torch.Tensor] = shuffled_partner,
               update: Callable[[torch.optim.Optimizer, torch.Tensor], None] = plain_update) -> dict[str, torch.Tensor]:
    """One DRNet step on ``frames`` (B, 4, C, H, W) = [x_c1, x_c2, x_p1, x_p2] per clip.

    Args:
        shift: how far the batch is rolled to build the shuffled pairs, in [1, B-1].
        partner: builds the shuffled pairs (several processes roll their global batch).
        update: ``update(optimizer, loss)`` = zero_grad, backward, step (with gradient
            scaling and averaging over processes when they are on: :mod:`drnet_lite.precision`).

    Returns:
        detached scalars: ``rec``, ``sim``, ``adv``, ``scene`` (L_C),
        ``scene_acc`` (C's accuracy before its update), ``total``.
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

        # 1. The scene discriminator, on pose vectors it cannot change.
        pose_1, pose_2 = h_p1.detach(), h_p2.detach()
        logits_same = model.scene_discriminator(pose_1, pose_2)
        logits_shuffled = model.scene_discriminator(pose_1, partner(pose_2, shift))
        loss_scene, accuracy = scene_discriminator_loss(logits_same.float(), logits_shuffled.float())
    update(optimizers.discriminator, loss_scene)

    # 2. Encoders and decoder, against the updated discriminator.
    with autocast:
        reconstruction = model.decode(h_c1, h_p1, skips)
        loss_rec = reconstruction_loss(reconstruction.float(), x_p1.float())
        loss_sim = similarity_loss(h_c1.float(), h_c2.float())
        if config.adversarial_weight > 0:
            loss_adv = adversarial_loss(model.scene_discriminator(h_p1, h_p2).float())
        else:
            loss_adv = torch.zeros((), device=frames.device)
        total = loss_rec + config.similarity_weight * loss_sim + config.adversarial_weight * loss_adv
    update(optimizers.autoencoder, total)
    return {
        "rec": loss_rec.detach(), "sim": loss_sim.detach(), "adv": loss_adv.detach(),
        "scene": loss_scene.detach(), "scene_acc": accuracy, "total": total.detach(),
    }


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


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
    """A freshly initialised DRNet for ``config`` (seeded by ``config.seed``)."""
    torch.manual_seed(config.seed)
    return DRNet(config.model).to(device)


def preview_frames(config: TrainConfig, count: int = 6, root: str | os.PathLike | None = None,
                   device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed test-split content and pose frames for periodic pictures (same for every run)."""
    data = dataclasses.replace(config.data, split="test")
    clips = MovingMNIST(data, root=root, device=device).sample(2 * count, seed=20171, times=torch.zeros(2 * count, 1, dtype=torch.long))
    return clips.frames[:count, 0], clips.frames[count:, 0]


def write_history_csv(history: list[dict[str, float]], path: Path) -> None:
    """Write the logged figures as CSV, atomically."""
    if not history:
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buffer.getvalue())
    os.replace(tmp, path)


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
    try:
        config = TrainConfig.from_dict(payload["config"])
        model = DRNet(config.model)
        model.load_state_dict(payload["state"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: checkpoint does not match the DRNet it describes: {exc}") from exc
    return model.to(device).eval(), config


def fit(config: TrainConfig, out_dir: str | os.PathLike | None = None, resume: bool = False,
        data_root: str | os.PathLike | None = None, progress: bool = True,
        callback: Callable[[int, list[dict[str, float]], DRNet], None] | None = None,
        compile_model: bool = False) -> FitResult:
    """Train DRNet for ``config.steps`` steps in total.

    Args:
        out_dir: where ``checkpoint.pt``, ``history.csv`` and ``images/`` go
            (None: keep everything in memory).
        resume: continue from ``out_dir/checkpoint.pt`` (same config); the
            result equals an uninterrupted run on the CPU.
        data_root: MNIST folder (default: ``$DRNET_DATA`` or the cache).
        progress: show a tqdm bar with the losses and C's accuracy.
        callback: called as ``callback(step, history, model)`` after each log.
        compile_model: ``torch.compile`` the four networks (optional; pays
            off on long GPU runs, costs a warm-up).

    On CUDA and the CPU the networks and frames use the channels_last layout
    (1.3x faster for the lite preset on 2 CPU cores); Adam uses its fused
    kernel on CUDA and its foreach kernel on the CPU.

    Raises:
        TrainingDiverged: a loss became NaN/inf; the last checkpoint is kept.
    """
    from tqdm.auto import tqdm

    config.validate()
    device = pick_device(config.device)
    dist = distributed_context(device)  # torchrun: one process of several (else a world of one)
    device = dist.device(device)
    batch_size = dist.local_batch(config.batch_size)
    out = Path(out_dir) if out_dir is not None else None
    ckpt_path = out / "checkpoint.pt" if out is not None else None

    model = build_model(config, device)
    # channels_last: measured 1.3x faster for the lite preset on a 2-core CPU, and the fast layout on CUDA
    layout = torch.channels_last if device.type in ("cuda", "cpu") else torch.contiguous_format
    model = dist.prepare(model.to(memory_format=layout))
    optimizers = Optimizers.create(model, config)
    precision = Precision.create(device, config.amp, average_gradients=dist.average_gradients)
    data_rng, shared_rng = dist.generators(config.seed)
    history: list[dict[str, float]] = []
    step, elapsed = 0, 0.0
    if resume:
        payload = load_for_resume(ckpt_path, "drnet", config, TrainConfig.from_dict)
        model.load_state_dict(payload["state"])
        optimizers.load_state_dict(payload["optimizers"])
        dist.restore_rng(payload["rng"], data_rng, shared_rng)
        precision.load_state_dict(payload.get("scaler", {}))
        torch.set_rng_state(payload["rng"]["torch"])
        step, history, elapsed = int(payload["step"]), list(payload["history"]), float(payload.get("elapsed", 0.0))

    if compile_model:
        for network in (model.content_encoder, model.pose_encoder, model.decoder, model.scene_discriminator):
            network.compile()
    data = MovingMNIST(config.data, root=data_root, device=device)
    preview = preview_frames(config, root=data_root, device=device) if out is not None and dist.is_main else None

    def save(at_step: int) -> None:
        rng = dist.rng_states(data_rng, shared_rng)  # every rank takes part; rank 0 writes
        if ckpt_path is not None and dist.is_main:
            payload = checkpoint_payload(model, optimizers, config, at_step, data_rng, history, elapsed)
            payload["rng"].update(rng)
            if precision.state_dict():
                payload["scaler"] = precision.state_dict()
            save_checkpoint(payload, ckpt_path)
            write_history_csv(history, out / "history.csv")

    def pictures(at_step: int) -> None:
        if out is None or not dist.is_main:
            return
        save_png(reconstruction_figure(model, *preview), out / "images" / f"reconstruction_{at_step:06d}.png", scale=2)
        save_png(swap_figure(model, *preview), out / "images" / f"swap_{at_step:06d}.png", scale=2)

    model.train()
    sums: dict[str, torch.Tensor] = {}
    count = 0
    bar = tqdm(total=config.steps, initial=step, disable=not progress or not dist.is_main, desc="DRNet", dynamic_ncols=True)
    tick = time.perf_counter()
    try:
        while step < config.steps:
            times = sample_times(batch_size, config.max_step, data_rng)
            shift = int(torch.randint(1, config.batch_size, (1,), generator=shared_rng))
            frames = data.sample(batch_size, generator=data_rng, times=times).frames
            for group in optimizers.autoencoder.param_groups + optimizers.discriminator.param_groups:
                group["lr"] = learning_rate(config, step)
            if layout is torch.channels_last:
                frames = frames.flatten(0, 1).contiguous(memory_format=layout).unflatten(0, frames.shape[:2])
            losses = train_step(model, optimizers, frames, config, shift, precision.autocast(),
                                partner=dist.shuffled_partner, update=precision.update)
            precision.end_step()
            losses = dist.mean(losses)  # the global batch's losses, the same on every rank
            if not torch.isfinite(losses["total"]) or not torch.isfinite(losses["scene"]):
                last = f"the last good checkpoint ({ckpt_path}) is kept" if ckpt_path else "nothing was saved"
                raise TrainingDiverged(
                    f"loss became {losses['total'].item()} at step {step + 1}; {last}. "
                    "Try a lower learning rate (--lr) or smaller loss weights."
                )
            step += 1
            for key, value in losses.items():
                sums[key] = sums.get(key, 0.0) + value
            count += 1
            if step % config.log_every == 0 or step == config.steps:
                now = time.perf_counter()
                elapsed += now - tick
                tick = now
                row = {"step": step, **{k: float(v) / count for k, v in sums.items()}, "time": round(elapsed, 3)}
                history.append(row)
                sums, count = {}, 0
                bar.set_postfix(rec=f"{row['rec']:.4f}", sim=f"{row['sim']:.4f}", adv=f"{row['adv']:.3f}", C_acc=f"{row['scene_acc']:.2f}")
                if callback is not None and dist.is_main:
                    callback(step, history, model)
            if step % config.image_every == 0 or step == config.steps:
                pictures(step)
            if step % config.checkpoint_every == 0 or step == config.steps:
                save(step)
            bar.update(1)
    finally:
        bar.close()
    # hand back the ordinary layout, so the model computes exactly like one rebuilt by load_drnet
    model = dist.release(model).to(memory_format=torch.contiguous_format).eval()
    return FitResult(model=model, config=config, history=history, out_dir=out, step=step)
