"""Clip sources: every dataset behind one small interface, chosen by name.

A *source* draws batches of clips. Whatever the data (bouncing digits, real
footage, a turntable of objects), training and evaluation only need

    clips = source.sample(batch_size, generator=g, times=times)
    clips.frames        # float32 (B, T, C, H, W) in [0, 1]

plus three facts about the frames: ``image_size`` (H = W), ``channels`` (C)
and ``seq_len`` (frames per clip). ``times`` (B, T') picks chosen frames of
every clip (a DRNet step needs only four), so a source never has to draw
frames nobody looks at. The same seed (or the same generator state) always
gives the same clips. Ground truth is optional: Moving MNIST's clips also
carry digits and positions, real video carries where each clip came from.

A source is described by a frozen config dataclass that carries its
``source`` name, ``image_size``, ``seq_len`` and ``split`` (``"train"`` or
``"test"``) fields and a ``num_channels`` property. Checkpoints store
``config.to_dict()``; :func:`config_from_dict` reads it back, and a dict
without a ``source`` name is a Moving MNIST config (checkpoints written before
there were other sources load unchanged).

Adding a dataset means one new module in ``drnet_lite/data/`` that calls
:func:`register_source` when imported, and one import line in
``drnet_lite/data/__init__.py``; this module knows none of the sources.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Protocol, runtime_checkable

import torch

#: The source a config dict without a ``source`` field describes (checkpoints from before the registry).
DEFAULT_SOURCE = "moving-mnist"


@runtime_checkable
class ClipBatch(Protocol):
    """What every source's ``sample`` returns: frames (B, T, C, H, W) float32 in [0, 1] and their times (B, T)."""

    frames: torch.Tensor
    times: torch.Tensor


