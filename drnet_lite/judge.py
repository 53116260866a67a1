"""The digit judge: a small MNIST classifier that reads digits out of frames.

Disentanglement is measured by asking it which digit a swapped frame shows at
the position where the pose clip puts it. It is trained by the project on the
MNIST training split (``python -m drnet_lite train-judge``) and must reach at
least 99.0% on the MNIST test split; shipped weights live in ``assets/``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .assets import REPO_ASSETS, asset_path
from .checkpoint import load_checkpoint, save_checkpoint
from .data import load_mnist
from .metrics import digit_windows

DEFAULT_JUDGE = REPO_ASSETS / "digit_judge.pt"


class DigitJudge(nn.Module):
    """28x28 grey digit -> 10 logits (two conv blocks and an MLP, ~0.1M parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128),
                                        nn.ReLU(inplace=True), nn.Linear(128, 10))

    def forward(self, digits: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(digits))


def _as_inputs(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(images)).float().div_(255.0)[:, None]


@torch.inference_mode()
def judge_accuracy(judge: DigitJudge, split: str = "test", root: str | os.PathLike | None = None, batch: int = 1000) -> float:
    """Accuracy of the judge on an MNIST split."""
    mnist = load_mnist(split, root=root)
    judge.eval()
    correct = 0
    for start in range(0, len(mnist.labels), batch):
        x = _as_inputs(mnist.images[start:start + batch])
        correct += int((judge(x).argmax(1).numpy() == mnist.labels[start:start + batch]).sum())
    return correct / len(mnist.labels)


def train_judge(epochs: int = 3, batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
                root: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
                progress: bool = True) -> tuple[DigitJudge, float]:
    """Train the judge on MNIST train (small random shifts as augmentation); returns (judge, test accuracy)."""
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    mnist = load_mnist("train", root=root)
    images, labels = _as_inputs(mnist.images), torch.from_numpy(np.array(mnist.labels))
    judge = DigitJudge()
    optimizer = torch.optim.Adam(judge.parameters(), lr=lr)
    rng = torch.Generator().manual_seed(seed)
    steps = epochs * (len(labels) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr * 3, total_steps=steps)
    bar = tqdm(total=steps, disable=not progress, desc="digit judge")
    judge.train()
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=rng)
        for start in range(0, len(labels) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            x = images[idx]
            dy, dx = (int(v) for v in torch.randint(-2, 3, (2,), generator=rng))
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(judge(x), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    accuracy = judge_accuracy(judge, "test", root=root)
    if out is not None:
        save_checkpoint(judge_payload(judge, accuracy, epochs, seed), out)
    return judge.eval(), accuracy


def judge_payload(judge: DigitJudge, accuracy: float, epochs: int, seed: int) -> dict:
    """What a judge checkpoint holds."""
    return {"kind": "digit_judge", "state": judge.state_dict(), "test_accuracy": accuracy, "epochs": epochs, "seed": seed}


def load_judge(path: str | os.PathLike | None = None) -> DigitJudge:
    """Load the judge's weights (default: the shipped ``assets/digit_judge.pt``)."""
    path = Path(path) if path is not None else asset_path("digit_judge.pt")
    if not path.is_file():
        how = "--replace-asset" if path.resolve() == DEFAULT_JUDGE.resolve() else f"--out {path}"
        raise FileNotFoundError(f"no digit judge at {path}; make one with `python -m drnet_lite train-judge {how}`")
    payload = load_checkpoint(path, kind="digit_judge")
    judge = DigitJudge()
    judge.load_state_dict(payload["state"])
    return judge.eval()


def crop_digits(frames: torch.Tensor, positions: torch.Tensor, digit_size: int, channels: str = "grey") -> torch.Tensor:
    """Cut the digit boxes out of frames for the judge.

    Args:
        frames: (N, C, S, S); in ``"grey"`` mode C is 1.
        positions: (N, K, 2) top-left (row, col) of each digit box.
        digit_size: box size d.
        channels: ``"grey"`` or ``"per-digit"`` (digit k read from channel k).

    Returns:
        (N, K, 1, 28, 28) crops resized to the judge's input size.
    """
    boxes = digit_windows(frames, positions, digit_size, channels)
    if boxes.shape[2] != 1:
        raise ValueError(f"the judge reads one channel per digit; got {boxes.shape[2]} channels in {channels!r} mode")
    n, k = positions.shape[:2]
    crops = boxes.reshape(n * k, 1, digit_size, digit_size).float()
    if digit_size != 28:
        crops = F.interpolate(crops, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return crops.view(n, k, 1, 28, 28)


@torch.inference_mode()
def read_digits(judge: DigitJudge, frames: torch.Tensor, positions: torch.Tensor, digit_size: int, channels: str = "grey") -> torch.Tensor:
    """The judge's reading (N, K) of the digit at every box of every frame."""
    crops = crop_digits(frames, positions.to(frames.device), digit_size, channels)
    judge = judge.to(frames.device).eval()
    return judge(crops.flatten(0, 1)).argmax(1).view(crops.shape[:2])
