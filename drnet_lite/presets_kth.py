"""KTH presets: the skip-connection DRNet and its pose LSTM, at 64 and 128 pixels.

The paper (Denton and Birodkar, NeurIPS 2017, arXiv 1705.10915) trains on KTH
with the decoder taking skip connections from the content encoder (a U-Net
whose skips come only from the content frame), so the background does not
have to squeeze through the content vector.

``kth-128`` keeps the paper's resolution and the reference settings as far as
they are recorded: 128x128 grey, width nf = 64, content 128, pose 10, skips,
Adam lr 2e-3 (beta1 0.5), batch 100, alpha = 1, beta = 1e-4, max_step 20,
scene discriminator of 100 hidden units. (The paper's content encoder at 128
may be VGG-like; here both encoders are the DCGAN stack with one more stage.)

``kth-64`` is sized for one Colab GPU and a bounded number of minutes: 64x64,
width 32, batch 64, 20,000 steps, and the two changes that the Moving MNIST
lite preset measured to matter for content (``normalize_content`` so content
cannot collapse, the adversary at 0.1 so pose cannot carry identity).
It has not been trained on real KTH here (KTH cannot be fetched on our
machines): notebook 09 trains it on Colab and reports what it reaches.

The pose LSTMs observe 10 frames and predict 10 while training, as in the
paper; MCnet's protocol then rolls them out for 20 frames.
"""
from __future__ import annotations

import dataclasses

from .data.kth_source import KTHConfig
from .models import DRNetConfig
from .predict import DEFAULT_LSTM_PRESET, LSTM_PRESETS, LSTMConfig
from .train import PRESETS, TrainConfig


def kth_128() -> TrainConfig:
    """The paper's KTH setting as recorded (see the module docstring)."""
    data = KTHConfig(image_size=128, seq_len=21)
    model = DRNetConfig(image_size=128, channels=1, content_dim=128, pose_dim=10, width=64, skip=True,
                        discriminator_hidden=100)
    return TrainConfig(model=model, data=data, steps=100_000, batch_size=100, lr=2e-3, beta1=0.5,
                       similarity_weight=1.0, adversarial_weight=1e-4, max_step=20)


def kth_64() -> TrainConfig:
    """A skip DRNet for one Colab GPU in minutes (see the module docstring)."""
    data = KTHConfig(image_size=64, seq_len=21)
    model = DRNetConfig(image_size=64, channels=1, content_dim=128, pose_dim=10, width=32, skip=True,
                        normalize_content=True, discriminator_hidden=100)
    return TrainConfig(model=model, data=data, steps=20_000, batch_size=64, lr=2e-3, beta1=0.5,
                       similarity_weight=1.0, adversarial_weight=0.1, max_step=20,
                       log_every=50, image_every=1000, checkpoint_every=1000)


def kth_lstm_128() -> LSTMConfig:
    """The reference pose LSTM (2 x 256, Adam 2e-4, beta1 0.9, batch 100), 10 observed + 10 predicted."""
    return dataclasses.replace(LSTMConfig(), observed=10, predicted=10)


def kth_lstm_64() -> LSTMConfig:
    """The reference network, 10 observed + 10 predicted, trained faster: lr 1e-3 falling to 0 over
    the second half (measured on Moving MNIST, see ``lstm-lite``), 6,000 steps of fresh clips."""
    return dataclasses.replace(LSTMConfig(), observed=10, predicted=10, lr=1e-3, lr_decay=0.5, steps=6000,
                               log_every=25)


PRESETS.update({"kth-64": kth_64, "kth-128": kth_128})
LSTM_PRESETS.update({"kth-64-lstm": kth_lstm_64, "kth-128-lstm": kth_lstm_128})
DEFAULT_LSTM_PRESET.setdefault("kth", "kth-64-lstm")  # train-lstm without --preset on a KTH DRNet
