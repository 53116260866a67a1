"""Data: clip sources behind one interface (:mod:`.source`), chosen by name.

Built in: ``"moving-mnist"`` (bouncing MNIST digits with exact ground truth),
``"video"`` (real footage from any video files, :mod:`.video`), ``"kth"``,
``"turntable"`` and ``"norb"``. :mod:`.source` keeps the registry and knows no
source: each source module registers itself when it is imported, and this
package imports every built-in one, so importing any ``drnet_lite.data`` module
fills the registry. A new source is one module here plus one line below.
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
from . import kth_source, norb, turntable, video  # noqa: F401,E402  (each registers itself; moving_mnist is above)

__all__ = [
    "MNIST", "MNISTChecksumError", "MNISTNotFoundError", "download_mnist", "load_mnist", "data_root",
    "CHANNEL_MODES", "Clips", "MovingMNIST", "MovingMNISTConfig", "MovingMNISTDataset",
    "MovingMNISTStream", "bounce", "load_standard_test_set", "render", "save_standard_test_set",
    "ClipBatch", "ClipSource", "ConfiguredSource", "config_from_dict", "for_split", "make_source", "register_source",
    "registered_sources", "source_names",
]
