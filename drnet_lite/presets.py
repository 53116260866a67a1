"""Every named preset, gathered from the experiments: ``preset("mnist-lite")``, ``lstm_preset("lstm-lite")``.

Each dataset's experiment module (:mod:`drnet_lite.experiments`) defines its
own presets next to its evaluation code and lists them in ``PRESETS`` (DRNet
configs) and ``LSTM_PRESETS`` (pose LSTM configs); this module joins those
tables in a fixed order and hands out copies with overrides. A new
experiment's presets are one line in each table below.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from .experiments import kth, moving_mnist, turntable, video
from .predict import LSTMConfig
from .train import TrainConfig, with_overrides

#: The DRNet presets by name (``python -m drnet_lite presets`` lists them in this order).
PRESETS: dict[str, Callable[[], TrainConfig]] = {**moving_mnist.PRESETS, **video.PRESETS, **turntable.PRESETS,
                                                 **kth.PRESETS}
#: The pose LSTM presets by name.
LSTM_PRESETS: dict[str, Callable[[], LSTMConfig]] = {**moving_mnist.LSTM_PRESETS, **video.LSTM_PRESETS,
                                                     **kth.LSTM_PRESETS}
#: The LSTM preset ``train-lstm`` picks for a DRNet of each source, when none is named.
DEFAULT_LSTM_PRESET = {"moving-mnist": moving_mnist.DEFAULT_LSTM_PRESET, "video": video.DEFAULT_LSTM_PRESET,
                       "kth": kth.DEFAULT_LSTM_PRESET}


def preset(name: str, **overrides: Any) -> TrainConfig:
    """A named preset (``mnist-paper``, ``mnist-lite``, ``mnist-lab``, ``mnist2-lite``: Moving MNIST; ``video-64``:
    real video; ``turntable-lite``, ``norb``; ``kth-64``, ``kth-128``) with optional flat overrides
    (:func:`~drnet_lite.train.with_overrides`)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return with_overrides(PRESETS[name](), **overrides)


def lstm_preset(name: str, **overrides: Any) -> LSTMConfig:
    """A named LSTM preset with optional overrides (``None`` values ignored)."""
    if name not in LSTM_PRESETS:
        raise ValueError(f"unknown LSTM preset {name!r}; choose one of {sorted(LSTM_PRESETS)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    known = {f.name for f in dataclasses.fields(LSTMConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown LSTM setting(s) {sorted(unknown)}; known: {sorted(known)}")
    return dataclasses.replace(LSTM_PRESETS[name](), **overrides)
