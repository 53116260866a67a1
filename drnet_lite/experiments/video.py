"""The real-video experiment's presets: a skip DRNet on tiles of a video, and its pose LSTM.

Its numbers are the ones every source gets (:mod:`drnet_lite.evaluate_frames`:
swaps against targets, moved-pixel scores; :mod:`drnet_lite.evaluate_prediction`:
rollout curves), so this module holds presets only.
"""
from __future__ import annotations

import dataclasses

from ..models import DRNetConfig
from ..predict import LSTMConfig
from ..train import TrainConfig


def video_64() -> TrainConfig:
    """A skip DRNet for real video on a CPU: tiles of ``vtest.avi`` (pass other files with ``videos=``).

    The data: Debian opencv-doc's ``vtest.avi`` (795 frames of a plaza seen
    from above, 768 x 576, 10 fps) cut 3 x 4 into twelve 192 x 192 tiles, each
    its own scene, resized to 64 x 64 grey; the last 20% of the frames are the
    test split. Content is the tile's scene (lawn, path, a building's edge),
    pose the people walking through it.

    The model: the skip variant the paper uses for KTH: the decoder also gets
    the content encoder's feature maps, so the background detail need not pass
    through the vectors. Width 16, content 64, pose 10, batch 32. Content and
    pose frames up to max_step = 10 frames (1 s) apart: people move, the
    scene does not. alpha 0.1, constant lr; 750 steps (about 0.1 CPU seconds
    each on one idle core; assets/README.md has the measured runs).

    **beta 0: no scene discriminator**, against the paper. On this footage the
    paper's adversary, at the weights tried (0.01 and 0.1, and 0.1 with a C that
    standardises pose), leaves a pose the decoder ignores: every column of a swap
    matrix alike (``pose_effect`` 0.003 or less, against 0.77 without it; 2,000
    steps each), the walkers never drawn from pose. Without it the pose draws them, and names its
    tile 88% of the time against a floor of 58-66% for any pose that says where
    people walk (assets/README.md, notebook 08). ``adversarial_weight=0.1`` gives
    the paper's recipe back.
    """
    from ..data.video import VTEST, VideoConfig

    data = VideoConfig(videos=(str(VTEST),), image_size=64, channels="grey", resize="crop", tiles=(3, 4),
                       seq_len=30, split_by="time", test_fraction=0.2)
    model = DRNetConfig(image_size=64, channels=1, content_dim=64, pose_dim=10, width=16, skip=True,
                        normalize_content=True)
    return TrainConfig(model=model, data=data, steps=750, batch_size=32, lr=2e-3, beta1=0.5,
                       similarity_weight=0.1, adversarial_weight=0.0, max_step=10,
                       log_every=25, image_every=250, checkpoint_every=250)


def lstm_video() -> LSTMConfig:
    """The pose LSTM for the ``video-64`` DRNet: the reference network at half width (128 units), a bank
    of 300 pre-encoded 40-frame clips of the video's train split, 10 observed + 10 predicted frames,
    lr 1e-3 falling to 0 over the second half, 2,000 steps (a few CPU minutes)."""
    return dataclasses.replace(LSTMConfig(), hidden_size=128, predicted=10, lr=1e-3, lr_decay=0.5, steps=2000,
                               batch_size=32, bank_clips=300, bank_length=40, log_every=25)


PRESETS = {"video-64": video_64}
LSTM_PRESETS = {"lstm-video": lstm_video}
DEFAULT_LSTM_PRESET = "lstm-video"
