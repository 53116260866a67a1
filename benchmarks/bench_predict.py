"""Speed of the pose LSTM: training steps per second and rollout frames per second.

Prints, for the shipped mnist-lite DRNet (or a fresh one of the same shape when
no weights are shipped) and the reference 2 x 256 LSTM, batch 100, 10 + 10 frames:

* training steps/s when every step encodes fresh clips (the reference way) and
  when it cuts windows out of a pre-encoded bank (the lite preset), and the
  time to encode the bank;
* free-running rollout speed: predicted poses per second, and decoded frames
  per second, for a 500-step rollout of 100 clips.

Run: ``python benchmarks/bench_predict.py [--steps 30] [--threads 2]``.
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from drnet_lite.assets import REPO_ASSETS
from drnet_lite.data import MovingMNIST
from drnet_lite.models import DRNet
from drnet_lite.predict import (PoseLSTM, decode_poses, encode_sequence, generate_poses, lstm_loss,
                                teacher_forced)
from drnet_lite.presets import lstm_preset
from drnet_lite.train import load_drnet
from drnet_lite.presets import preset
from drnet_lite.train_lstm import PoseBank


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--bank-clips", type=int, default=200)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    weights = REPO_ASSETS / "mnist-lite.pt"
    if weights.is_file():
        drnet, drnet_config = load_drnet(weights)
    else:
        drnet_config = preset("mnist-lite")
        drnet = DRNet(drnet_config.model).eval()
    drnet = drnet.to(memory_format=torch.channels_last)
    config = lstm_preset("lstm-reference")
    data = MovingMNIST(dataclasses.replace(drnet_config.data, seq_len=config.seq_len))
    lstm = PoseLSTM.for_drnet(drnet, config)
    optimizer = torch.optim.Adam(lstm.parameters(), lr=config.lr)
    rng = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {config.batch_size}, "
          f"{config.observed} + {config.predicted} frames, LSTM {config.num_layers} x {config.hidden_size}")

    def step(pose: torch.Tensor, content: torch.Tensor) -> None:
        loss = lstm_loss(teacher_forced(lstm, pose, content), pose[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def fresh() -> tuple[torch.Tensor, torch.Tensor]:
        frames = data.sample(config.batch_size, generator=rng).frames
        frames = frames.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, frames.shape[:2])
        return encode_sequence(drnet, frames, content_time=config.observed - 1)

    start = time.perf_counter()
    bank = PoseBank.build(drnet, data, args.bank_clips, 100, seed=0)
    bank_seconds = time.perf_counter() - start
    frames_encoded = args.bank_clips * 100
    for name, batch in (("fresh clips every step", fresh),
                        ("windows of a pre-encoded bank", lambda: bank.windows(config.batch_size, config.seq_len,
                                                                               config.observed - 1, rng))):
        step(*batch())
        start = time.perf_counter()
        for _ in range(args.steps):
            step(*batch())
        rate = args.steps / (time.perf_counter() - start)
        print(f"training, {name:<32} {rate:7.1f} steps/s")
    print(f"encoding the bank: {frames_encoded:,} frames in {bank_seconds:.1f} s "
          f"({frames_encoded / bank_seconds:,.0f} frames/s, pose and content)")

    lstm.eval()
    observed, content = fresh()
    start = time.perf_counter()
    poses = generate_poses(lstm, observed[:, :config.observed], content, 500)
    pose_seconds = time.perf_counter() - start
    start = time.perf_counter()
    decode_poses(drnet, content, poses)
    decode_seconds = time.perf_counter() - start
    n = poses.shape[0] * poses.shape[1]
    print(f"rollout of 500 steps x {poses.shape[0]} clips: {n / pose_seconds:,.0f} poses/s, "
          f"{n / decode_seconds:,.0f} decoded frames/s")


if __name__ == "__main__":
    main()
