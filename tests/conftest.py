"""Shared fixtures: where the real MNIST files are, and cached Moving MNIST generators.

The MNIST files are never downloaded by the tests. They are read from the
folder named by ``DRNET_DATA`` (CI sets it to ``../shared/data``); tests that
need them are skipped, with the reason, when it is unset or incomplete.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from drnet_lite.data.mnist import ENV_VAR, MNIST_FILES, find_raw_folder
from drnet_lite.data.moving_mnist import MovingMNIST, MovingMNISTConfig


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The data root named by ``$DRNET_DATA``; skips the test if MNIST is not there."""
    value = os.environ.get(ENV_VAR)
    if not value:
        pytest.skip(f"needs the real MNIST files: set {ENV_VAR} to a folder holding MNIST/raw/")
    root = Path(value).expanduser()
    if find_raw_folder(root) is None:
        pytest.skip(
            f"needs the real MNIST files: {ENV_VAR}={root} holds neither {root / 'MNIST' / 'raw'} "
            f"nor {root} with all of {', '.join(MNIST_FILES)}"
        )
    return root


@pytest.fixture(scope="session")
def mnist_raw(mnist_root: Path) -> Path:
    """The folder under :func:`mnist_root` that holds the four ``.gz`` files."""
    folder = find_raw_folder(mnist_root)
    assert folder is not None
    return folder


@pytest.fixture(scope="session")
def moving_mnist(mnist_root: Path):
    """Factory ``moving_mnist(**config_fields) -> MovingMNIST``, cached per config.

    Building a generator loads an MNIST split and resizes all of its digits
    (up to ~2 s and hundreds of MB for large digit sizes), and that part depends
    only on ``(split, digit_size)``. So generators that differ in anything else
    (image size, speed, channels, ...) share one set of digit images: a cached
    generator is shallow-copied and given the new config.
    """
    by_config: dict[MovingMNISTConfig, MovingMNIST] = {}
    by_digits: dict[tuple[str, int], MovingMNIST] = {}

    def make(**fields) -> MovingMNIST:
        config = MovingMNISTConfig(**fields)
        if config not in by_config:
            key = (config.split, config.digit_size)
            if key in by_digits:
                generator = copy.copy(by_digits[key])
                generator.config = config
            else:
                generator = by_digits[key] = MovingMNIST(config, root=mnist_root)
            by_config[config] = generator
        return by_config[config]

    return make