@runtime_checkable
class ClipSource(Protocol):
    """A distribution of clips that can be sampled in batches.

    ``sample(batch_size, generator=None, seed=None, times=None)``: with a
    ``generator`` the draws continue its stream; with a ``seed`` a fresh
    generator is used; ``times`` is an optional int64 (B, T') of frame indices
    in ``[0, seq_len)`` per clip (default: every frame).
    """

    config: Any

    @property
    def image_size(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def seq_len(self) -> int: ...

    def sample(self, batch_size: int, generator: torch.Generator | None = None, seed: int | None = None,
               times: torch.Tensor | None = None) -> ClipBatch: ...


class ConfiguredSource:
    """What a source states about its clips, read from its config: ``image_size``, ``channels``
    (``config.num_channels``) and ``seq_len``. Every built-in source inherits it, so only ``sample``
    and what is special to the data are written per source."""

    config: Any

    @property
    def image_size(self) -> int:
        """Frame height and width in pixels."""
        return self.config.image_size

    @property
    def channels(self) -> int:
        """Channels per frame (1 grey; more for colour or per-digit channels)."""
        return self.config.num_channels

    @property
    def seq_len(self) -> int:
        """Frames per clip."""
        return self.config.seq_len


class WindowIndex:
    """Every clip of ``seq_len`` frames inside spans of frames (video scenes, KTH segments), as one flat index.

    Span ``i`` of ``lengths[i]`` frames holds ``lengths[i] - seq_len + 1`` clips (one per first frame);
    :meth:`draw` picks clips uniformly over all of them, so a long span is drawn more often than a
    short one, in proportion to its clips.
    """

    def __init__(self, lengths: torch.Tensor, seq_len: int) -> None:
        self.ends = (lengths - seq_len + 1).cumsum(0)  # (S,) clips in spans 0..i

    def __len__(self) -> int:
        return int(self.ends[-1])

    def draw(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(span, start)``, each (B,): the span of every clip and its first frame within that span."""
        window = torch.randint(len(self), (batch_size,), generator=generator)
        span = torch.searchsorted(self.ends, window, right=True)
        before = torch.where(span > 0, self.ends[(span - 1).clamp(min=0)], torch.zeros_like(span))
        return span, window - before


@dataclass(frozen=True)
class SourceEntry:
    """A registered source: its name, its config class and ``factory(config, root=..., device=...)``."""

    name: str
    config_class: type
    factory: Callable[..., ClipSource]
    description: str = ""


_REGISTRY: dict[str, SourceEntry] = {}


def register_source(name: str, config_class: type, factory: Callable[..., ClipSource], description: str = "") -> None:
    """Make a source available by ``name``.

    ``config_class`` is a dataclass whose ``source`` field defaults to ``name``;
    ``factory(config, root=None, device="cpu")`` builds the source (``root``:
    where the source keeps its data or cache, ``None`` for its default).
    Registering the same name again with the same classes is a no-op (module
    reloads); another class under a taken name is an error.
    """
    if not dataclasses.is_dataclass(config_class):
        raise TypeError(f"config_class of source {name!r} must be a dataclass, got {config_class!r}")
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    missing = {"source", "image_size", "seq_len", "split"} - set(fields)
    if missing:
        raise TypeError(f"config class {config_class.__name__} of source {name!r} lacks field(s) {sorted(missing)}")
    if fields["source"].default != name:
        raise TypeError(f"{config_class.__name__}.source must default to {name!r}, got {fields['source'].default!r}")
    old = _REGISTRY.get(name)
    if old is not None and old.config_class.__qualname__ != config_class.__qualname__:
        raise ValueError(f"a source named {name!r} is already registered ({old.config_class.__name__})")
    _REGISTRY[name] = SourceEntry(name, config_class, factory, description)


def registered_sources() -> dict[str, SourceEntry]:
    """Every registered source by name (importing :mod:`drnet_lite.data` registers the built-in ones)."""
    return dict(_REGISTRY)


def source_names() -> list[str]:
    """The names :func:`make_source` accepts, sorted (for ``--help`` and error messages)."""
    return sorted(registered_sources())


def _entry(name: str) -> SourceEntry:
    sources = registered_sources()
    if name not in sources:
        raise ValueError(f"unknown data source {name!r}; registered sources: {', '.join(sorted(sources))}")
    return sources[name]


def source_name(config: Any) -> str:
    """The source name a data config carries."""
    name = getattr(config, "source", None)
    if not isinstance(name, str):
        raise TypeError(f"{type(config).__name__} is not a data config: it has no 'source' name field")
    return name


def make_source(config: Any, root: Any = None, device: str | torch.device = "cpu") -> ClipSource:
    """Build the source a config describes (its ``source`` field picks the registered factory)."""
    entry = _entry(source_name(config))
    if not isinstance(config, entry.config_class):
        raise TypeError(f"source {entry.name!r} needs a {entry.config_class.__name__}, got {type(config).__name__}")
    return entry.factory(config, root=root, device=device)


def config_from_dict(d: dict[str, Any]) -> Any:
    """A data config from its ``to_dict()`` form; no ``source`` name means Moving MNIST.

    Unknown keys are an error naming them (a config from a newer version, or
    a typo), so a checkpoint is never read as something it is not.
    """
    d = dict(d)
    entry = _entry(d.get("source", DEFAULT_SOURCE))
    known = {f.name for f in dataclasses.fields(entry.config_class)}
    unknown = set(d) - known
    if unknown:
        raise ValueError(f"{entry.config_class.__name__} has no field(s) {sorted(unknown)}; known: {sorted(known)}")
    d["source"] = entry.name
    return entry.config_class(**d)


def config_fields(config_or_class: Any) -> set[str]:
    """Field names of a data config (or its class)."""
    return {f.name for f in dataclasses.fields(config_or_class)}


def for_split(config: Any, split: str, seq_len: int | None = None) -> Any:
    """The same data config for another split (and optionally another clip length)."""
    changes: dict[str, Any] = {"split": split}
    if seq_len is not None:
        changes["seq_len"] = seq_len
    return dataclasses.replace(config, **changes)


def generator_for(generator: torch.Generator | None, seed: int | None) -> torch.Generator | None:
    """The generator a ``sample`` call draws from: ``generator``, else a fresh one seeded with ``seed``,
    else None (torch's global generator)."""
    if generator is None and seed is not None:
        generator = torch.Generator()
        generator.manual_seed(int(seed))
    return generator


def sample_inputs(batch_size: int, generator: torch.Generator | None, seed: int | None, times: torch.Tensor | None,
                  seq_len: int) -> tuple[torch.Generator | None, torch.Tensor]:
    """What every ``sample`` checks first: ``batch_size >= 0``, then the generator
    (:func:`generator_for`) and the times (:func:`check_times`) it draws with."""
    if batch_size < 0:
        raise ValueError(f"batch_size must be >= 0, got {batch_size}")
    return generator_for(generator, seed), check_times(times, batch_size, seq_len)


def check_times(times: torch.Tensor | None, batch_size: int, seq_len: int) -> torch.Tensor:
    """``times`` as int64 (B, T') in ``[0, seq_len)``, or every frame when None; a clear error otherwise."""
    if times is None:
        return torch.arange(seq_len).expand(batch_size, -1)
    if times.dim() != 2 or times.shape[0] != batch_size:
        raise ValueError(f"times must be (batch_size, T) = ({batch_size}, T), got {tuple(times.shape)}")
    times = times.to(torch.int64)
    if times.numel() and (int(times.min()) < 0 or int(times.max()) >= seq_len):
        raise ValueError(f"times must lie in [0, seq_len) = [0, {seq_len}), got {int(times.min())}..{int(times.max())}")
    return times
