"""Data: real MNIST (offline first) and Moving MNIST with ground truth."""
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

__all__ = [
    "MNIST", "MNISTChecksumError", "MNISTNotFoundError", "download_mnist", "load_mnist", "data_root",
    "CHANNEL_MODES", "Clips", "MovingMNIST", "MovingMNISTConfig", "MovingMNISTDataset",
    "MovingMNISTStream", "bounce", "load_standard_test_set", "render", "save_standard_test_set",
]
