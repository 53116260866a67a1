"""Training the pose LSTM on a frozen DRNet, and loading it back.

Every step draws fresh clips of ``observed + predicted`` frames from the DRNet's
own clip source (train split; any registered source), encodes them with the frozen
encoders (eval mode, no gradients), and takes one Adam step on
:func:`drnet_lite.predict.lstm_loss` of the teacher-forced predictions.

The checkpoint records which DRNet the LSTM was trained on (its config and a
fingerprint of its weights), so the LSTM is never silently paired with
another DRNet.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from .checkpoint import CheckpointError, load_checkpoint, load_for_resume, portable_path, read_config
from .device import device_of, pick_device
from .data import ClipSource, for_split, make_source
from .distributed import current as distributed_context
from .loop import start_state, train_loop
from .models import DRNet
from .predict import LSTMConfig, PoseLSTM, encode_sequence, lstm_loss, teacher_forced
from .runs import CHECKPOINT_NAME, Run, open_run
from .train import TrainConfig, learning_rate, load_drnet, write_history_csv


def drnet_fingerprint(drnet: DRNet) -> str:
    """A short SHA-256 of the encoders' and decoder's weights (what the LSTM depends on)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(drnet.state_dict().items()):
        if name.startswith("scene_discriminator"):
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


@dataclass
class PoseBank:
    """Pose and content vectors of every frame of a fixed set of long clips.

    Attributes:
        pose: (N, L, pose_dim); content: (N, L, content_dim).
    """

    pose: torch.Tensor
    content: torch.Tensor

    @classmethod
    @torch.no_grad()
    def build(cls, drnet: DRNet, data: ClipSource, clips: int, length: int, seed: int, batch: int = 50,
              progress: bool = False) -> "PoseBank":
        """Encode ``clips`` seeded clips of ``length`` frames (drawn ``batch`` clips at a time)."""
        from tqdm.auto import tqdm

        g = torch.Generator().manual_seed(seed)
        times = torch.arange(length)
        poses, contents = [], []
        for start in tqdm(range(0, clips, batch), disable=not progress, desc="encoding the pose bank", leave=False):
            n = min(batch, clips - start)
            frames = data.sample(n, generator=g, times=times.expand(n, -1)).frames
            flat = frames.flatten(0, 1).contiguous(memory_format=torch.channels_last)
            poses.append(drnet.encode_pose(flat).view(n, length, -1))
            contents.append(drnet.encode_content(flat)[0].view(n, length, -1))
        return cls(torch.cat(poses), torch.cat(contents))

    def windows(self, batch_size: int, length: int, content_time: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Random windows: pose (B, length, pose_dim) and the content of frame ``content_time`` of each window."""
        n, total = self.pose.shape[:2]
        clip = torch.randint(n, (batch_size,), generator=generator)
        start = torch.randint(total - length + 1, (batch_size,), generator=generator)
        steps = start[:, None] + torch.arange(length)
        pose = self.pose[clip[:, None], steps]
        content = self.content[clip, start + content_time]
        return pose, content


@dataclass
class LSTMFitResult:
    lstm: PoseLSTM
    config: LSTMConfig
    history: list[dict[str, float]]
    out_dir: Path | None
    step: int

    @property
    def checkpoint(self) -> Path | None:
        return None if self.out_dir is None else self.out_dir / "checkpoint.pt"


def _payload(lstm: PoseLSTM, optimizer: torch.optim.Optimizer, config: LSTMConfig, drnet_config: TrainConfig,
             fingerprint: str, drnet_path: str | None, step: int, rng: torch.Generator,
             history: list[dict[str, float]], elapsed: float) -> dict[str, Any]:
    return {
        "kind": "pose_lstm",
        "config": config.to_dict(),
        "state": {k: v.detach().cpu() for k, v in lstm.state_dict().items()},
        "drnet": {"config": drnet_config.to_dict(), "fingerprint": fingerprint, "path": drnet_path or ""},
        "step": step,
        "history": history,
        "elapsed": elapsed,
        "optimizer": optimizer.state_dict(),
        "rng": {"data": rng.get_state(), "torch": torch.get_rng_state()},
    }


def fit_lstm(config: LSTMConfig, drnet: DRNet | str | os.PathLike, out_dir: str | os.PathLike | None = None,
             resume: bool = False, data_root: str | os.PathLike | None = None, progress: bool = True,
             drnet_config: TrainConfig | None = None,
             callback: Callable[[int, list[dict[str, float]], PoseLSTM], None] | None = None,
             overwrite: bool = False) -> LSTMFitResult:
    """Train the pose LSTM for ``config.steps`` steps in total on a frozen DRNet.

    Args:
        drnet: a DRNet checkpoint path, or a DRNet model (then pass its ``drnet_config``);
            it is frozen: put in eval mode, its parameters stop requiring gradients.
            A model passed in is trained against on ``config.device`` and handed back
            where it was, in the memory layout it had, even after a crash.
        out_dir: where ``checkpoint.pt`` and ``history.csv`` go (None: in memory).
        resume: continue from ``out_dir/checkpoint.pt`` (same config and DRNet).
        data_root: the data folder of the DRNet's source (MNIST folder; video: the frame cache).
        overwrite: replace the run already in ``out_dir`` (see :func:`drnet_lite.runs.open_run`).

    Ctrl-C stops after the step in progress and saves it (then raises
    :class:`~drnet_lite.runs.Interrupted`).

    Raises:
        TrainingDiverged: the loss became NaN/inf or exploded, or the weights became
            non-finite; the last good checkpoint is kept.
        RunFolderError: ``out_dir`` cannot be used.
    """
    config.validate()
    device = pick_device(config.device)
    drnet_path = None
    if not isinstance(drnet, DRNet):
        drnet_path = portable_path(drnet)
        drnet, drnet_config = load_drnet(drnet)
    elif drnet_config is None:
        raise ValueError("pass drnet_config (the TrainConfig of the DRNet) together with a DRNet model")
    if drnet_path is None:  # the caller's model: back where it was, in its layout, whatever happens
        home = device_of(drnet)
        layout = torch.channels_last if any(p.dim() == 4 and not p.is_contiguous() and p.is_contiguous(
            memory_format=torch.channels_last) for p in drnet.parameters()) else torch.contiguous_format
        try:
            return _fit_lstm(config, drnet, drnet_config, None, device, out_dir, resume, data_root, progress, callback,
                              overwrite)
        finally:
            drnet.to(home, memory_format=layout)
    return _fit_lstm(config, drnet, drnet_config, drnet_path, device, out_dir, resume, data_root, progress, callback,
                              overwrite)


def _fit_lstm(config: LSTMConfig, drnet: DRNet, drnet_config: TrainConfig, drnet_path: str | None, device: torch.device,
              out_dir, resume: bool, data_root, progress: bool, callback, overwrite: bool) -> LSTMFitResult:
    dist = distributed_context(device)  # torchrun: one process of several (else a world of one)
    device = dist.device(device)
    batch_size = dist.local_batch(config.batch_size)  # this process's share of the global batch
    drnet = drnet.to(device).eval()
    for p in drnet.parameters():
        p.requires_grad_(False)
    fingerprint = drnet_fingerprint(drnet)
    # channels_last: encoding is most of a step on a CPU, and about 1.9x faster in this layout
    drnet = drnet.to(memory_format=torch.channels_last)

    # rank 0 alone opens (probes, locks, cleans) the folder; if it refuses, every rank raises
    run = dist.on_main(lambda: open_run(out_dir, resume=resume, overwrite=overwrite)) or Run(None)
    out = run.folder
    ckpt_path = Path(out_dir) / CHECKPOINT_NAME if out_dir is not None else None  # every rank reads it on resume
    try:  # the setup: a failure here releases the folder
        torch.manual_seed(config.seed)
        lstm = dist.prepare(PoseLSTM.for_drnet(drnet, config).to(device))  # every rank starts from rank 0's weights
        optimizer = torch.optim.Adam(lstm.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
        rng, shared_rng = dist.generators(config.seed)  # the same generator in a world of one
        payload = load_for_resume(ckpt_path, "pose_lstm", config, LSTMConfig.from_dict) if resume else None
        if payload is not None:
            if payload["drnet"]["fingerprint"] != fingerprint:
                raise ValueError(f"--resume: {ckpt_path} was trained on another DRNet (fingerprint "
                                 f"{payload['drnet']['fingerprint']}, this one {fingerprint})")
            lstm.load_state_dict(payload["state"])
            optimizer.load_state_dict(payload["optimizer"])
        state = start_state(run, payload, lambda states: dist.restore_rng(states, rng, shared_rng))

        # the DRNet's own data, train split; clips as long as a training window, or a bank clip
        data_config = for_split(drnet_config.data, "train",
                                seq_len=config.bank_length if config.bank_clips else config.seq_len)
        data = make_source(data_config, root=data_root, device=device)
        bank = None
        if config.bank_clips:
            bank = PoseBank.build(drnet, data, config.bank_clips, config.bank_length, seed=config.seed + 1,
                                  progress=progress and dist.is_main)

        def batch() -> tuple[torch.Tensor, torch.Tensor]:
            if bank is not None:
                return bank.windows(batch_size, config.seq_len, config.observed - 1, rng)
            frames = data.sample(batch_size, generator=rng).frames
            frames = frames.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, frames.shape[:2])
            pose, content = encode_sequence(drnet, frames, content_time=config.observed - 1)
            return pose.to(device), content.to(device)

        def save(at_step: int) -> None:  # every rank checks the (identical) state is finite; rank 0 writes
            states = dist.rng_states(rng, shared_rng)  # a collective: every rank takes part
            payload = _payload(lstm, optimizer, config, drnet_config, fingerprint, drnet_path, at_step, rng, state.history,
                               state.elapsed)
            payload["rng"].update(states)
            payload["log_partial"] = state.partial_record()
            run.save(payload, after=lambda: write_history_csv(state.history, out / "history.csv"))
    except BaseException:
        run.close()
        raise

    def one_step(at: int) -> dict[str, float]:
        pose, content = batch()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, at)
        loss = lstm_loss(teacher_forced(lstm, pose, content), pose[:, 1:])
        mse = dist.mean({"mse": loss.detach()})["mse"]  # the global batch's loss, the same on every rank
        run.check_losses({"mse": mse}, at + 1)  # before the update: a NaN step never reaches the weights
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        dist.average_gradients(optimizer)  # the gradient of the global batch's mean loss
        optimizer.step()
        return {"mse": mse.item()}

    lstm.train()
    try:
        train_loop(run, state, config.steps, one_step, save, config.log_every, config.checkpoint_every,
                   progress=progress and dist.is_main, desc="pose LSTM", postfix=lambda row: dict(mse=f"{row['mse']:.5f}"),
                   on_log=None if callback is None or not dist.is_main else (lambda at, rows: callback(at, rows, lstm)),
                   agree=dist.any)
    finally:
        drnet.to(memory_format=torch.contiguous_format)  # a DRNet passed in gets its usual layout back, even after a crash
    step, history = state.step, state.history
    return LSTMFitResult(lstm=lstm.eval(), config=config, history=history, out_dir=out, step=step)


def load_pose_lstm(path: str | os.PathLike, drnet: DRNet | None = None,
                   device: torch.device | str = "cpu") -> tuple[PoseLSTM, LSTMConfig, dict[str, Any]]:
    """Rebuild a trained pose LSTM (eval mode).

    Args:
        drnet: if given, it must be the DRNet the LSTM was trained on (checked
            by fingerprint); otherwise a :class:`CheckpointError` says so.

    Returns:
        the LSTM, its config, and the record of its DRNet
        (``{"config", "fingerprint", "path"}``).
    """
    payload = load_checkpoint(path, kind="pose_lstm", map_location="cpu")
    config = read_config(payload, path, LSTMConfig.from_dict)
    record = payload.get("drnet")
    drnet_config = read_config(record if isinstance(record, dict) else {}, f"{path} (its DRNet's record)",
                               TrainConfig.from_dict)
    try:
        lstm = PoseLSTM(drnet_config.model.pose_dim, drnet_config.model.content_dim, config.hidden_size, config.num_layers)
        lstm.load_state_dict(payload["state"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: checkpoint does not match the pose LSTM it describes: {exc}") from exc
    if drnet is not None:
        check_drnet(record, drnet, path)
    return lstm.to(device).eval(), config, record


def check_drnet(record: dict[str, Any], drnet: DRNet, path: str | os.PathLike) -> None:
    """Raise :class:`CheckpointError` unless ``drnet`` is the DRNet that the LSTM at ``path`` (its
    DRNet ``record``, as :func:`load_pose_lstm` returns it) was trained on."""
    if drnet_fingerprint(drnet) != record["fingerprint"]:
        raise CheckpointError(
            f"{path} was trained on another DRNet (fingerprint {record['fingerprint']}"
            f"{', from ' + record['path'] if record.get('path') else ''}); pass the DRNet checkpoint it was trained on"
        )
