"""Data: clip sources behind one interface (:mod:`.source`), chosen by name.

Built in: ``"moving-mnist"`` (bouncing MNIST digits with exact ground truth)
and ``"video"`` (real footage from any video files, :mod:`.video`).
"""
from .mnist import MNIST, MNISTChecksumError, MNISTNotFoundError, download_mnist, load_mnist, data_root
from .moving_mnist import (
    CHANNEL_MODES,
    Clips,
    MovingMNIST,
    MovingMNISTConfig,
    MovingMNISTDataset,
    MovingMNISTStream,
    bounce,
    load_standard_test_set,
    render,
    save_standard_test_set,
)
from .source import (
    ClipBatch,
    ClipSource,
    ConfiguredSource,
    config_from_dict,
    for_split,
    make_source,
    register_source,
    registered_sources,
    source_names,
)

__all__ = [
    "MNIST", "MNISTChecksumError", "MNISTNotFoundError", "download_mnist", "load_mnist", "data_root",
    "CHANNEL_MODES", "Clips", "MovingMNIST", "MovingMNISTConfig", "MovingMNISTDataset",
    "MovingMNISTStream", "bounce", "load_standard_test_set", "render", "save_standard_test_set",
    "ClipBatch", "ClipSource", "ConfiguredSource", "config_from_dict", "for_split", "make_source", "register_source",
    "registered_sources", "source_names",
]
